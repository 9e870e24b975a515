/*
 * tpmkey: the TPM side of the key store tests, against a software TPM
 * only (the tests start swtpm; never point this at a machine's TPM).
 *
 *	tpmkey export tcti blobfile
 *		Load kobangd's key.tpm under the owner hierarchy's SRK, read
 *		its public area back from the TPM (fixedTPM and fixedParent
 *		must be set) and ask the TPM to duplicate it (TPM2_Duplicate
 *		with a policy session for the duplication role, no wrapping):
 *		exit 0 if the TPM refuses, 1 if it hands the key out, 2 if
 *		the attempt could not be made.
 *	tpmkey control tcti
 *		The same duplication on a key made to allow it (no fixedTPM
 *		or fixedParent, a policy for TPM2_Duplicate): exit 0 if the
 *		TPM hands it out, so a refusal above is the key's doing and
 *		not a broken attempt.
 *	tpmkey bench tcti statedir count
 *		kobangd's own signing path (keystore.c): count signatures
 *		with a TPM key and with a file key, one line each,
 *		"STORE N signatures in S s: R/s".
 */

#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef KOBANGD_TPM

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "compat.h"
#include "keystore.h"

static ESYS_CONTEXT	*esys;
static TSS2_TCTI_CONTEXT *tcti;

static void
connect_tpm(const char *conf)
{
	TSS2_RC	rc;

	if ((rc = Tss2_TctiLdr_Initialize(conf, &tcti)) != TSS2_RC_SUCCESS ||
	    (rc = Esys_Initialize(&esys, tcti, NULL)) != TSS2_RC_SUCCESS)
		errx(2, "TPM at %s: %s", conf, Tss2_RC_Decode(rc));
}

/* The SRK exactly as kobangd makes it (keystore_tpm.c). */
static ESYS_TR
srk(void)
{
	TPM2B_SENSITIVE_CREATE	 sens;
	TPM2B_PUBLIC		 t;
	TPM2B_DATA		 outside;
	TPML_PCR_SELECTION	 pcrs;
	ESYS_TR			 h;
	TSS2_RC			 rc;

	memset(&sens, 0, sizeof(sens));
	memset(&outside, 0, sizeof(outside));
	memset(&pcrs, 0, sizeof(pcrs));
	memset(&t, 0, sizeof(t));
	t.publicArea.type = TPM2_ALG_ECC;
	t.publicArea.nameAlg = TPM2_ALG_SHA256;
	t.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM |
	    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
	    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	t.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
	t.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
	t.publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	t.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	t.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	t.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	t.publicArea.unique.ecc.x.size = 32;
	t.publicArea.unique.ecc.y.size = 32;
	if ((rc = Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sens, &t, &outside, &pcrs, &h, NULL,
	    NULL, NULL, NULL)) != TSS2_RC_SUCCESS)
		errx(2, "CreatePrimary: %s", Tss2_RC_Decode(rc));
	return (h);
}

/* A policy session that has asserted TPM2_CC_Duplicate. */
static ESYS_TR
dup_session(TPM2_SE type)
{
	TPMT_SYM_DEF	sym = { .algorithm = TPM2_ALG_NULL };
	ESYS_TR		s;
	TSS2_RC		rc;

	if ((rc = Esys_StartAuthSession(esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, type, &sym,
	    TPM2_ALG_SHA256, &s)) != TSS2_RC_SUCCESS ||
	    (rc = Esys_PolicyCommandCode(esys, s, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, TPM2_CC_Duplicate)) != TSS2_RC_SUCCESS)
		errx(2, "policy session: %s", Tss2_RC_Decode(rc));
	return (s);
}

/* TPM2_Duplicate to no new parent, unwrapped: the TPM's answer. */
static TSS2_RC
duplicate(ESYS_TR key)
{
	TPM2B_DATA		 inkey;
	TPMT_SYM_DEF_OBJECT	 sym = { .algorithm = TPM2_ALG_NULL };
	TPM2B_DATA		*outkey = NULL;
	TPM2B_PRIVATE		*dup = NULL;
	TPM2B_ENCRYPTED_SECRET	*seed = NULL;
	ESYS_TR			 s = dup_session(TPM2_SE_POLICY);
	TSS2_RC			 rc;

	memset(&inkey, 0, sizeof(inkey));
	rc = Esys_Duplicate(esys, key, ESYS_TR_RH_NULL, s, ESYS_TR_NONE,
	    ESYS_TR_NONE, &inkey, &sym, &outkey, &dup, &seed);
	if (rc == TSS2_RC_SUCCESS)
		printf("the TPM handed out the key: %u bytes\n",
		    (unsigned int)dup->size);
	Esys_Free(outkey);
	Esys_Free(dup);
	Esys_Free(seed);
	(void)Esys_FlushContext(esys, s);
	return (rc);
}

/*
 * SHA-256 of the SPKI DER of the TPM's public area, made with OpenSSL
 * alone (not kobangd's code), for the test to hold against the peer's.
 */
static void
print_spki(const TPMT_PUBLIC *pa)
{
	uint8_t		 pt[65], *der = NULL, md[32];
	unsigned int	 mdlen = 0, i;
	OSSL_PARAM_BLD	*bld;
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;
	int		 n;

	if (pa->unique.ecc.x.size != 32 || pa->unique.ecc.y.size != 32)
		errx(2, "the TPM's point is not 2 x 32 bytes");
	pt[0] = 0x04;
	memcpy(pt + 1, pa->unique.ecc.x.buffer, 32);
	memcpy(pt + 33, pa->unique.ecc.y.buffer, 32);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    (n = i2d_PUBKEY(pk, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
		errx(2, "cannot encode the TPM's public key");
	printf("spki ");
	for (i = 0; i < mdlen; i++)
		printf("%02x", md[i]);
	printf("\n");
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
}

static void
disconnect_tpm(void)
{
	Esys_Finalize(&esys);
	Tss2_TctiLdr_Finalize(&tcti);
}

static int
cmd_export(const char *conf, const char *path)
{
	FILE		*f;
	uint8_t		 buf[8192];
	size_t		 len, off = 8;
	TPM2B_PUBLIC	 pub, *back = NULL;
	TPM2B_PRIVATE	 priv;
	ESYS_TR		 parent, key;
	TPMA_OBJECT	 a;
	TSS2_RC		 rc;

	if ((f = fopen(path, "rb")) == NULL)
		err(2, "%s", path);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	memset(&pub, 0, sizeof(pub));
	memset(&priv, 0, sizeof(priv));
	if (len < 8 || memcmp(buf, "KOBTPM01", 8) != 0 ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &pub) != 0 ||
	    Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, len, &off, &priv) != 0)
		errx(2, "%s: not a kobangd TPM key blob", path);
	connect_tpm(conf);
	parent = srk();
	if ((rc = Esys_Load(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &priv, &pub, &key)) != TSS2_RC_SUCCESS)
		errx(2, "Load: %s", Tss2_RC_Decode(rc));
	(void)Esys_FlushContext(esys, parent);
	if ((rc = Esys_ReadPublic(esys, key, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &back, NULL, NULL)) != TSS2_RC_SUCCESS)
		errx(2, "ReadPublic: %s", Tss2_RC_Decode(rc));
	a = back->publicArea.objectAttributes;
	print_spki(&back->publicArea);
	Esys_Free(back);
	printf("attributes 0x%08x: fixedTPM %s, fixedParent %s, "
	    "sensitiveDataOrigin %s\n", (unsigned int)a,
	    (a & TPMA_OBJECT_FIXEDTPM) ? "yes" : "no",
	    (a & TPMA_OBJECT_FIXEDPARENT) ? "yes" : "no",
	    (a & TPMA_OBJECT_SENSITIVEDATAORIGIN) ? "yes" : "no");
	if ((a & (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT)) !=
	    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT)) {
		printf("the key may leave the TPM\n");
		return (1);
	}
	rc = duplicate(key);
	(void)Esys_FlushContext(esys, key);
	disconnect_tpm();
	if (rc == TSS2_RC_SUCCESS)
		return (1);
	if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
		errx(2, "Duplicate not answered by the TPM: %s",
		    Tss2_RC_Decode(rc));
	printf("the TPM refuses to duplicate the key: %s\n",
	    Tss2_RC_Decode(rc));
	return (0);
}

static int
cmd_control(const char *conf)
{
	TPM2B_SENSITIVE_CREATE	 sens;
	TPM2B_PUBLIC		 t, *pub = NULL;
	TPM2B_PRIVATE		*priv = NULL;
	TPM2B_DATA		 outside;
	TPML_PCR_SELECTION	 pcrs;
	TPM2B_DIGEST		*pol = NULL;
	ESYS_TR			 parent, trial, key;
	TSS2_RC			 rc;

	connect_tpm(conf);
	parent = srk();
	trial = dup_session(TPM2_SE_TRIAL);
	if ((rc = Esys_PolicyGetDigest(esys, trial, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, &pol)) != TSS2_RC_SUCCESS)
		errx(2, "PolicyGetDigest: %s", Tss2_RC_Decode(rc));
	(void)Esys_FlushContext(esys, trial);
	memset(&sens, 0, sizeof(sens));
	memset(&outside, 0, sizeof(outside));
	memset(&pcrs, 0, sizeof(pcrs));
	memset(&t, 0, sizeof(t));
	t.publicArea.type = TPM2_ALG_ECC;
	t.publicArea.nameAlg = TPM2_ALG_SHA256;
	t.publicArea.objectAttributes = TPMA_OBJECT_SENSITIVEDATAORIGIN |
	    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
	    TPMA_OBJECT_SIGN_ENCRYPT;
	t.publicArea.authPolicy = *pol;
	Esys_Free(pol);
	t.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	t.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	t.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg =
	    TPM2_ALG_SHA256;
	t.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	t.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	if ((rc = Esys_Create(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &sens, &t, &outside, &pcrs, &priv, &pub, NULL, NULL,
	    NULL)) != TSS2_RC_SUCCESS ||
	    (rc = Esys_Load(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, priv, pub, &key)) != TSS2_RC_SUCCESS)
		errx(2, "exportable key: %s", Tss2_RC_Decode(rc));
	Esys_Free(pub);
	Esys_Free(priv);
	(void)Esys_FlushContext(esys, parent);
	rc = duplicate(key);
	(void)Esys_FlushContext(esys, key);
	disconnect_tpm();
	if (rc != TSS2_RC_SUCCESS) {
		printf("an exportable key was not handed out: %s\n",
		    Tss2_RC_Decode(rc));
		return (1);
	}
	return (0);
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
bench_store(const char *store, const char *conf, const char *statedir,
    int count)
{
	struct keystore	*ks;
	uint8_t		 d[KEYSTORE_DIGEST_LEN], sig[KEYSTORE_SIG_MAX];
	size_t		 len;
	char		 e[KEYSTORE_ERRLEN];
	double		 t0, t;
	int		 i;

	if ((ks = keystore_open(statedir, e, sizeof(e))) == NULL ||
	    keystore_select(ks, store, conf, e, sizeof(e)) == -1 ||
	    keystore_key(ks, 1, e, sizeof(e)) != 0)
		errx(2, "%s: %s", store, e);
	arc4random_buf(d, sizeof(d));
	t0 = now();
	for (i = 0; i < count; i++) {
		d[0] = (uint8_t)i;
		if (keystore_sign(ks, d, sizeof(d), sig, &len) == -1)
			errx(2, "%s: signature %d failed: %s", store, i,
			    keystore_error(ks, NULL) != NULL ?
			    keystore_error(ks, NULL) : "?");
	}
	t = now() - t0;
	printf("%s %d signatures in %.3f s: %.1f/s\n", store, count, t,
	    count / t);
	keystore_close(ks);
}

int
main(int argc, char *argv[])
{
	char	dir[4096];

	if (argc == 4 && strcmp(argv[1], "export") == 0)
		return (cmd_export(argv[2], argv[3]));
	if (argc == 3 && strcmp(argv[1], "control") == 0)
		return (cmd_control(argv[2]));
	if (argc == 5 && strcmp(argv[1], "bench") == 0) {
		snprintf(dir, sizeof(dir), "%s/tpm", argv[3]);
		bench_store("tpm", argv[2], dir, atoi(argv[4]));
		snprintf(dir, sizeof(dir), "%s/file", argv[3]);
		bench_store("file", argv[2], dir, atoi(argv[4]));
		return (0);
	}
	fprintf(stderr, "usage: tpmkey export tcti blobfile | control tcti | "
	    "bench tcti statedir count\n");
	return (2);
}

#else

int
main(void)
{
	fprintf(stderr, "tpmkey: built without the TPM key store\n");
	return (2);
}

#endif
