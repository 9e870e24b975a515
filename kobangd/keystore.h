/*
 * The device identity, in the parent only: the P-256 private key (made
 * once on this machine and reused forever, PROTOCOL.md 4.1) and the
 * enrollment state with the client certificate (common/proto.h,
 * struct proto_state).
 *
 * Everything lives in "identity/" under the state directory: a root-owned
 * directory of mode 0700, refused if it is anything else.  The state
 * is one file, state.json (0600), so tenant, device and certificate
 * change together.  The key is key.pem (PKCS#8, 0600) with the file
 * backend (keystore.c, every system but macOS), or an item of the System
 * keychain with the Keychain backend (keystore_keychain.c, macOS only,
 * not tested here).  Files are replaced atomically: a temporary file in
 * the same directory is written, fsync'ed and renamed over the old one,
 * and the directory is fsync'ed.
 *
 * The private key never leaves this interface: callers get the public
 * key and signatures over 32-byte digests.
 */
#ifndef KOBANGD_KEYSTORE_H
#define KOBANGD_KEYSTORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define KEYSTORE_DIR		"identity"
#define KEYSTORE_STATE		"state.json"
#define KEYSTORE_KEY		"key.pem"
#define KEYSTORE_MAX_FILE	65536
#define KEYSTORE_DIGEST_LEN	32
#define KEYSTORE_SIG_MAX	72

struct keystore {
	char	 dir[PATH_MAX];		/* the identity directory */
	int	 dirfd;
	void	*key;			/* the backend's handle, NULL: none */
	uint8_t	 spki[PROTO_SPKI_LEN];	/* of the loaded key */
};

/*
 * Open (creating if needed) the identity directory under the state
 * directory, which is created 0700 if missing.  NULL with a message in
 * err if either is not root's or is writable by others.
 */
struct keystore	*keystore_open(const char *, char *, size_t);
void		 keystore_close(struct keystore *);

/*
 * Load the device key; with create, make it first if there is none.
 * 0 loaded, 1 no key (without create), -1 error (message in err).
 */
int	 keystore_key(struct keystore *, int, char *, size_t);
/* Of the loaded key: SPKI DER (4.1), its point, its SHA-256 in hex. */
const uint8_t	*keystore_spki(const struct keystore *);
int	 keystore_point(const struct keystore *, uint8_t [PROTO_POINT_LEN]);
int	 keystore_fingerprint(const struct keystore *, char [65]);
/* ECDSA over a KEYSTORE_DIGEST_LEN digest; DER signature; 0 or -1. */
int	 keystore_sign(struct keystore *, const uint8_t *, size_t, uint8_t *,
	    size_t *);

/*
 * The enrollment state: 0 loaded, 1 none (not enrolled), -1 unreadable
 * or invalid (message in err).  A state whose publicKeySHA256 is not
 * the loaded key's is invalid.
 */
int	 keystore_load_state(struct keystore *, struct proto_state *, char *,
	    size_t);
int	 keystore_save_state(struct keystore *, const struct proto_state *,
	    char *, size_t);

/* Atomic replacement of name in the identity directory; 0 or -1. */
int	 keystore_write(struct keystore *, const char *, const void *, size_t,
	    char *, size_t);

/* Key backends (file: keystore.c; Keychain: keystore_keychain.c). */
int	 keystore_backend_load(struct keystore *, int, char *, size_t);
int	 keystore_backend_spki(struct keystore *, uint8_t [PROTO_SPKI_LEN]);
int	 keystore_backend_sign(struct keystore *, const uint8_t *, size_t,
	    uint8_t *, size_t *);
void	 keystore_backend_close(struct keystore *);

#endif
