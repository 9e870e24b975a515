/*
 * libFuzzer harness for the streaming JSON tokenizer (common/json.h).
 * The first input byte picks the flags and the read sizes, the rest is
 * the document.  Oracles: the whole document held in memory and the
 * same document pulled through a small growing window in odd-sized
 * reads give the same tokens and the same verdict; skipping the top
 * level value agrees with pulling it; every decoded string is valid
 * UTF-8; every number matches the RFC 8259 grammar.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	unsigned int	 step;
	unsigned int	 mod;
};

static ssize_t
rd_read(void *arg, void *buf, size_t len)
{
	struct rd	*r = arg;
	size_t		 n = r->step++ % r->mod + 1;

	if (n > len)
		n = len;
	if (n > r->len - r->off)
		n = r->len - r->off;
	memcpy(buf, r->p + r->off, n);
	r->off += n;
	return ((ssize_t)n);
}

/* A running digest of the token stream. */
static uint64_t
mix(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return (h);
}

static void
check_number(const char *s, size_t len)
{
	size_t	i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i >= len)
		abort();
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		abort();
	if (i < len && s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			abort();
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			abort();
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i != len)
		abort();
}

static uint64_t
pull(struct json *js, enum json_error *err, int *ntok)
{
	struct json_tok	tok;
	enum json_type	t;
	uint64_t	h = 0xcbf29ce484222325ULL;

	*ntok = 0;
	while ((t = json_next(js, &tok)) > JSON_EOF) {
		h = mix(h, &t, sizeof(t));
		if (t == JSON_KEY || t == JSON_STRING) {
			if (!utf8_valid(tok.s, tok.len))
				abort();
			h = mix(h, tok.s, tok.len);
		} else if (t == JSON_NUMBER) {
			check_number(tok.s, tok.len);
			h = mix(h, tok.s, tok.len);
		} else if (tok.s != NULL)
			abort();
		(*ntok)++;
	}
	if (t == JSON_ERROR && js->err == JSON_E_NONE)
		abort();
	if (t == JSON_EOF && (js->err != JSON_E_NONE || js->depth != 0))
		abort();
	/* Sticky. */
	if (json_next(js, &tok) != t)
		abort();
	*err = js->err;
	return (h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json	 js;
	struct json_tok	 tok;
	struct rd	 r;
	enum json_error	 e1, e2, e3;
	enum json_type	 t;
	uint64_t	 h1, h2;
	char		*copy;
	int		 flags, n1, n2;

	if (size < 1)
		return (0);
	flags = (data[0] & 1 ? JSON_F_COMMENTS : 0) |
	    (data[0] & 0x20 ? JSON_F_TRAILING : 0);
	r.mod = (data[0] >> 1) % 16 + 1;
	data++;
	size--;

	/* In memory, from an exact-size copy (overreads are caught). */
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	json_init_mem(&js, copy, size, flags);
	h1 = pull(&js, &e1, &n1);
	free(copy);

	/* Streaming through a 16-byte window that must grow. */
	r.p = data;
	r.len = size;
	r.off = 0;
	r.step = 0;
	if (json_init_stream(&js, rd_read, &r, 16, size + 16, flags) == -1)
		abort();
	h2 = pull(&js, &e2, &n2);
	json_free(&js);
	if (e1 != e2 || (e1 == JSON_E_NONE && (h1 != h2 || n1 != n2)))
		abort();

	/* Skipping the top-level value reaches the same verdict. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	json_init_mem(&js, copy, size, flags);
	t = json_next(&js, &tok);
	if (t != JSON_ERROR && json_skip(&js, t) == 0)
		t = json_next(&js, &tok);
	else
		t = JSON_ERROR;
	e3 = js.err;
	free(copy);
	if ((e1 == JSON_E_NONE) != (t == JSON_EOF) || e1 != e3)
		abort();
	return (0);
}
