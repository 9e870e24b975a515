/*
 * Variable-length control replies (inventory items, events, findings,
 * surface issues): a fixed header struct, then strings, each a u32
 * length and that many bytes (no NUL), or the length 0xffffffff for nil.
 * Host byte order (a local socket).  The writer truncates a string that
 * would not fit its cap at a UTF-8 boundary and says so in the record's
 * truncated count; the reader checks every length against its cap and
 * the record's end, refuses NUL bytes and invalid UTF-8, and requires
 * the record to end exactly after the last string.
 */
#ifndef KOBANG_CTLREC_H
#define KOBANG_CTLREC_H

#include <stddef.h>
#include <stdint.h>

/* Below the control channel's 16 KiB message limit, header included. */
#define CTLREC_MAX		16000
#define CTLREC_NIL		0xffffffffU

struct ctlrec {
	unsigned char	 buf[CTLREC_MAX];
	size_t		 len;
	int		 truncated;	/* strings cut to fit */
	int		 overflow;	/* header alone did not fit */
};

void	 ctlrec_init(struct ctlrec *, const void *, size_t);
/* Append s (NULL: nil), at most cap bytes of it. */
void	 ctlrec_str(struct ctlrec *, const char *, size_t);

struct ctlrd {
	const unsigned char	*p;
	size_t			 left;
};

/* Take the header (exactly hdrlen bytes); 0 or -1. */
int	 ctlrd_init(struct ctlrd *, const void *, size_t, void *, size_t);
/* Next string, allocated (NULL for nil); 0 or -1 on anything invalid. */
int	 ctlrd_str(struct ctlrd *, size_t, char **);
/* 0 if the record was consumed exactly. */
int	 ctlrd_end(const struct ctlrd *);

/* "ok", "degraded", "disabled", "never scanned", "not implemented". */
const char	*ctl_health_name(uint32_t);

#endif
