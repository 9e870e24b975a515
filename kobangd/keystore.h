/*
 * The device identity, in the parent only: the P-256 private key (made
 * once on this machine and reused forever, PROTOCOL.md 4.1) and the
 * enrollment state with the client certificate (common/proto.h,
 * struct proto_state).
 *
 * Everything lives in "identity/" under the state directory: a root-owned
 * directory of mode 0700, refused if it is anything else.  The state
 * is one file, state.json (0600), so tenant, device and certificate
 * change together.  Where the key lives is the configuration's
 * kobangd.keyStore, one backend each:
 *
 *	file	 key.pem (PKCS#8, 0600), keystore.c, every system
 *	tpm	 made inside a TPM 2.0 as a non-exportable signing key under
 *		 the owner hierarchy's storage key; only its public area and
 *		 TPM-wrapped private blob are kept, in key.tpm (0600),
 *		 keystore_tpm.c, Linux with TSS2 (KOBANGD_TPM)
 *	keychain an item of the System keychain, keystore_keychain.c,
 *		 macOS only, not tested here
 *
 * A key never moves between stores: with a key of another store in the
 * directory keystore_select() refuses, and the device must re-enroll.
 * Files are replaced atomically: a temporary file in the same directory
 * is written, fsync'ed and renamed over the old one, and the directory
 * is fsync'ed.
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
#define KEYSTORE_TPMKEY		"key.tpm"
#define KEYSTORE_MAX_FILE	65536
#define KEYSTORE_DIGEST_LEN	32
#define KEYSTORE_SIG_MAX	72

#define KEYSTORE_ERRLEN		512

struct keystore;

/* One place a key can live. */
struct ks_backend {
	const char	*name;		/* the kobangd.keyStore value */
	/* 1: a key of this store exists (looked up, not loaded), 0: none. */
	int	(*present)(struct keystore *);
	/* As keystore_key(); sets key and spki. */
	int	(*load)(struct keystore *, int, char *, size_t);
	int	(*sign)(struct keystore *, const uint8_t *, size_t, uint8_t *,
		    size_t *);
	void	(*close)(struct keystore *);
	/* Where the key lives, for people (kobanctl show identity). */
	void	(*where)(const struct keystore *, char *, size_t);
};

struct keystore {
	char	 dir[PATH_MAX];		/* the identity directory */
	int	 dirfd;
	const struct ks_backend *be;	/* file until keystore_select() */
	char	 tcti[1025];		/* tpm: the TCTI configuration */
	void	*key;			/* the backend's handle, NULL: none */
	uint8_t	 spki[PROTO_SPKI_LEN];	/* of the loaded key */
	/* The key store's own trouble (TPM unreachable...), "": none. */
	char	 error[KEYSTORE_ERRLEN];
	int64_t	 error_since;		/* seconds since the epoch */
};

/*
 * Open (creating if needed) the identity directory under the state
 * directory, which is created 0700 if missing.  NULL with a message in
 * err if either is not root's or is writable by others.
 */
struct keystore	*keystore_open(const char *, char *, size_t);
void		 keystore_close(struct keystore *);

/*
 * Use the store named store (a kobangd.keyStore value; tcti for tpm).
 * -1 with a message saying what to do when it is not compiled in, or
 * when a key of another store is in the directory (a key never moves:
 * the device must re-enroll).  Before any keystore_key().
 */
int	 keystore_select(struct keystore *, const char *, const char *,
	    char *, size_t);
const char	*keystore_store(const struct keystore *);
/* Where the key lives (store, file or TPM blob) for people. */
void	 keystore_where(const struct keystore *, char *, size_t);
/* The store's current trouble, or NULL. */
const char	*keystore_error(const struct keystore *, int64_t *);

/*
 * Load the device key; with create, make it first if there is none.
 * 0 loaded, 1 no key (without create), -1 error (message in err), -2
 * the store cannot be reached now to make the key (a TPM not there yet;
 * message in err): worth another try later.
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

/* For the backends: read a private file of the directory (1: absent). */
int	 keystore_read(struct keystore *, const char *, char **, size_t *,
	    char *, size_t);
/* Note the store's trouble (fmt NULL: none) for show identity. */
void	 keystore_set_error(struct keystore *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));

extern const struct ks_backend	ks_file_backend;
#ifdef KOBANGD_TPM
extern const struct ks_backend	ks_tpm_backend;

/*
 * key.tpm: "KOBTPM01", then the key's TPM2B_PUBLIC and TPM2B_PRIVATE as
 * the TPM marshals them, nothing after.  Decoding checks the public area
 * is a P-256 ECDSA-SHA256 signing key the TPM made and will never let
 * out (fixedTPM, fixedParent, sensitiveDataOrigin, not restricted, no
 * decrypt) and gives its SPKI.  0, or -1 with a message.
 */
struct tpm_blob;
int	 keystore_tpm_decode(const uint8_t *, size_t, struct tpm_blob **,
	    uint8_t [PROTO_SPKI_LEN], char *, size_t);
void	 keystore_tpm_blob_free(struct tpm_blob *);
#endif
#ifdef __APPLE__
extern const struct ks_backend	ks_keychain_backend;
#endif

#endif
