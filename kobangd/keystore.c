/*
 * The identity directory, the state file, atomic writes, the choice of
 * the key store, and the file backend of the device key.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "compat.h"
#include "jsonw.h"
#include "keystore.h"
#include "sha256.h"

static int
ks_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static int
ks_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (-1);
}

/* Ours and not writable by anyone else; for the identity dir, 0700. */
static int
ks_check_dir(int fd, const char *path, int private, char *err,
    size_t errlen)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return (ks_err(err, errlen, "%s: %s", path, strerror(errno)));
	if (!S_ISDIR(st.st_mode))
		return (ks_err(err, errlen, "%s: not a directory", path));
	if (st.st_uid != geteuid())
		return (ks_err(err, errlen, "%s: owned by uid %u, not %u",
		    path, (unsigned int)st.st_uid, (unsigned int)geteuid()));
	if (private && (st.st_mode & 077) != 0)
		return (ks_err(err, errlen, "%s: mode %03o, must be 0700",
		    path, (unsigned int)(st.st_mode & 0777)));
	if (!private && (st.st_mode & 022) != 0)
		return (ks_err(err, errlen,
		    "%s: writable by others (mode %03o)",
		    path, (unsigned int)(st.st_mode & 0777)));
	return (0);
}

struct keystore *
keystore_open(const char *statedir, char *err, size_t errlen)
{
	struct keystore	*ks;
	int		 sfd;

	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		ks_err(err, errlen, "out of memory");
		return (NULL);
	}
	ks->dirfd = -1;
	ks->be = &ks_file_backend;
	if (snprintf(ks->dir, sizeof(ks->dir), "%s/%s", statedir,
	    KEYSTORE_DIR) >= (int)sizeof(ks->dir)) {
		ks_err(err, errlen, "%s: path too long", statedir);
		free(ks);
		return (NULL);
	}
	if (mkdir(statedir, 0700) == -1 && errno != EEXIST) {
		ks_err(err, errlen, "mkdir %s: %s", statedir, strerror(errno));
		free(ks);
		return (NULL);
	}
	if ((sfd = open(statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		ks_err(err, errlen, "%s: %s", statedir, strerror(errno));
		free(ks);
		return (NULL);
	}
	if (ks_check_dir(sfd, statedir, 0, err, errlen) == -1 ||
	    (mkdirat(sfd, KEYSTORE_DIR, 0700) == -1 && errno != EEXIST)) {
		if (err[0] == '\0')
			ks_err(err, errlen, "mkdir %s: %s", ks->dir,
			    strerror(errno));
		close(sfd);
		free(ks);
		return (NULL);
	}
	/* Never follow a link planted where the directory should be. */
	ks->dirfd = openat(sfd, KEYSTORE_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	close(sfd);
	if (ks->dirfd == -1) {
		ks_err(err, errlen, "%s: %s", ks->dir, strerror(errno));
		free(ks);
		return (NULL);
	}
	if (ks_check_dir(ks->dirfd, ks->dir, 1, err, errlen) == -1) {
		close(ks->dirfd);
		free(ks);
		return (NULL);
	}
	return (ks);
}

void
keystore_close(struct keystore *ks)
{
	if (ks == NULL)
		return;
	ks->be->close(ks);
	if (ks->dirfd != -1)
		close(ks->dirfd);
	freezero(ks, sizeof(*ks));
}

int
keystore_write(struct keystore *ks, const char *name, const void *buf,
    size_t len, char *err, size_t errlen)
{
	char		 tmp[64];
	uint8_t		 rnd[8];
	const uint8_t	*p = buf;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd, saved;

	arc4random_buf(rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), ".%s.%02x%02x%02x%02x%02x%02x%02x%02x",
	    name, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
	    rnd[7]);
	if ((fd = openat(ks->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return (ks_err(err, errlen, "%s/%s: %s", ks->dir, tmp,
		    strerror(errno)));
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(ks->dirfd, tmp, ks->dirfd, name) == -1)
		goto fail;
	/* The rename itself is durable only once the directory is. */
	if (fsync(ks->dirfd) == -1)
		return (ks_err(err, errlen, "fsync %s: %s", ks->dir,
		    strerror(errno)));
	return (0);
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlinkat(ks->dirfd, tmp, 0);
	return (ks_err(err, errlen, "writing %s/%s: %s", ks->dir, name,
	    strerror(saved)));
}

/*
 * Read a root-only file of the identity directory: regular, ours, no
 * access for group or others, at most KEYSTORE_MAX_FILE bytes.  1 if
 * absent.  The buffer is malloc'ed and NUL-terminated.
 */
int
keystore_read(struct keystore *ks, const char *name, char **bufp, size_t *lenp,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	*bufp = NULL;
	if ((fd = openat(ks->dirfd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return (1);
		return (ks_err(err, errlen, "%s/%s: %s", ks->dir, name,
		    strerror(errno)));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    st.st_size > KEYSTORE_MAX_FILE) {
		close(fd);
		return (ks_err(err, errlen, "%s/%s: not a private regular file "
		    "of at most %d bytes", ks->dir, name, KEYSTORE_MAX_FILE));
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return (ks_err(err, errlen, "out of memory"));
	}
	while (off < (size_t)st.st_size) {
		if ((n = read(fd, buf + off, (size_t)st.st_size - off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			freezero(buf, (size_t)st.st_size + 1);
			close(fd);
			return (ks_err(err, errlen, "%s/%s: short read",
			    ks->dir, name));
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*bufp = buf;
	*lenp = off;
	return (0);
}

/* The compiled stores, the default first. */
static const struct ks_backend *const ks_backends[] = {
	&ks_file_backend,
#ifdef KOBANGD_TPM
	&ks_tpm_backend,
#endif
#ifdef __APPLE__
	&ks_keychain_backend,
#endif
};

static int
ks_exists(struct keystore *ks, const char *name)
{
	struct stat	st;

	return (fstatat(ks->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0);
}

int
keystore_select(struct keystore *ks, const char *store, const char *tcti,
    char *err, size_t errlen)
{
	const struct ks_backend	*be = NULL;
	size_t			 i;

	for (i = 0; i < nitems(ks_backends); i++)
		if (strcmp(ks_backends[i]->name, store) == 0)
			be = ks_backends[i];
	if (be == NULL) {
		ks_err(err, errlen, "kobangd.keyStore %s is not compiled "
		    "into this kobangd", store);
		keystore_set_error(ks, "%s", err);
		return (-1);
	}
	if (strlcpy(ks->tcti, tcti != NULL ? tcti : "", sizeof(ks->tcti)) >=
	    sizeof(ks->tcti))
		return (ks_err(err, errlen, "kobangd.tpmTCTI is too long"));
	/*
	 * A key made in one store is never carried to another, nor is a
	 * second key made beside it: the certificate names the old one.
	 */
	/* Shown as the configured store, refused or not. */
	ks->be = be;
	for (i = 0; i < nitems(ks_backends); i++) {
		if (ks_backends[i] == be || !ks_backends[i]->present(ks))
			continue;
		if (ks_exists(ks, KEYSTORE_STATE))
			ks_err(err, errlen, "kobangd.keyStore is %s but the "
			    "device is enrolled with a %s key, which cannot "
			    "move: set it back to %s, or re-enroll (stop "
			    "kobangd, move %s away, start it, enroll with a "
			    "new token)", be->name, ks_backends[i]->name,
			    ks_backends[i]->name, ks->dir);
		else
			ks_err(err, errlen, "kobangd.keyStore is %s but a %s "
			    "key is in %s (not enrolled): set it back to %s, "
			    "or remove that key to have one made in the %s "
			    "store", be->name, ks_backends[i]->name, ks->dir,
			    ks_backends[i]->name, be->name);
		keystore_set_error(ks, "%s", err);
		return (-1);
	}
	return (0);
}

const char *
keystore_store(const struct keystore *ks)
{
	return (ks->be->name);
}

void
keystore_where(const struct keystore *ks, char *buf, size_t len)
{
	ks->be->where(ks, buf, len);
}

const char *
keystore_error(const struct keystore *ks, int64_t *since)
{
	if (ks->error[0] == '\0')
		return (NULL);
	if (since != NULL)
		*since = ks->error_since;
	return (ks->error);
}

void
keystore_set_error(struct keystore *ks, const char *fmt, ...)
{
	va_list	ap;

	if (fmt == NULL) {
		ks->error[0] = '\0';
		ks->error_since = 0;
		return;
	}
	/* The first failure of a run dates it. */
	if (ks->error[0] == '\0')
		ks->error_since = (int64_t)time(NULL);
	va_start(ap, fmt);
	(void)vsnprintf(ks->error, sizeof(ks->error), fmt, ap);
	va_end(ap);
}

int
keystore_key(struct keystore *ks, int create, char *err, size_t errlen)
{
	int	r;

	if (ks->key != NULL)
		return (0);
	/* A key that cannot be used stays visible in show identity. */
	if ((r = ks->be->load(ks, create, err, errlen)) < 0)
		keystore_set_error(ks, "%s", err);
	return (r);
}

const uint8_t *
keystore_spki(const struct keystore *ks)
{
	return (ks->key != NULL ? ks->spki : NULL);
}

int
keystore_point(const struct keystore *ks, uint8_t point[PROTO_POINT_LEN])
{
	if (ks->key == NULL)
		return (-1);
	memcpy(point, ks->spki + PROTO_SPKI_LEN - PROTO_POINT_LEN,
	    PROTO_POINT_LEN);
	return (0);
}

int
keystore_fingerprint(const struct keystore *ks, char hex[65])
{
	uint8_t	d[SHA256_DIGEST_LEN];

	if (ks->key == NULL || sha256_digest(ks->spki, PROTO_SPKI_LEN, d) == -1)
		return (-1);
	sha256_tohex(d, hex);
	return (0);
}

int
keystore_sign(struct keystore *ks, const uint8_t *dgst, size_t dlen,
    uint8_t *sig, size_t *siglen)
{
	if (ks->key == NULL || dlen != KEYSTORE_DIGEST_LEN)
		return (-1);
	return (ks->be->sign(ks, dgst, dlen, sig, siglen));
}

int
keystore_load_state(struct keystore *ks, struct proto_state *st, char *err,
    size_t errlen)
{
	char	*buf, fp[65], derr[128];
	size_t	 len;
	int	 r;

	memset(st, 0, sizeof(*st));
	if ((r = keystore_read(ks, KEYSTORE_STATE, &buf, &len, err,
	    errlen)) != 0)
		return (r);
	r = proto_state_decode(buf, len, st, derr, sizeof(derr));
	freezero(buf, len + 1);
	if (r == -1)
		return (ks_err(err, errlen, "%s/%s: %s", ks->dir,
		    KEYSTORE_STATE, derr));
	if (keystore_fingerprint(ks, fp) == -1 ||
	    strcmp(fp, st->spki_sha256) != 0) {
		proto_state_free(st);
		return (ks_err(err, errlen, "%s/%s: the certificate is not for "
		    "this device's key", ks->dir, KEYSTORE_STATE));
	}
	return (0);
}

int
keystore_save_state(struct keystore *ks, const struct proto_state *st,
    char *err, size_t errlen)
{
	struct jsonw	 w;
	const char	*s;
	size_t		 len;
	int		 r;

	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	if (proto_state_encode(&w, st) == -1 ||
	    (s = jsonw_result(&w, &len)) == NULL) {
		jsonw_free(&w);
		return (ks_err(err, errlen, "cannot encode the state"));
	}
	r = keystore_write(ks, KEYSTORE_STATE, s, len, err, errlen);
	jsonw_free(&w);
	return (r);
}

/* File backend: key.pem, PKCS#8 PEM, 0600. */

static int	file_spki(struct keystore *);
static int	file_der(struct keystore *, uint8_t [PROTO_SPKI_LEN]);

static int
file_present(struct keystore *ks)
{
	return (ks_exists(ks, KEYSTORE_KEY));
}

static int
file_load(struct keystore *ks, int create, char *err, size_t errlen)
{
	EVP_PKEY	*pk = NULL;
	BIO		*b;
	BUF_MEM		*bm;
	char		*buf, name[64];
	size_t		 len, nl = 0;
	int		 r;

	if ((r = keystore_read(ks, KEYSTORE_KEY, &buf, &len, err,
	    errlen)) == -1)
		return (-1);
	if (r == 0) {
		if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
			pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		freezero(buf, len + 1);
		if (pk == NULL)
			return (ks_err(err, errlen, "%s/%s: not a private key",
			    ks->dir, KEYSTORE_KEY));
		if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
		    EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &nl) != 1 ||
		    strcmp(name, "prime256v1") != 0) {
			EVP_PKEY_free(pk);
			return (ks_err(err, errlen, "%s/%s: not a P-256 key",
			    ks->dir, KEYSTORE_KEY));
		}
		ks->key = pk;
		return (file_spki(ks) == -1 ? ks_err(err, errlen, "%s/%s: not "
		    "a P-256 key", ks->dir, KEYSTORE_KEY) : 0);
	}
	if (!create)
		return (1);

	/* Made once, here, and never rotated (PROTOCOL.md 4.1). */
	if ((pk = EVP_EC_gen("P-256")) == NULL)
		return (ks_err(err, errlen, "cannot generate a P-256 key"));
	/* secmem: the PEM text is cleared when the BIO is freed. */
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    BIO_get_mem_ptr(b, &bm) != 1) {
		BIO_free(b);
		EVP_PKEY_free(pk);
		return (ks_err(err, errlen, "cannot encode the new key"));
	}
	r = keystore_write(ks, KEYSTORE_KEY, bm->data, bm->length, err,
	    errlen);
	BIO_free(b);
	if (r == -1) {
		EVP_PKEY_free(pk);
		return (-1);
	}
	ks->key = pk;
	return (file_spki(ks) == -1 ? ks_err(err, errlen, "the new key is "
	    "not a P-256 key") : 0);
}

/* ks->spki of the loaded key; -1 (and the key dropped) if not P-256. */
static int
file_spki(struct keystore *ks)
{
	uint8_t	*spki = ks->spki;
	int	 r;

	if ((r = file_der(ks, spki)) == -1) {
		EVP_PKEY_free(ks->key);
		ks->key = NULL;
	}
	return (r);
}

static int
file_der(struct keystore *ks, uint8_t spki[PROTO_SPKI_LEN])
{
	uint8_t	*der = NULL, point[PROTO_POINT_LEN], want[PROTO_SPKI_LEN];
	int	 len;

	if ((len = i2d_PUBKEY(ks->key, &der)) != PROTO_SPKI_LEN) {
		OPENSSL_free(der);
		return (-1);
	}
	/* It must be exactly the 4.1 form: fixed prefix, uncompressed point. */
	memcpy(point, der + PROTO_SPKI_LEN - PROTO_POINT_LEN, PROTO_POINT_LEN);
	if (proto_spki_der(point, want) == -1 ||
	    memcmp(want, der, PROTO_SPKI_LEN) != 0) {
		OPENSSL_free(der);
		return (-1);
	}
	memcpy(spki, der, PROTO_SPKI_LEN);
	OPENSSL_free(der);
	return (0);
}

static int
file_sign(struct keystore *ks, const uint8_t *dgst, size_t dlen,
    uint8_t *sig, size_t *siglen)
{
	EVP_PKEY_CTX	*ctx;
	size_t		 len = KEYSTORE_SIG_MAX;
	int		 ok;

	if ((ctx = EVP_PKEY_CTX_new(ks->key, NULL)) == NULL)
		return (-1);
	ok = EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(ctx, sig, &len, dgst, dlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return (-1);
	*siglen = len;
	return (0);
}

static void
file_close(struct keystore *ks)
{
	EVP_PKEY_free(ks->key);
	ks->key = NULL;
}

static void
file_where(const struct keystore *ks, char *buf, size_t len)
{
	snprintf(buf, len, "file %s/%s", ks->dir, KEYSTORE_KEY);
}

const struct ks_backend ks_file_backend = {
	.name = "file",
	.present = file_present,
	.load = file_load,
	.sign = file_sign,
	.close = file_close,
	.where = file_where,
};
