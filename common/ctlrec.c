/*
 * Variable-length control records: see ctlrec.h.
 */

#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctlrec.h"
#include "utf8.h"

void
ctlrec_init(struct ctlrec *r, const void *hdr, size_t hdrlen)
{
	r->len = 0;
	r->truncated = 0;
	r->overflow = 0;
	if (hdrlen > sizeof(r->buf)) {
		r->overflow = 1;
		return;
	}
	memcpy(r->buf, hdr, hdrlen);
	r->len = hdrlen;
}

void
ctlrec_str(struct ctlrec *r, const char *s, size_t cap)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 l32;
	size_t			 l, room, seq, i, out;

	if (r->overflow || sizeof(r->buf) - r->len < sizeof(l32)) {
		r->overflow = 1;
		return;
	}
	if (s == NULL) {
		l32 = CTLREC_NIL;
		memcpy(r->buf + r->len, &l32, sizeof(l32));
		r->len += sizeof(l32);
		return;
	}
	l = strlen(s);
	room = sizeof(r->buf) - r->len - sizeof(l32);
	if (cap > room)
		cap = room;
	/*
	 * Whole UTF-8 sequences up to the cap; a byte that is not valid
	 * UTF-8 (a file name can hold anything) is shown as '?'.
	 */
	out = r->len + sizeof(l32);
	for (i = 0; i < l; i += seq) {
		if ((seq = utf8_seqlen(u + i, l - i)) == 0) {
			if (out - r->len - sizeof(l32) + 1 > cap)
				break;
			r->buf[out++] = '?';
			seq = 1;
			continue;
		}
		if (out - r->len - sizeof(l32) + seq > cap)
			break;
		memcpy(r->buf + out, u + i, seq);
		out += seq;
	}
	if (i < l)
		r->truncated++;
	l32 = (uint32_t)(out - r->len - sizeof(l32));
	memcpy(r->buf + r->len, &l32, sizeof(l32));
	r->len = out;
}

int
ctlrd_init(struct ctlrd *rd, const void *buf, size_t len, void *hdr,
    size_t hdrlen)
{
	if (buf == NULL || len < hdrlen)
		return (-1);
	memcpy(hdr, buf, hdrlen);
	rd->p = (const unsigned char *)buf + hdrlen;
	rd->left = len - hdrlen;
	return (0);
}

int
ctlrd_str(struct ctlrd *rd, size_t cap, char **out)
{
	uint32_t	l;

	*out = NULL;
	if (rd->left < sizeof(l))
		return (-1);
	memcpy(&l, rd->p, sizeof(l));
	rd->p += sizeof(l);
	rd->left -= sizeof(l);
	if (l == CTLREC_NIL)
		return (0);
	if (l > cap || l > rd->left || memchr(rd->p, '\0', l) != NULL ||
	    !utf8_valid(rd->p, l))
		return (-1);
	if ((*out = malloc((size_t)l + 1)) == NULL)
		return (-1);
	memcpy(*out, rd->p, l);
	(*out)[l] = '\0';
	rd->p += l;
	rd->left -= l;
	return (0);
}

int
ctlrd_end(const struct ctlrd *rd)
{
	return (rd->left == 0 ? 0 : -1);
}

const char *
ctl_health_name(uint32_t h)
{
	static const char *const names[CTL_HEALTH_COUNT] = {
		"ok", "degraded", "disabled", "never scanned",
		"not implemented"
	};

	return (h < CTL_HEALTH_COUNT ? names[h] : "unknown");
}
