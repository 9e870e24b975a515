/*
 * The file keystore: the identity directory and its modes, the key made
 * once and reused, signatures that verify under the exported public
 * key, the state round trip with atomic replacement, and refusals of
 * loose permissions, links and foreign or corrupt files.
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
