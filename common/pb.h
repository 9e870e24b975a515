/*
 * The event payload (PROTOCOL.md 7): hand-written protobuf for
 * SensorEventPayload { payload_version, InventoryItem | Finding } with
 * Provenance and FindingEvidence.
 *
 * Encoding, exactly as the reference: fields in ascending number order;
 * uint32 always written; a bool written whenever it is not nil, false
 * included; a string omitted when nil or empty; an embedded message
 * omitted when it encodes to zero bytes; minimal varints.
 *
 * Decoding is strict and bounded (the schema's fixed depth of three, no
 * recursion): a truncated varint, a varint longer than ten bytes, a
 * length past the end, a wire type other than 0 and 2, a known field with
 * the wrong wire type, an unknown field, a field given twice, a uint32 or
 * bool out of range, a string with a NUL or invalid UTF-8, a missing
 * payload_version, a version other than 1, or anything but exactly one of
 * inventory_item and finding is an error.  Fields out of order, empty
 * strings, empty embedded messages and non-minimal varints are accepted
 * but make the message non-canonical (our encoder would never write it).
 */
#ifndef KOBANG_PB_H
#define KOBANG_PB_H

#include <stddef.h>
#include <stdint.h>

#include "item.h"
#include "rule.h"

#define PB_PAYLOAD_VERSION	1

/* A growable output buffer. */
struct pbuf {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
};

/*
 * The payload as plain strings.  NULL is nil (or empty: the wire cannot
 * tell them apart).  Decoded strings are allocated and NUL-terminated;
 * for encoding they are only read.
 */
struct pb_item {
	char		*item_id;
	char		*surface;
	char		*kind;
	char		*name;
	char		*version;
	char		*path;
	/* Provenance */
	char		*origin;
	int		 installed_on_request;	/* 0, 1 or ITEM_BOOL_NIL */
	char		*detail;
};

struct pb_finding {
	char		*id;
	char		*surface;
	char		*item_id;
	char		*rule_id;
	char		*title;
	char		*rationale;
	char		*severity;
	char		*item_name;
	/* FindingEvidence */
	char		*evidence_path;
	char		*evidence_detail;
	char		*matched_field;
	char		*matched_value;
	char		*observed_at;
};

struct pb_payload {
	uint32_t	 version;
	int		 has_item;
	int		 has_finding;
	struct pb_item	 item;
	struct pb_finding finding;
	int		 canonical;	/* decode: as our encoder writes it */
};

/* Caps of the decoder. */
#define PB_MAX_PAYLOAD		(16 * 1024 * 1024)

void	 pbuf_init(struct pbuf *);
void	 pbuf_reset(struct pbuf *);	/* len = 0, keep the memory */
void	 pbuf_free(struct pbuf *);

/*
 * Append the encoding to b (which is not reset first).  0, or -1 with
 * errno (ENOMEM, EINVAL for a payload with neither or both parts, an
 * unknown enum value).
 */
int	 pb_encode_payload(const struct pb_payload *, struct pbuf *);
/* An inventory event for an item whose identity string is given. */
int	 pb_encode_item_event(const struct item *, const char *item_id,
	    struct pbuf *);
/* A finding event (observed_at = the finding's timestamp). */
int	 pb_encode_finding_event(const struct finding *, struct pbuf *);

/*
 * Decode len bytes.  0 with *p filled (free with pb_payload_free), or -1
 * with *p zeroed and a message naming the offset in err.
 */
int	 pb_decode_payload(const uint8_t *, size_t, struct pb_payload *,
	    char *err, size_t errlen);
void	 pb_payload_free(struct pb_payload *);

/* Field by field equality, NULL equal only to NULL (tests, fuzzing). */
int	 pb_payload_equal(const struct pb_payload *,
	    const struct pb_payload *);

#endif
