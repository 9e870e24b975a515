/*
 * The file keystore: the identity directory and its modes, the key made
 * once and reused, signatures that verify under the exported public
 * key, the state round trip with atomic replacement, and refusals of
 * loose permissions, links and foreign or corrupt files.  The choice of
 * store (a key of another store refused) and the TPM blob decoder; the
 * TPM itself is exercised end to end (regress/e2e/t_fleet_tpm.sh).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <criterion/criterion.h>

#include "keystore.h"
#include "sha256.h"

static char	base[64];
static char	statedir[128];

static void
setup(void)
{
	strcpy(base, "/tmp/kobangd-ks.XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(statedir, sizeof(statedir), "%s/state", base);
}

static void
teardown(void)
{
	char	cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(keystore, .init = setup, .fini = teardown);

static mode_t
mode_of(const char *rel)
{
	struct stat	st;
	char		path[256];

	snprintf(path, sizeof(path), "%s/%s", statedir, rel);
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (st.st_mode & 07777);
}

static int
verify(const uint8_t *spki, const uint8_t *dgst, const uint8_t *sig,
    size_t siglen)
{
	const uint8_t	*p = spki;
	EVP_PKEY	*pub = d2i_PUBKEY(NULL, &p, PROTO_SPKI_LEN);
	EVP_PKEY_CTX	*ctx = EVP_PKEY_CTX_new(pub, NULL);
	int		 ok;

	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_verify(ctx, sig, siglen, dgst, 32) == 1;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	return (ok);
}

Test(keystore, key_made_once_then_reused)
{
	struct keystore	*ks;
	char		 err[256], fp1[65], fp2[65];
	uint8_t		 spki[PROTO_SPKI_LEN], dgst[32], sig[KEYSTORE_SIG_MAX];
	uint8_t		 point[PROTO_POINT_LEN];
	size_t		 siglen;

	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_not_null(ks, "%s", err);
	cr_assert_eq(mode_of("identity"), 0700);
	cr_assert_eq(keystore_key(ks, 0, err, sizeof(err)), 1);
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(mode_of("identity/key.pem"), 0600);
	cr_assert_eq(keystore_fingerprint(ks, fp1), 0);
	memcpy(spki, keystore_spki(ks), sizeof(spki));
	cr_assert_eq(keystore_point(ks, point), 0);
	cr_assert_eq(point[0], 0x04);
	cr_assert(memcmp(spki + 26, point, 65) == 0);

	memset(dgst, 0xab, sizeof(dgst));
	siglen = 0;
	cr_assert_eq(keystore_sign(ks, dgst, 32, sig, &siglen), 0);
	cr_assert(siglen > 0 && siglen <= KEYSTORE_SIG_MAX);
	cr_assert(verify(spki, dgst, sig, siglen));
	/* Only a digest of the one expected length. */
	cr_assert_eq(keystore_sign(ks, dgst, 31, sig, &siglen), -1);
	cr_assert_eq(keystore_sign(ks, dgst, 48, sig, &siglen), -1);
	keystore_close(ks);

	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_not_null(ks);
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), 0);
	cr_assert_eq(keystore_fingerprint(ks, fp2), 0);
	cr_assert_str_eq(fp1, fp2, "the key was replaced");
	keystore_close(ks);
}

Test(keystore, fingerprint_is_sha256_of_spki)
{
	struct keystore	*ks;
	char		 err[256], fp[65], want[65];

	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), 0);
	cr_assert_eq(keystore_fingerprint(ks, fp), 0);
	cr_assert_eq(sha256_hex(keystore_spki(ks), PROTO_SPKI_LEN, want), 0);
	cr_assert_str_eq(fp, want);
	keystore_close(ks);
}

static void
fill_state(struct keystore *ks, struct proto_state *st, uint8_t *cert,
    size_t len)
{
	memset(st, 0, sizeof(*st));
	strcpy(st->tenant_id, "tenant-a");
	strcpy(st->device_id, "device-a");
	st->cert = cert;
	st->cert_len = len;
	strcpy(st->expires_at, "2026-08-01T00:00:00Z");
	strcpy(st->subject, "/CN=device-a");
	strcpy(st->issuer, "/CN=Test CA");
	st->not_after = 1785542400;
	cr_assert_eq(keystore_fingerprint(ks, st->spki_sha256), 0);
}

static int
count_entries(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0))
			n++;
	closedir(d);
	return (n);
}

Test(keystore, state_round_trip_and_replacement)
{
	struct keystore		*ks;
	struct proto_state	 st, back;
	uint8_t			 cert[4] = { 0x30, 0x02, 0x05, 0x00 };
	char			 err[256], dir[200];

	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), 0);
	cr_assert_eq(keystore_load_state(ks, &back, err, sizeof(err)), 1);
	fill_state(ks, &st, cert, sizeof(cert));
	cr_assert_eq(keystore_save_state(ks, &st, err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_eq(mode_of("identity/state.json"), 0600);
	cr_assert_eq(keystore_load_state(ks, &back, err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_str_eq(back.device_id, "device-a");
	cr_assert_eq(back.cert_len, sizeof(cert));
	proto_state_free(&back);

	/* Replaced as a whole; no temporary file is left behind. */
	st.has_generation = 1;
	strcpy(st.generation, "generation-b");
	cr_assert_eq(keystore_save_state(ks, &st, err, sizeof(err)), 0);
	cr_assert_eq(keystore_load_state(ks, &back, err, sizeof(err)), 0);
	cr_assert_str_eq(back.generation, "generation-b");
	proto_state_free(&back);
	snprintf(dir, sizeof(dir), "%s/identity", statedir);
	cr_assert_eq(count_entries(dir), 2);

	/* A state for another key is not this device's identity. */
	memset(st.spki_sha256, '0', 64);
	cr_assert_eq(keystore_save_state(ks, &st, err, sizeof(err)), 0);
	cr_assert_eq(keystore_load_state(ks, &back, err, sizeof(err)), -1);
	cr_assert(strstr(err, "not for this device's key") != NULL);
	keystore_close(ks);
}

Test(keystore, refusals)
{
	struct keystore	*ks;
	struct proto_state st;
	char		 err[256], path[256];
	int		 fd;

	/* A state directory others may write to. */
	cr_assert_eq(mkdir(statedir, 0777), 0);
	cr_assert_eq(chmod(statedir, 0777), 0);
	cr_assert_null(keystore_open(statedir, err, sizeof(err)));
	cr_assert(strstr(err, "writable by others") != NULL, "%s", err);
	cr_assert_eq(chmod(statedir, 0755), 0);

	/* An identity directory with group access. */
	snprintf(path, sizeof(path), "%s/identity", statedir);
	cr_assert_eq(mkdir(path, 0750), 0);
	cr_assert_eq(chmod(path, 0750), 0);
	cr_assert_null(keystore_open(statedir, err, sizeof(err)));
	cr_assert(strstr(err, "must be 0700") != NULL, "%s", err);
	cr_assert_eq(rmdir(path), 0);

	/* A symbolic link where the directory should be. */
	cr_assert_eq(symlink("/tmp", path), 0);
	cr_assert_null(keystore_open(statedir, err, sizeof(err)));
	cr_assert_eq(unlink(path), 0);

	/* A readable key file, and a corrupt one. */
	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_not_null(ks, "%s", err);
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), 0);
	keystore_close(ks);
	snprintf(path, sizeof(path), "%s/identity/key.pem", statedir);
	cr_assert_eq(chmod(path, 0644), 0);
	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), -1);
	cr_assert_eq(chmod(path, 0600), 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, "garbage\n", 8), 8);
	close(fd);
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), -1);
	cr_assert(strstr(err, "not a private key") != NULL, "%s", err);

	/* A corrupt state file is an error, not "not enrolled". */
	snprintf(path, sizeof(path), "%s/identity/state.json", statedir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_eq(write(fd, "{\"tenantID\":", 12), 12);
	close(fd);
	cr_assert_eq(keystore_load_state(ks, &st, err, sizeof(err)), -1);
	keystore_close(ks);
}

#ifdef KOBANGD_TPM
static void
put_file(const char *rel, const void *buf, size_t len)
{
	char	path[256];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", statedir, rel);
	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), -1);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}
#endif

/* A key is never carried to another store, nor made beside it. */
Test(keystore, store_change_refused)
{
	struct keystore	*ks;
	char		 err[KEYSTORE_ERRLEN];

	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_not_null(ks, "%s", err);
	cr_assert_eq(keystore_select(ks, "file", NULL, err, sizeof(err)), 0);
	cr_assert_str_eq(keystore_store(ks), "file");
	cr_assert_eq(keystore_select(ks, "hsm", NULL, err, sizeof(err)), -1);
	cr_assert(strstr(err, "not compiled") != NULL, "%s", err);
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), 0, "%s", err);
	keystore_close(ks);
#ifdef KOBANGD_TPM
	/* The file key, not enrolled: remove it or go back. */
	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_eq(keystore_select(ks, "tpm", "device:/nonexistent", err,
	    sizeof(err)), -1);
	cr_assert(strstr(err, "kobangd.keyStore is tpm but a file key is in "
	    "") != NULL && strstr(err, "(not enrolled)") != NULL, "%s", err);
	cr_assert_str_eq(keystore_error(ks, NULL), err);
	keystore_close(ks);
	/* Enrolled: re-enroll. */
	put_file("identity/state.json", "{}", 2);
	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_eq(keystore_select(ks, "tpm", "device:/nonexistent", err,
	    sizeof(err)), -1);
	cr_assert(strstr(err, "enrolled with a file key, which cannot move: "
	    "set it back to file, or re-enroll") != NULL, "%s", err);
	cr_assert_str_eq(keystore_store(ks), "tpm");
	keystore_close(ks);
	/* And the other way: a TPM blob (any bytes) blocks the file store. */
	put_file("identity/key.tpm", "x", 1);
	snprintf(err, sizeof(err), "%s/identity/key.pem", statedir);
	cr_assert_eq(unlink(err), 0);
	ks = keystore_open(statedir, err, sizeof(err));
	cr_assert_eq(keystore_select(ks, "file", NULL, err, sizeof(err)), -1);
	cr_assert(strstr(err, "enrolled with a tpm key") != NULL, "%s", err);
	cr_assert_eq(keystore_key(ks, 0, err, sizeof(err)), 1);
	keystore_close(ks);
#endif
}

#ifdef KOBANGD_TPM
#include <tss2/tss2_mu.h>

/* key.tpm as the TPM would give it back, from a real P-256 point. */
static size_t
make_blob(uint8_t *buf, size_t cap, TPMA_OBJECT attrs, uint8_t spki[91])
{
	TPM2B_PUBLIC	 pub;
	TPM2B_PRIVATE	 priv;
	EVP_PKEY	*pk = EVP_EC_gen("P-256");
	uint8_t		*der = NULL;
	size_t		 off = 8;

	cr_assert_eq(i2d_PUBKEY(pk, &der), 91);
	memcpy(spki, der, 91);
	memset(&pub, 0, sizeof(pub));
	pub.publicArea.type = TPM2_ALG_ECC;
	pub.publicArea.nameAlg = TPM2_ALG_SHA256;
	pub.publicArea.objectAttributes = attrs;
	pub.publicArea.parameters.eccDetail.symmetric.algorithm =
	    TPM2_ALG_NULL;
	pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	pub.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg =
	    TPM2_ALG_SHA256;
	pub.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pub.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	pub.publicArea.unique.ecc.x.size = 32;
	memcpy(pub.publicArea.unique.ecc.x.buffer, der + 27, 32);
	pub.publicArea.unique.ecc.y.size = 32;
	memcpy(pub.publicArea.unique.ecc.y.buffer, der + 59, 32);
	memset(&priv, 0, sizeof(priv));
	priv.size = 80;
	memset(priv.buffer, 0x5a, 80);
	memcpy(buf, "KOBTPM01", 8);
	cr_assert_eq(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, buf, cap, &off), 0);
	cr_assert_eq(Tss2_MU_TPM2B_PRIVATE_Marshal(&priv, buf, cap, &off), 0);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return (off);
}

#define GOOD_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
			 TPMA_OBJECT_SENSITIVEDATAORIGIN | \
			 TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | \
			 TPMA_OBJECT_SIGN_ENCRYPT)

/* The blob decoder: the public key out, anything else refused. */
Test(keystore, tpm_blob_decode)
{
	struct tpm_blob	*b;
	uint8_t		 buf[2048], spki[91], want[91];
	char		 err[KEYSTORE_ERRLEN];
	size_t		 len, i;

	len = make_blob(buf, sizeof(buf), GOOD_ATTRS, want);
	cr_assert_eq(keystore_tpm_decode(buf, len, &b, spki, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert(memcmp(spki, want, 91) == 0);
	keystore_tpm_blob_free(b);
	/* Every truncation, and a byte too many. */
	for (i = 0; i < len; i++)
		cr_assert_eq(keystore_tpm_decode(buf, i, &b, spki, err,
		    sizeof(err)), -1, "length %zu", i);
	buf[len] = 0;
	cr_assert_eq(keystore_tpm_decode(buf, len + 1, &b, spki, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err, "truncated or malformed TPM key blob");
	buf[0] = 'X';
	cr_assert_eq(keystore_tpm_decode(buf, len, &b, spki, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err, "not a kobangd TPM key blob");
	/* A key that could leave the TPM, or that decrypts. */
	len = make_blob(buf, sizeof(buf), GOOD_ATTRS & ~TPMA_OBJECT_FIXEDTPM,
	    want);
	cr_assert_eq(keystore_tpm_decode(buf, len, &b, spki, err,
	    sizeof(err)), -1);
	cr_assert(strstr(err, "non-exportable") != NULL, "%s", err);
	len = make_blob(buf, sizeof(buf), GOOD_ATTRS &
	    ~TPMA_OBJECT_FIXEDPARENT, want);
	cr_assert_eq(keystore_tpm_decode(buf, len, &b, spki, err,
	    sizeof(err)), -1);
	len = make_blob(buf, sizeof(buf), GOOD_ATTRS &
	    ~TPMA_OBJECT_SENSITIVEDATAORIGIN, want);
	cr_assert_eq(keystore_tpm_decode(buf, len, &b, spki, err,
	    sizeof(err)), -1);
	len = make_blob(buf, sizeof(buf), GOOD_ATTRS | TPMA_OBJECT_DECRYPT,
	    want);
	cr_assert_eq(keystore_tpm_decode(buf, len, &b, spki, err,
	    sizeof(err)), -1);
	/* A point off the curve: the last byte of y changed. */
	len = make_blob(buf, sizeof(buf), GOOD_ATTRS, want);
	buf[len - 80 - 2 - 1] ^= 1;
	cr_assert_eq(keystore_tpm_decode(buf, len, &b, spki, err,
	    sizeof(err)), -1);
	cr_assert(strstr(err, "not a P-256 point") != NULL, "%s", err);
}
#endif
