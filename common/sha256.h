/*
 * SHA-256 through libmd's <sha2.h>: one-shot hex digests (PROTOCOL.md
 * 8.1 payloadHash, 64 lowercase hex digits) and an incremental context
 * for hashing a file in chunks.  No libcrypto: a process that only
 * hashes does not load it.
 *
 * sha256_preload() is kept for the sandboxed callers; libmd reads no
 * files, so there is nothing to do before the door is locked.
 */
#ifndef KOBANG_SHA256_H
#define KOBANG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN	32
#define SHA256_HEX_LEN		64
#define SHA256_HEX_BUFSZ	(SHA256_HEX_LEN + 1)

struct sha256_ctx {
	void	*md;		/* SHA2_CTX */
};

/* Kept for callers that prepare before sandboxing; 0. */
int	 sha256_preload(void);

/* One shot: the digest of buf, as 32 bytes or as lowercase hex. */
int	 sha256_digest(const void *, size_t, uint8_t [SHA256_DIGEST_LEN]);
int	 sha256_hex(const void *, size_t, char [SHA256_HEX_BUFSZ]);
/* HMAC-SHA-256 of buf under key (RFC 2104); 0 or -1. */
int	 sha256_hmac(const void *, size_t, const void *, size_t,
	    uint8_t [SHA256_DIGEST_LEN]);
/* 32 bytes to 64 lowercase hex digits and a NUL. */
void	 sha256_tohex(const uint8_t [SHA256_DIGEST_LEN],
	    char [SHA256_HEX_BUFSZ]);

/*
 * Incremental: init, any number of updates, then final (or abort).  Both
 * final and abort release the context; on any error the context is
 * released too, so the caller never needs to clean up after -1.
 */
int	 sha256_init(struct sha256_ctx *);
int	 sha256_update(struct sha256_ctx *, const void *, size_t);
int	 sha256_final(struct sha256_ctx *, uint8_t [SHA256_DIGEST_LEN]);
int	 sha256_final_hex(struct sha256_ctx *, char [SHA256_HEX_BUFSZ]);
void	 sha256_abort(struct sha256_ctx *);

#endif
