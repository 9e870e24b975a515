/*
 * libFuzzer harness for the parent's decoder of the scan child's answers
 * (scanproto_recv).  The first byte says how many files are outstanding
 * and with which parsers (the parent sent them); the rest is a stream
 * of messages, each a type byte, a 16-bit length and the payload.  The
 * decoder must refuse or accept without a crash, and whatever it hands
 * out must be sound: items whose strings are UTF-8 without NUL, whose
 * path is the file's label, and none for a failed file.
 */

#include <sys/types.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "kobangd.h"
#include "scanproto.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
text_ok(const char *s)
{
	return (s != NULL && utf8_valid(s, strlen(s)));
}

static void
check(const struct scan_result *res)
{
	size_t	i;

	if (res->status == SCAN_FAILED && (res->nitems != 0 ||
	    res->nissues == 0))
		abort();
	for (i = 0; i < res->nitems; i++) {
		const struct item	*it = &res->items[i];

		if (it->path != res->path || !text_ok(it->name) ||
		    !text_ok(it->origin) || it->kind >= KIND_COUNT ||
		    it->surface != res->surface ||
		    (it->version != NULL && !text_ok(it->version)) ||
		    (it->detail != NULL && !text_ok(it->detail)))
			abort();
	}
	for (i = 0; i < res->nissues; i++)
		if (!text_ok(res->issues[i].reason) ||
		    res->issues[i].code >= SCAN_ISSUE_COUNT)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum scan_parser	 parsers[] = { SCAN_PARSER_NPM_LOCK,
	    SCAN_PARSER_CLAUDE_MCP, SCAN_PARSER_CLAUDE_SETTINGS,
	    SCAN_PARSER_CLAUDE_PLUGIN_FILE, SCAN_PARSER_HASH_ONLY };
	static const uint32_t		 types[] = { IMSG_SCAN_ITEMS,
	    IMSG_SCAN_ISSUE, IMSG_SCAN_FILE_DONE, IMSG_SCAN_FILE };
	static int			 devnull = -1;
	struct imsgbuf			 ib;
	struct scanproto		*sp;
	struct scan_result		*res;
	struct scan_file		 f;
	size_t				 off, len;
	uint32_t			 i, n;
	int				 fd, r;

	if (size < 1)
		return (0);
	if (devnull == -1 && (devnull = open("/dev/null", O_RDONLY)) == -1)
		abort();
	if ((fd = dup(devnull)) == -1 || imsgbuf_init(&ib, fd) == -1 ||
	    scanproto_channel_init(&ib) == -1 ||
	    (sp = scanproto_new()) == NULL)
		abort();
	n = data[0] % 4 + 1;
	for (i = 0; i < n; i++) {
		memset(&f, 0, sizeof(f));
		f.scan_id = 9;
		f.file_id = i + 1;
		f.parser = parsers[(((data[0] >> 2) & 15) + i) % 5];
		f.surface = f.parser == SCAN_PARSER_NPM_LOCK ?
		    SURFACE_JAVASCRIPT : SURFACE_CLAUDE;
		f.flags = (data[0] >> 6) & SCAN_F_ALL;
		if (f.parser == SCAN_PARSER_HASH_ONLY) {
			f.kind = KIND_AGENT;
			strlcpy(f.name, "a.md", sizeof(f.name));
			strlcpy(f.origin, "claude-customization",
			    sizeof(f.origin));
		}
		strlcpy(f.path, "/home/u/p/file.json", sizeof(f.path));
		if (scanproto_send_file(sp, &ib, &f, dup(devnull)) == -1)
			abort();
	}

	for (off = 1; off + 3 <= size; off += 3 + len) {
		len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		if (len > size - off - 3)
			len = size - off - 3;
		r = scanproto_recv(sp, types[data[off] % 4], data + off + 3,
		    len, &res);
		if (r == -1)
			break;		/* the channel would be broken */
		if (r == 1) {
			check(res);
			scan_result_free(res);
		} else if (res != NULL)
			abort();
	}
	scanproto_free(sp);
	imsgbuf_clear(&ib);
	close(fd);
	return (0);
}
