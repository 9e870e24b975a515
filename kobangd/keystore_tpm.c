/*
 * The TPM 2.0 backend of the device key (kobangd.keyStore: tpm), through
 * the TSS2 ESYS.  Compiled with KOBANGD_TPM (Linux, libtss2).
 *
 * The key is made by the TPM (TPM2_Create) as a P-256 ECDSA-SHA256
 * signing key with fixedTPM and fixedParent: the TPM never lets its
 * private part out, not even wrapped for another TPM, so the scalar is
 * in no process and no file.  Its parent is the owner hierarchy's
 * storage key, the TCG's standard ECC P-256 SRK template, made again
 * with TPM2_CreatePrimary whenever the key is loaded: from the same
 * owner seed it is the same key, so nothing is written to the TPM's
 * NV memory and no persistent handle is taken from other software.
 * What the TPM gives back, the key's public area and its private part
 * wrapped by the SRK, is key.tpm in the identity directory; the blob is
 * useless outside this TPM, and unloadable once the TPM is cleared
 * (a new owner seed): then the device must re-enroll.
 *
 * Only the parent (root) talks to the TPM.  The TCTI module (device,
 * swtpm, mssim...) is loaded by tss2-tctildr with dlopen() here, from
 * kobangd.tpmTCTI, so no child ever maps it.  The connection is made
 * when the key is loaded and again whenever a signature fails (the TPM
 * went away, or was restarted and forgot the loaded key); the public key
 * comes from key.tpm, so an unreachable TPM costs signatures, not the
 * identity.
 */

#ifdef KOBANGD_TPM

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "compat.h"
#include "keystore.h"

#define TPM_MAGIC	"KOBTPM01"
#define TPM_MAGIC_LEN	8
#define TPM_COORD	32		/* P-256 coordinate */
/* What the key must be: made here, bound here, for signing only. */
#define TPM_KEY_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
			 TPMA_OBJECT_SENSITIVEDATAORIGIN | \
			 TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | \
			 TPMA_OBJECT_SIGN_ENCRYPT)
#define TPM_KEY_MUST	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
			 TPMA_OBJECT_SENSITIVEDATAORIGIN | \
			 TPMA_OBJECT_SIGN_ENCRYPT)
#define TPM_KEY_NEVER	(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

struct tpm_blob {
	TPM2B_PUBLIC		 pub;
	TPM2B_PRIVATE		 priv;
};

struct tpm_key {
	struct tpm_blob		 blob;
	TSS2_TCTI_CONTEXT	*tcti;
	ESYS_CONTEXT		*esys;
	ESYS_TR			 handle;	/* ESYS_TR_NONE: not loaded */
	TPM2_HANDLE		 tpm_handle;	/* the TPM's name for it */
};

/* Why a step failed: the TPM answered no, or it could not be asked. */
enum tpm_fail {
	TF_REACH,		/* TCTI, resource manager, library */
	TF_REFUSED		/* the TPM itself refused */
};

static int
tpm_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static int
tpm_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (-1);
}

static enum tpm_fail
tpm_kind(TSS2_RC rc)
{
	return ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER ?
	    TF_REFUSED : TF_REACH);
}

/* The TCG provisioning guidance's ECC P-256 storage root key. */
static void
tpm_srk_template(TPM2B_PUBLIC *t)
{
	memset(t, 0, sizeof(*t));
	t->publicArea.type = TPM2_ALG_ECC;
	t->publicArea.nameAlg = TPM2_ALG_SHA256;
	t->publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM |
	    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
	    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	t->publicArea.parameters.eccDetail.symmetric.algorithm =
	    TPM2_ALG_AES;
	t->publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
	t->publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	t->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	t->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	t->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	t->publicArea.unique.ecc.x.size = TPM_COORD;
	t->publicArea.unique.ecc.y.size = TPM_COORD;
}

/* The device key: no policy, empty auth (root's anyway), noDA. */
static void
tpm_key_template(TPM2B_PUBLIC *t)
{
	memset(t, 0, sizeof(*t));
	t->publicArea.type = TPM2_ALG_ECC;
	t->publicArea.nameAlg = TPM2_ALG_SHA256;
	t->publicArea.objectAttributes = TPM_KEY_ATTRS;
	t->publicArea.parameters.eccDetail.symmetric.algorithm =
	    TPM2_ALG_NULL;
	t->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	t->publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg =
	    TPM2_ALG_SHA256;
	t->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	t->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

/* A coordinate, left-padded to 32 bytes. */
static int
tpm_coord(const TPM2B_ECC_PARAMETER *p, uint8_t out[TPM_COORD])
{
	if (p->size == 0 || p->size > TPM_COORD)
		return (-1);
	memset(out, 0, TPM_COORD);
	memcpy(out + TPM_COORD - p->size, p->buffer, p->size);
	return (0);
}

/* The SPKI of a public area, the point checked to be on P-256. */
static int
tpm_spki(const TPMT_PUBLIC *pa, uint8_t spki[PROTO_SPKI_LEN])
{
	uint8_t		 point[PROTO_POINT_LEN];
	const uint8_t	*p = spki;
	EVP_PKEY	*pk;
	int		 ok;

	point[0] = 0x04;
	if (tpm_coord(&pa->unique.ecc.x, point + 1) == -1 ||
	    tpm_coord(&pa->unique.ecc.y, point + 1 + TPM_COORD) == -1 ||
	    proto_spki_der(point, spki) == -1)
		return (-1);
	if ((pk = d2i_PUBKEY(NULL, &p, PROTO_SPKI_LEN)) == NULL)
		return (-1);
	ok = EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    p == spki + PROTO_SPKI_LEN;
	EVP_PKEY_free(pk);
	return (ok ? 0 : -1);
}

int
keystore_tpm_decode(const uint8_t *buf, size_t len, struct tpm_blob **bp,
    uint8_t spki[PROTO_SPKI_LEN], char *err, size_t errlen)
{
	struct tpm_blob		*b;
	const TPMT_PUBLIC	*pa;
	const TPMS_ECC_PARMS	*ecc;
	size_t			 off = TPM_MAGIC_LEN;

	*bp = NULL;
	if (len < TPM_MAGIC_LEN || memcmp(buf, TPM_MAGIC, TPM_MAGIC_LEN) != 0)
		return (tpm_err(err, errlen, "not a kobangd TPM key blob"));
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (tpm_err(err, errlen, "out of memory"));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &b->pub) !=
	    TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, len, &off, &b->priv) !=
	    TSS2_RC_SUCCESS || off != len) {
		keystore_tpm_blob_free(b);
		return (tpm_err(err, errlen, "truncated or malformed TPM key "
		    "blob"));
	}
	pa = &b->pub.publicArea;
	ecc = &pa->parameters.eccDetail;
	if (b->pub.size == 0 || b->priv.size == 0 ||
	    pa->type != TPM2_ALG_ECC || pa->nameAlg != TPM2_ALG_SHA256 ||
	    (pa->objectAttributes & TPM_KEY_MUST) != TPM_KEY_MUST ||
	    (pa->objectAttributes & TPM_KEY_NEVER) != 0 ||
	    pa->authPolicy.size != 0 ||
	    ecc->symmetric.algorithm != TPM2_ALG_NULL ||
	    ecc->scheme.scheme != TPM2_ALG_ECDSA ||
	    ecc->scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256 ||
	    ecc->curveID != TPM2_ECC_NIST_P256 ||
	    ecc->kdf.scheme != TPM2_ALG_NULL) {
		keystore_tpm_blob_free(b);
		return (tpm_err(err, errlen, "the TPM key blob is not a "
		    "non-exportable P-256 signing key made by a TPM"));
	}
	if (tpm_spki(pa, spki) == -1) {
		keystore_tpm_blob_free(b);
		return (tpm_err(err, errlen, "the TPM key blob's public key "
		    "is not a P-256 point"));
	}
	*bp = b;
	return (0);
}

void
keystore_tpm_blob_free(struct tpm_blob *b)
{
	freezero(b, sizeof(*b));
}

static int
tpm_present(struct keystore *ks)
{
	char	*buf;
	size_t	 len;
	char	 err[8];
	int	 r;

	/* Anything under the name counts: never a second key beside it. */
	if ((r = keystore_read(ks, KEYSTORE_TPMKEY, &buf, &len, err,
	    sizeof(err))) == 0)
		freezero(buf, len + 1);
	return (r != 1);
}

static void
tpm_disconnect(struct tpm_key *k)
{
	if (k->esys != NULL) {
		if (k->handle != ESYS_TR_NONE)
			(void)Esys_FlushContext(k->esys, k->handle);
		Esys_Finalize(&k->esys);
	}
	if (k->tcti != NULL)
		Tss2_TctiLdr_Finalize(&k->tcti);
	k->esys = NULL;
	k->tcti = NULL;
	k->handle = ESYS_TR_NONE;
	k->tpm_handle = 0;
}

static int
tpm_connect(struct keystore *ks, struct tpm_key *k, char *err,
    size_t errlen)
{
	TSS2_RC	rc;

	if (k->esys != NULL)
		return (0);
	/* The library's own stderr chatter, unless asked for. */
	(void)setenv("TSS2_LOG", "all+none", 0);
	if ((rc = Tss2_TctiLdr_Initialize(ks->tcti, &k->tcti)) !=
	    TSS2_RC_SUCCESS) {
		k->tcti = NULL;
		return (tpm_err(err, errlen, "cannot reach the TPM through "
		    "\"%s\": %s", ks->tcti, Tss2_RC_Decode(rc)));
	}
	if ((rc = Esys_Initialize(&k->esys, k->tcti, NULL)) !=
	    TSS2_RC_SUCCESS) {
		k->esys = NULL;
		tpm_disconnect(k);
		return (tpm_err(err, errlen, "cannot use the TPM through "
		    "\"%s\": %s", ks->tcti, Tss2_RC_Decode(rc)));
	}
	return (0);
}

/* The storage root key, made again from the owner seed. */
static int
tpm_primary(struct keystore *ks, struct tpm_key *k, ESYS_TR *srk,
    enum tpm_fail *why, char *err, size_t errlen)
{
	TPM2B_SENSITIVE_CREATE	 sens;
	TPM2B_PUBLIC		 tmpl;
	TPM2B_DATA		 outside;
	TPML_PCR_SELECTION	 pcrs;
	TSS2_RC			 rc;

	memset(&sens, 0, sizeof(sens));
	memset(&outside, 0, sizeof(outside));
	memset(&pcrs, 0, sizeof(pcrs));
	tpm_srk_template(&tmpl);
	rc = Esys_CreatePrimary(k->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, srk,
	    NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		*why = tpm_kind(rc);
		return (tpm_err(err, errlen, "the TPM at \"%s\" made no "
		    "storage key in the owner hierarchy: %s", ks->tcti,
		    Tss2_RC_Decode(rc)));
	}
	return (0);
}

/* Connected, the SRK made, the key loaded under it, the SRK flushed. */
static int
tpm_ready(struct keystore *ks, enum tpm_fail *why, char *err, size_t errlen)
{
	struct tpm_key	*k = ks->key;
	ESYS_TR		 srk;
	TSS2_RC		 rc;

	*why = TF_REACH;
	if (k->handle != ESYS_TR_NONE)
		return (0);
	if (tpm_connect(ks, k, err, errlen) == -1 ||
	    tpm_primary(ks, k, &srk, why, err, errlen) == -1) {
		tpm_disconnect(k);
		return (-1);
	}
	rc = Esys_Load(k->esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &k->blob.priv, &k->blob.pub, &k->handle);
	(void)Esys_FlushContext(k->esys, srk);
	if (rc != TSS2_RC_SUCCESS) {
		k->handle = ESYS_TR_NONE;
		*why = tpm_kind(rc);
		tpm_disconnect(k);
		if (*why == TF_REFUSED)
			return (tpm_err(err, errlen, "the TPM refuses the key "
			    "blob %s/%s (%s): it was made by another TPM, or "
			    "this TPM was cleared since; the key is gone and "
			    "the device must re-enroll: stop kobangd, move %s "
			    "away, start it and enroll with a new token",
			    ks->dir, KEYSTORE_TPMKEY, Tss2_RC_Decode(rc),
			    ks->dir));
		return (tpm_err(err, errlen, "cannot load the key into the "
		    "TPM at \"%s\": %s", ks->tcti, Tss2_RC_Decode(rc)));
	}
	if (Esys_TR_GetTpmHandle(k->esys, k->handle, &k->tpm_handle) !=
	    TSS2_RC_SUCCESS)
		k->tpm_handle = 0;
	return (0);
}

/* A new key inside the TPM; its blob written to key.tpm. */
static int
tpm_create(struct keystore *ks, struct tpm_key *k, enum tpm_fail *why,
    char *err, size_t errlen)
{
	TPM2B_SENSITIVE_CREATE	 sens;
	TPM2B_PUBLIC		 tmpl, *pub = NULL;
	TPM2B_PRIVATE		*priv = NULL;
	TPM2B_DATA		 outside;
	TPML_PCR_SELECTION	 pcrs;
	ESYS_TR			 srk;
	TSS2_RC			 rc;
	uint8_t			 buf[TPM_MAGIC_LEN + sizeof(TPM2B_PUBLIC) +
				     sizeof(TPM2B_PRIVATE)];
	size_t			 off = TPM_MAGIC_LEN;
	int			 r;

	*why = TF_REACH;
	if (tpm_connect(ks, k, err, errlen) == -1 ||
	    tpm_primary(ks, k, &srk, why, err, errlen) == -1)
		return (-1);
	memset(&sens, 0, sizeof(sens));
	memset(&outside, 0, sizeof(outside));
	memset(&pcrs, 0, sizeof(pcrs));
	tpm_key_template(&tmpl);
	rc = Esys_Create(k->esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, &priv, &pub, NULL,
	    NULL, NULL);
	(void)Esys_FlushContext(k->esys, srk);
	if (rc != TSS2_RC_SUCCESS) {
		*why = tpm_kind(rc);
		return (tpm_err(err, errlen, "the TPM at \"%s\" made no key: "
		    "%s", ks->tcti, Tss2_RC_Decode(rc)));
	}
	*why = TF_REFUSED;
	memcpy(buf, TPM_MAGIC, TPM_MAGIC_LEN);
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) !=
	    TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof(buf), &off) !=
	    TSS2_RC_SUCCESS) {
		Esys_Free(pub);
		Esys_Free(priv);
		return (tpm_err(err, errlen, "cannot encode the TPM's key"));
	}
	Esys_Free(pub);
	Esys_Free(priv);
	r = keystore_write(ks, KEYSTORE_TPMKEY, buf, off, err, errlen);
	explicit_bzero(buf, sizeof(buf));
	return (r);
}

static int
tpm_load(struct keystore *ks, int create, char *err, size_t errlen)
{
	struct tpm_key	*k;
	struct tpm_blob	*b;
	enum tpm_fail	 why;
	char		*buf, derr[KEYSTORE_ERRLEN];
	size_t		 len;
	int		 r;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return (tpm_err(err, errlen, "out of memory"));
	k->handle = ESYS_TR_NONE;
	if ((r = keystore_read(ks, KEYSTORE_TPMKEY, &buf, &len, err,
	    errlen)) == 1) {
		if (!create) {
			free(k);
			return (1);
		}
		/* Made once, here, and never rotated (PROTOCOL.md 4.1). */
		if (tpm_create(ks, k, &why, err, errlen) == -1) {
			tpm_disconnect(k);
			free(k);
			/* An absent TPM may come: the caller tries later. */
			return (why == TF_REACH ? -2 : -1);
		}
		r = keystore_read(ks, KEYSTORE_TPMKEY, &buf, &len, err,
		    errlen);
	}
	if (r != 0) {
		tpm_disconnect(k);
		free(k);
		return (r == 1 ? tpm_err(err, errlen, "%s/%s: gone right after "
		    "it was written", ks->dir, KEYSTORE_TPMKEY) : -1);
	}
	r = keystore_tpm_decode((const uint8_t *)buf, len, &b, ks->spki,
	    derr, sizeof(derr));
	freezero(buf, len + 1);
	if (r == -1) {
		tpm_disconnect(k);
		free(k);
		return (tpm_err(err, errlen, "%s/%s: %s; the device must "
		    "re-enroll if the blob cannot be restored", ks->dir,
		    KEYSTORE_TPMKEY, derr));
	}
	k->blob = *b;
	keystore_tpm_blob_free(b);
	ks->key = k;
	/*
	 * The TPM's word on the blob now: a refusal is final (the key is
	 * gone), an unreachable TPM only delays the signatures.
	 */
	if (tpm_ready(ks, &why, derr, sizeof(derr)) == -1) {
		if (why == TF_REFUSED) {
			ks->key = NULL;
			freezero(k, sizeof(*k));
			return (tpm_err(err, errlen, "%s", derr));
		}
		keystore_set_error(ks, "%s", derr);
	} else
		keystore_set_error(ks, NULL);
	return (0);
}

/* The TPM's r and s as a DER ECDSA-Sig-Value. */
static int
tpm_der(const TPMS_SIGNATURE_ECC *e, uint8_t *sig, size_t *siglen)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	uint8_t		*p = sig;
	int		 n;

	if (e->signatureR.size == 0 || e->signatureR.size > TPM_COORD ||
	    e->signatureS.size == 0 || e->signatureS.size > TPM_COORD)
		return (-1);
	r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	s = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return (-1);
	}
	if (ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return (-1);
	}
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 || n > KEYSTORE_SIG_MAX ||
	    i2d_ECDSA_SIG(es, &p) != n) {
		ECDSA_SIG_free(es);
		return (-1);
	}
	ECDSA_SIG_free(es);
	*siglen = (size_t)n;
	return (0);
}

static int
tpm_sign(struct keystore *ks, const uint8_t *dgst, size_t dlen,
    uint8_t *sig, size_t *siglen)
{
	struct tpm_key		*k = ks->key;
	TPM2B_DIGEST		 d;
	TPMT_SIG_SCHEME		 scheme;
	TPMT_TK_HASHCHECK	 ticket;
	TPMT_SIGNATURE		*s = NULL;
	TSS2_RC			 rc;
	enum tpm_fail		 why;
	char			 err[KEYSTORE_ERRLEN];
	int			 attempt, ok;

	if (dlen > sizeof(d.buffer))
		return (-1);
	memset(&d, 0, sizeof(d));
	d.size = (UINT16)dlen;
	memcpy(d.buffer, dgst, dlen);
	memset(&scheme, 0, sizeof(scheme));
	scheme.scheme = TPM2_ALG_ECDSA;
	scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	/* An unrestricted key signs outside digests: the null ticket. */
	memset(&ticket, 0, sizeof(ticket));
	ticket.tag = TPM2_ST_HASHCHECK;
	ticket.hierarchy = TPM2_RH_NULL;
	/* A second attempt on a fresh connection: the TPM may be back. */
	for (attempt = 0; attempt < 2; attempt++) {
		if (tpm_ready(ks, &why, err, sizeof(err)) == -1) {
			if (why == TF_REFUSED)
				break;
			continue;
		}
		rc = Esys_Sign(k->esys, k->handle, ESYS_TR_PASSWORD,
		    ESYS_TR_NONE, ESYS_TR_NONE, &d, &scheme, &ticket, &s);
		if (rc == TSS2_RC_SUCCESS) {
			ok = s->sigAlg == TPM2_ALG_ECDSA &&
			    tpm_der(&s->signature.ecdsa, sig, siglen) == 0;
			Esys_Free(s);
			if (!ok) {
				(void)tpm_err(err, sizeof(err), "the TPM's "
				    "signature is not a P-256 ECDSA one");
				break;
			}
			keystore_set_error(ks, NULL);
			return (0);
		}
		(void)tpm_err(err, sizeof(err), "the TPM at \"%s\" did not "
		    "sign: %s", ks->tcti, Tss2_RC_Decode(rc));
		/* It may have restarted and forgotten the key. */
		tpm_disconnect(k);
	}
	keystore_set_error(ks, "%s", err);
	return (-1);
}

static void
tpm_close(struct keystore *ks)
{
	struct tpm_key	*k = ks->key;

	if (k == NULL)
		return;
	tpm_disconnect(k);
	freezero(k, sizeof(*k));
	ks->key = NULL;
}

static void
tpm_where(const struct keystore *ks, char *buf, size_t len)
{
	const struct tpm_key	*k = ks->key;

	if (k != NULL && k->handle != ESYS_TR_NONE && k->tpm_handle != 0)
		snprintf(buf, len, "tpm %s/%s, loaded as handle 0x%08x, "
		    "through %s", ks->dir, KEYSTORE_TPMKEY,
		    (unsigned int)k->tpm_handle, ks->tcti);
	else
		snprintf(buf, len, "tpm %s/%s, not loaded, through %s",
		    ks->dir, KEYSTORE_TPMKEY, ks->tcti);
}

const struct ks_backend ks_tpm_backend = {
	.name = "tpm",
	.present = tpm_present,
	.load = tpm_load,
	.sign = tpm_sign,
	.close = tpm_close,
	.where = tpm_where,
};

#endif /* KOBANGD_TPM */
