/*
 * pbdecode [-bx] [-cv] [file]: decode one event payload (PROTOCOL.md 7)
 * with the strict decoder of common/pb.h and print it as one line of
 * JSON, keys named after the protobuf fields in camelCase, absent fields
 * left out.  Input is raw bytes, or base64 (-b, as in a SyncEventRequest)
 * or hex (-x, as sqlite3's hex() prints it), whitespace ignored; from
 * file or standard input.
 *
 *	-c	also fail unless the bytes are exactly what our encoder
 *		writes (field order, minimal varints, nothing empty)
 *	-v	wrap: {"size":N,"payloadHash":"...","canonical":B,
 *		"payload":{...}}
 *
 * Exit 0 when it decodes, 1 when it does not (the reason on stderr), 2 on
 * usage or input errors.
 */

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "jsonw.h"
#include "pb.h"
#include "sha256.h"

/* Hex and base64 take more than one byte per payload byte. */
#define MAX_INPUT	(2 * PB_MAX_PAYLOAD + 4096)

static __dead void
usage(void)
{
	fprintf(stderr, "usage: pbdecode [-b | -x] [-cv] [file]\n");
	exit(2);
}

static int
isws(int c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* In place; returns the byte count or -1. */
static ssize_t
unhex(uint8_t *buf, size_t len)
{
	size_t	i, n = 0;
	int	hi = -1, v;

	for (i = 0; i < len; i++) {
		if (isws(buf[i]))
			continue;
		if ((v = hexval(buf[i])) == -1)
			return (-1);
		if (hi == -1)
			hi = v;
		else {
			buf[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return (hi == -1 ? (ssize_t)n : -1);
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

/*
 * Standard alphabet with padding to a multiple of four, as Foundation's
 * base64EncodedString() writes; in place.
 */
static ssize_t
unbase64(uint8_t *buf, size_t len)
{
	size_t		 i, n = 0, q = 0, pad = 0;
	uint32_t	 acc = 0;
	int		 v;

	for (i = 0; i < len; i++) {
		if (isws(buf[i]))
			continue;
		if (buf[i] == '=') {
			if (q < 2 || ++pad > 2)
				return (-1);
			acc <<= 6;
			q++;
		} else {
			if (pad > 0 || (v = b64val(buf[i])) == -1)
				return (-1);
			acc = acc << 6 | (uint32_t)v;
			q++;
		}
		if (q == 4) {
			buf[n++] = (uint8_t)(acc >> 16);
			if (pad < 2)
				buf[n++] = (uint8_t)(acc >> 8);
			if (pad < 1)
				buf[n++] = (uint8_t)acc;
			acc = 0;
			q = 0;
			if (pad > 0)
				break;
		}
	}
	/* Nothing may follow the padding but whitespace. */
	for (i++; pad > 0 && i < len; i++)
		if (!isws(buf[i]))
			return (-1);
	return (q == 0 ? (ssize_t)n : -1);
}

static void
str(struct jsonw *w, const char *key, const char *v)
{
	if (v == NULL)
		return;
	jsonw_key(w, key);
	jsonw_string(w, v);
}

static void
emit(struct jsonw *w, const struct pb_payload *p)
{
	const struct pb_item	*it = &p->item;
	const struct pb_finding	*f = &p->finding;

	jsonw_object_begin(w);
	jsonw_key(w, "payloadVersion");
	jsonw_uint(w, p->version);
	if (p->has_item) {
		jsonw_key(w, "inventoryItem");
		jsonw_object_begin(w);
		str(w, "itemId", it->item_id);
		str(w, "surface", it->surface);
		str(w, "kind", it->kind);
		str(w, "name", it->name);
		str(w, "version", it->version);
		str(w, "path", it->path);
		if (it->origin != NULL || it->detail != NULL ||
		    it->installed_on_request != ITEM_BOOL_NIL) {
			jsonw_key(w, "provenance");
			jsonw_object_begin(w);
			str(w, "origin", it->origin);
			if (it->installed_on_request != ITEM_BOOL_NIL) {
				jsonw_key(w, "installedOnRequest");
				jsonw_bool(w, it->installed_on_request);
			}
			str(w, "detail", it->detail);
			jsonw_object_end(w);
		}
		jsonw_object_end(w);
	}
	if (p->has_finding) {
		jsonw_key(w, "finding");
		jsonw_object_begin(w);
		str(w, "id", f->id);
		str(w, "surface", f->surface);
		str(w, "itemId", f->item_id);
		str(w, "ruleId", f->rule_id);
		str(w, "title", f->title);
		str(w, "rationale", f->rationale);
		str(w, "severity", f->severity);
		str(w, "itemName", f->item_name);
		if (f->evidence_path != NULL || f->evidence_detail != NULL ||
		    f->matched_field != NULL || f->matched_value != NULL) {
			jsonw_key(w, "evidence");
			jsonw_object_begin(w);
			str(w, "path", f->evidence_path);
			str(w, "detail", f->evidence_detail);
			str(w, "matchedField", f->matched_field);
			str(w, "matchedValue", f->matched_value);
			jsonw_object_end(w);
		}
		str(w, "observedAt", f->observed_at);
		jsonw_object_end(w);
	}
	jsonw_object_end(w);
}

int
main(int argc, char *argv[])
{
	struct pb_payload	 p;
	struct jsonw		 w;
	FILE			*fp = stdin;
	uint8_t			*buf;
	const char		*out;
	char			 ebuf[256], hash[SHA256_HEX_BUFSZ];
	size_t			 len = 0, n;
	ssize_t			 dl;
	int			 ch, b64 = 0, hex = 0, canon = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "bcvx")) != -1) {
		switch (ch) {
		case 'b':
			b64 = 1;
			break;
		case 'c':
			canon = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'x':
			hex = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (b64 && hex))
		usage();
	if (argc == 1 && (fp = fopen(argv[0], "rb")) == NULL)
		err(2, "%s", argv[0]);
	if ((buf = malloc(MAX_INPUT + 1)) == NULL)
		err(2, NULL);
	while ((n = fread(buf + len, 1, MAX_INPUT + 1 - len, fp)) > 0)
		if ((len += n) > MAX_INPUT)
			errx(2, "input over %d bytes", MAX_INPUT);
	if (ferror(fp))
		err(2, "read");
	if (b64 || hex) {
		if ((dl = b64 ? unbase64(buf, len) : unhex(buf, len)) == -1)
			errx(2, "input is not %s", b64 ? "base64" : "hex");
		len = (size_t)dl;
	}
	if (pb_decode_payload(buf, len, &p, ebuf, sizeof(ebuf)) == -1) {
		fprintf(stderr, "pbdecode: %s\n", ebuf);
		return (1);
	}
	if (canon && !p.canonical) {
		fprintf(stderr, "pbdecode: decodes, but is not the canonical "
		    "encoding\n");
		pb_payload_free(&p);
		return (1);
	}
	if (sha256_hex(buf, len, hash) == -1)
		errx(2, "sha256");
	jsonw_init(&w, 0);
	if (verbose) {
		jsonw_object_begin(&w);
		jsonw_key(&w, "size");
		jsonw_uint(&w, len);
		jsonw_key(&w, "payloadHash");
		jsonw_string(&w, hash);
		jsonw_key(&w, "canonical");
		jsonw_bool(&w, p.canonical);
		jsonw_key(&w, "payload");
	}
	emit(&w, &p);
	if (verbose)
		jsonw_object_end(&w);
	if ((out = jsonw_result(&w, &n)) == NULL)
		errx(2, "JSON output failed");
	printf("%s\n", out);
	jsonw_free(&w);
	pb_payload_free(&p);
	free(buf);
	return (0);
}
