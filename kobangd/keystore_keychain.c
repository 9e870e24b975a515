/*
 * macOS: the device key as a permanent, non-extractable P-256 key in the
 * System keychain (kobangd runs as root), found by the reference's
 * application tag, as PROTOCOL.md 4.1 describes, with
 * kobangd.keyStore: keychain.  The state file stays in the identity
 * directory (keystore.c).
 *
 * Compiled on macOS only.  It is not built or tested by this project's
 * regress suite (which runs on Linux); treat it as untested.
 */

#ifdef __APPLE__

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>

#include "keystore.h"

#define KC_TAG		"com.kobanhq.agent.sensor.identity.private-key"
#define KC_LABEL	"Koban Sensor Identity"

static CFDictionaryRef
kc_query(CFDataRef tag)
{
	const void	*k[] = { kSecClass, kSecAttrKeyType, kSecAttrKeyClass,
			    kSecAttrApplicationTag, kSecReturnRef };
	const void	*v[] = { kSecClassKey, kSecAttrKeyTypeECSECPrimeRandom,
			    kSecAttrKeyClassPrivate, tag, kCFBooleanTrue };

	return (CFDictionaryCreate(NULL, k, v, 5,
	    &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks));
}

static int	kc_spki(struct keystore *, uint8_t [PROTO_SPKI_LEN]);
static void	kc_close(struct keystore *);

/* Loaded with its public key, or dropped. */
static int
kc_loaded(struct keystore *ks, void *key, char *err, size_t errlen)
{
	ks->key = key;
	if (kc_spki(ks, ks->spki) == -1) {
		kc_close(ks);
		snprintf(err, errlen, "the keychain key is not a P-256 key");
		return (-1);
	}
	return (0);
}

static int
kc_present(struct keystore *ks)
{
	CFDataRef	 tag;
	CFDictionaryRef	 q;
	CFTypeRef	 item = NULL;
	OSStatus	 st;

	tag = CFDataCreate(NULL, (const UInt8 *)KC_TAG, strlen(KC_TAG));
	q = kc_query(tag);
	st = SecItemCopyMatching(q, &item);
	CFRelease(q);
	CFRelease(tag);
	if (item != NULL)
		CFRelease(item);
	/* Any answer but "not found" counts: never make a second key. */
	return (st != errSecItemNotFound);
}

static int
kc_load(struct keystore *ks, int create, char *err, size_t errlen)
{
	CFDataRef		 tag;
	CFDictionaryRef		 q;
	CFMutableDictionaryRef	 attrs, priv;
	CFTypeRef		 item = NULL;
	CFErrorRef		 cferr = NULL;
	SecKeyRef		 key;
	int			 bits = 256;
	CFNumberRef		 nbits;
	OSStatus		 st;

	tag = CFDataCreate(NULL, (const UInt8 *)KC_TAG, strlen(KC_TAG));
	q = kc_query(tag);
	st = SecItemCopyMatching(q, &item);
	CFRelease(q);
	if (st == errSecSuccess) {
		CFRelease(tag);
		return (kc_loaded(ks, (void *)item, err, errlen));
	}
	if (st != errSecItemNotFound) {
		CFRelease(tag);
		snprintf(err, errlen, "keychain lookup failed: %d", (int)st);
		return (-1);
	}
	if (!create) {
		CFRelease(tag);
		return (1);
	}
	nbits = CFNumberCreate(NULL, kCFNumberIntType, &bits);
	priv = CFDictionaryCreateMutable(NULL, 0,
	    &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	CFDictionarySetValue(priv, kSecAttrIsPermanent, kCFBooleanTrue);
	CFDictionarySetValue(priv, kSecAttrApplicationTag, tag);
	CFDictionarySetValue(priv, kSecAttrLabel, CFSTR(KC_LABEL));
	CFDictionarySetValue(priv, kSecAttrIsExtractable, kCFBooleanFalse);
	CFDictionarySetValue(priv, kSecAttrAccessible,
	    kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly);
	attrs = CFDictionaryCreateMutable(NULL, 0,
	    &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	CFDictionarySetValue(attrs, kSecAttrKeyType,
	    kSecAttrKeyTypeECSECPrimeRandom);
	CFDictionarySetValue(attrs, kSecAttrKeySizeInBits, nbits);
	CFDictionarySetValue(attrs, kSecPrivateKeyAttrs, priv);
	key = SecKeyCreateRandomKey(attrs, &cferr);
	CFRelease(attrs);
	CFRelease(priv);
	CFRelease(nbits);
	CFRelease(tag);
	if (key == NULL) {
		if (cferr != NULL)
			CFRelease(cferr);
		snprintf(err, errlen, "cannot create the keychain key");
		return (-1);
	}
	return (kc_loaded(ks, (void *)key, err, errlen));
}

static int
kc_spki(struct keystore *ks, uint8_t spki[PROTO_SPKI_LEN])
{
	SecKeyRef	 pub;
	CFDataRef	 x963;
	int		 ret = -1;

	if ((pub = SecKeyCopyPublicKey((SecKeyRef)ks->key)) == NULL)
		return (-1);
	/* X9.63 uncompressed point: 0x04 || X || Y (4.1). */
	if ((x963 = SecKeyCopyExternalRepresentation(pub, NULL)) != NULL) {
		if (CFDataGetLength(x963) == PROTO_POINT_LEN)
			ret = proto_spki_der(CFDataGetBytePtr(x963), spki);
		CFRelease(x963);
	}
	CFRelease(pub);
	return (ret);
}

static int
kc_sign(struct keystore *ks, const uint8_t *dgst, size_t dlen,
    uint8_t *sig, size_t *siglen)
{
	CFDataRef	 d, s;
	CFIndex		 n;

	d = CFDataCreate(NULL, dgst, (CFIndex)dlen);
	s = SecKeyCreateSignature((SecKeyRef)ks->key,
	    kSecKeyAlgorithmECDSASignatureDigestX962SHA256, d, NULL);
	CFRelease(d);
	if (s == NULL)
		return (-1);
	n = CFDataGetLength(s);
	if (n <= 0 || n > KEYSTORE_SIG_MAX) {
		CFRelease(s);
		return (-1);
	}
	memcpy(sig, CFDataGetBytePtr(s), (size_t)n);
	*siglen = (size_t)n;
	CFRelease(s);
	return (0);
}

static void
kc_close(struct keystore *ks)
{
	if (ks->key != NULL)
		CFRelease((CFTypeRef)ks->key);
	ks->key = NULL;
}

static void
kc_where(const struct keystore *ks, char *buf, size_t len)
{
	snprintf(buf, len, "keychain System keychain, tag %s", KC_TAG);
}

const struct ks_backend ks_keychain_backend = {
	.name = "keychain",
	.present = kc_present,
	.load = kc_load,
	.sign = kc_sign,
	.close = kc_close,
	.where = kc_where,
};

#endif /* __APPLE__ */
