/*
 * Koban Sensor Protocol v1: route table, key and certificate formats,
 * and the enroll and check-in messages.  Pure functions: no I/O, no
 * clock, so the decoders can be fuzzed and the encoders checked against
 * the spec's vectors byte for byte.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "compat.h"
#include "jsonr.h"
#include "jsonw.h"
#include "proto.h"
#include "timefmt.h"
#include "utf8.h"

static const struct {
	const char	*path;
	const char	*name;
} proto_routes[PROTO_NROUTES] = {
	[PROTO_ENROLL] =	{ "api/sensor/v1/enroll", "enroll" },
	[PROTO_CONFIG] =	{ "api/sensor/v1/config", "config" },
	[PROTO_CHECKIN] =	{ "api/sensor/v1/check-in", "check-in" },
	[PROTO_SYNC] =		{ "api/sensor/v1/sync", "sync" },
};

const char *
proto_route_path(enum proto_route r)
{
	if ((unsigned int)r >= PROTO_NROUTES)
		return (NULL);
	return (proto_routes[r].path);
}

const char *
proto_route_name(enum proto_route r)
{
	if ((unsigned int)r >= PROTO_NROUTES)
		return ("unknown");
	return (proto_routes[r].name);
}

int
proto_route_protected(enum proto_route r)
{
	return (r != PROTO_ENROLL);
}

/* SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66) } */
static const uint8_t spki_prefix[26] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
	0x07, 0x03, 0x42, 0x00
};

int
proto_spki_der(const uint8_t point[PROTO_POINT_LEN],
    uint8_t der[PROTO_SPKI_LEN])
{
	if (point[0] != 0x04)
		return (-1);
	memcpy(der, spki_prefix, sizeof(spki_prefix));
	memcpy(der + sizeof(spki_prefix), point, PROTO_POINT_LEN);
	return (0);
}

#define PEM_PUB_BEGIN	"-----BEGIN PUBLIC KEY-----"
#define PEM_PUB_END	"-----END PUBLIC KEY-----"

int
proto_spki_pem(const uint8_t point[PROTO_POINT_LEN],
    char pem[PROTO_SPKI_PEM_LEN + 1])
{
	uint8_t	der[PROTO_SPKI_LEN];
	char	b64[128];
	int	n;

	if (proto_spki_der(point, der) == -1 ||
	    (n = b64_encode(der, sizeof(der), b64, sizeof(b64))) != 124)
		return (-1);
	/* 124 characters: one line of 64, one of 60; no final newline. */
	n = snprintf(pem, PROTO_SPKI_PEM_LEN + 1, "%s\n%.64s\n%s\n%s",
	    PEM_PUB_BEGIN, b64, b64 + 64, PEM_PUB_END);
	return (n == PROTO_SPKI_PEM_LEN ? 0 : -1);
}

#define PEM_CERT_BEGIN	"-----BEGIN CERTIFICATE-----"
#define PEM_CERT_END	"-----END CERTIFICATE-----"

/*
 * Length of a whitespace character at p in valid UTF-8, else 0: what
 * Swift's CharacterSet.whitespacesAndNewlines holds (U+0009-U+000D,
 * U+0020, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
 * U+205F, U+3000).
 */
static size_t
unicode_space(const unsigned char *p, size_t left)
{
	if (p[0] == ' ' || (p[0] >= 0x09 && p[0] <= 0x0d))
		return (1);
	if (left >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return (2);
	if (left < 3)
		return (0);
	if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)	/* U+1680 */
		return (3);
	if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8a) ||
	    p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return (3);
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)	/* U+205F */
		return (3);
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)	/* U+3000 */
		return (3);
	return (0);
}

int
proto_cert_der(const uint8_t *in, size_t len, uint8_t **derp,
    size_t *derlenp)
{
	const uint8_t	*b, *e, *p;
	char		*body = NULL;
	uint8_t		*der = NULL;
	size_t		 n = 0, sl, bl = strlen(PEM_CERT_BEGIN);
	long long	 dl;

	*derp = NULL;
	*derlenp = 0;
	if (len == 0 || len > PROTO_CERT_RAW_MAX)
		return (-1);
	b = utf8_valid(in, len) ? memmem(in, len, PEM_CERT_BEGIN, bl) : NULL;
	e = b != NULL ? memmem(in, len, PEM_CERT_END,
	    strlen(PEM_CERT_END)) : NULL;
	if (b == NULL || e == NULL) {
		/* Not PEM: the bytes are the DER (4.3 steps 1 and 2). */
		if (len > PROTO_CERT_MAX || (der = malloc(len)) == NULL)
			return (-1);
		memcpy(der, in, len);
		*derp = der;
		*derlenp = len;
		return (0);
	}
	b += bl;
	if (e < b)
		return (-1);
	if ((body = malloc((size_t)(e - b) + 1)) == NULL)
		return (-1);
	for (p = b; p < e; ) {
		if ((sl = unicode_space(p, (size_t)(e - p))) > 0) {
			p += sl;
			continue;
		}
		body[n++] = (char)*p++;
	}
	if ((der = malloc(b64_declen(n) + 1)) == NULL ||
	    (dl = b64_decode(body, n, der, b64_declen(n))) <= 0 ||
	    dl > PROTO_CERT_MAX) {
		free(body);
		free(der);
		return (-1);
	}
	free(body);
	*derp = der;
	*derlenp = (size_t)dl;
	return (0);
}

int
proto_cert_pem(const uint8_t *der, size_t len, char **pemp, size_t *pemlenp)
{
	char	*b64 = NULL, *pem = NULL;
	size_t	 bl, i, o = 0, cap;
	int	 n;

	*pemp = NULL;
	if (len == 0 || len > PROTO_CERT_MAX)
		return (-1);
	bl = b64_enclen(len);
	cap = strlen(PEM_CERT_BEGIN) + strlen(PEM_CERT_END) + bl +
	    bl / 64 + 4;
	if ((b64 = malloc(bl + 1)) == NULL || (pem = malloc(cap)) == NULL ||
	    (n = b64_encode(der, len, b64, bl + 1)) < 0) {
		free(b64);
		free(pem);
		return (-1);
	}
	o = (size_t)snprintf(pem, cap, "%s\n", PEM_CERT_BEGIN);
	for (i = 0; i < bl; i += 64) {
		size_t	l = bl - i < 64 ? bl - i : 64;

		memcpy(pem + o, b64 + i, l);
		o += l;
		pem[o++] = '\n';
	}
	o += (size_t)snprintf(pem + o, cap - o, "%s\n", PEM_CERT_END);
	free(b64);
	*pemp = pem;
	*pemlenp = o;
	return (0);
}

/* A Data field: base64 of the bytes, '/' escaped by the writer. */
static int
put_data(struct jsonw *w, const char *key, const void *buf, size_t len)
{
	char	*b64;
	size_t	 bl = b64_enclen(len);

	if ((bl == 0 && len != 0) || (b64 = malloc(bl + 1)) == NULL)
		return (-1);
	if (b64_encode(buf, len, b64, bl + 1) < 0) {
		free(b64);
		return (-1);
	}
	jsonw_key(w, key);
	jsonw_stringn(w, b64, bl);
	freezero(b64, bl + 1);
	return (0);
}

static void
put_str(struct jsonw *w, const char *key, const char *val)
{
	jsonw_key(w, key);
	jsonw_string(w, val);
}

/* 6.1 SensorHealth: the same object in check-in and sync requests. */
static void
put_health(struct jsonw *w, const struct proto_health *health)
{
	jsonw_key(w, "health");
	jsonw_object_begin(w);
	jsonw_key(w, "syncBacklogEvents");
	jsonw_uint(w, health->backlog_events);
	jsonw_key(w, "syncBacklogBytes");
	jsonw_uint(w, health->backlog_bytes);
	jsonw_object_end(w);
}

int
proto_enroll_request(struct jsonw *w, const char *token, const char *spki_pem,
    const struct proto_host *host)
{
	jsonw_object_begin(w);
	put_str(w, "token", token);
	if (put_data(w, "publicKey", spki_pem, strlen(spki_pem)) == -1)
		return (-1);
	put_str(w, "hostname", host->hostname);
	put_str(w, "osVersion", host->os_version);
	put_str(w, "hardwareModel", host->hardware_model);
	put_str(w, "sensorVersion", PROTO_SENSOR_VERSION);
	jsonw_object_end(w);
	return (jsonw_result(w, NULL) == NULL ? -1 : 0);
}

int
proto_checkin_request(struct jsonw *w, const char *tenant, const char *device,
    const char *os_version, const char *generation,
    const struct proto_health *health)
{
	jsonw_object_begin(w);
	put_str(w, "tenantId", tenant);
	put_str(w, "deviceId", device);
	put_str(w, "sensorVersion", PROTO_SENSOR_VERSION);
	put_str(w, "osVersion", os_version);
	put_str(w, "activeConfigGeneration", generation);
	put_health(w, health);
	jsonw_object_end(w);
	return (jsonw_result(w, NULL) == NULL ? -1 : 0);
}

/* Decoding helpers: each names the key in err when it fails. */
struct dec {
	struct jsonr	 jr;
	char		*err;
	size_t		 errlen;
};

static int
dec_fail(struct dec *d, const char *key, const char *what)
{
	snprintf(d->err, d->errlen, "%s: %s", key, what);
	return (-1);
}

/* Parse at most maxtok values; a sync response has more than the rest. */
static int
dec_begin(struct dec *d, const char *s, size_t len, int maxtok, char *err,
    size_t errlen)
{
	d->err = err;
	d->errlen = errlen;
	if (jsonr_parse(&d->jr, s, len, maxtok) == -1) {
		snprintf(err, errlen, "invalid JSON: %s", d->jr.err);
		jsonr_free(&d->jr);
		return (-1);
	}
	return (0);
}

/* A required string; empty refused when nonempty is set. */
static int
dec_str(struct dec *d, const char *key, char *buf, size_t bufsz,
    int nonempty)
{
	int	t;
	size_t	len;

	if ((t = jsonr_get(&d->jr, 0, key)) == -1)
		return (dec_fail(d, key, "missing"));
	if (jsonr_type(&d->jr, t) != JSONR_STRING)
		return (dec_fail(d, key, "not a string"));
	if (jsonr_string(&d->jr, t, buf, bufsz, &len) == -1)
		return (dec_fail(d, key, "too long or holds a NUL"));
	if (nonempty && len == 0)
		return (dec_fail(d, key, "empty"));
	return (0);
}

static int
dec_bool(struct dec *d, const char *key, int *v)
{
	int	t;

	if ((t = jsonr_get(&d->jr, 0, key)) == -1)
		return (dec_fail(d, key, "missing"));
	if (jsonr_bool(&d->jr, t, v) == -1)
		return (dec_fail(d, key, "not a boolean"));
	return (0);
}

/*
 * serverTime, configGeneration and configUpdateAvailable, checked in
 * this order: the check-in (6.3) and sync (6.6) responses both carry
 * them.
 */
static int
dec_server(struct dec *d, char stime[PROTO_STR_MAX + 1],
    char gen[PROTO_STR_MAX + 1], int *update)
{
	if (dec_str(d, "serverTime", stime, PROTO_STR_MAX + 1, 0) ||
	    dec_str(d, "configGeneration", gen, PROTO_STR_MAX + 1, 0) ||
	    dec_bool(d, "configUpdateAvailable", update))
		return (-1);
	return (0);
}

/* A required Data field: canonical base64, 1..max decoded bytes. */
static int
dec_data(struct dec *d, const char *key, size_t max, uint8_t **bufp,
    size_t *lenp)
{
	char		*s;
	uint8_t		*b;
	size_t		 len, cap;
	long long	 n;
	int		 t;

	if ((t = jsonr_get(&d->jr, 0, key)) == -1)
		return (dec_fail(d, key, "missing"));
	if (jsonr_type(&d->jr, t) != JSONR_STRING)
		return (dec_fail(d, key, "not a string"));
	cap = b64_enclen(max) + 1;
	if ((s = malloc(cap)) == NULL)
		return (dec_fail(d, key, "out of memory"));
	if (jsonr_string(&d->jr, t, s, cap, &len) == -1) {
		free(s);
		return (dec_fail(d, key, "too long"));
	}
	if ((b = malloc(b64_declen(len) + 1)) == NULL) {
		free(s);
		return (dec_fail(d, key, "out of memory"));
	}
	n = b64_decode(s, len, b, b64_declen(len));
	free(s);
	if (n < 0) {
		free(b);
		return (dec_fail(d, key, "not canonical base64"));
	}
	if (n == 0 || (size_t)n > max) {
		free(b);
		return (dec_fail(d, key, n == 0 ? "empty" : "too long"));
	}
	*bufp = b;
	*lenp = (size_t)n;
	return (0);
}

int
proto_enroll_response(const char *s, size_t len,
    struct proto_enroll_resp *r, char *err, size_t errlen)
{
	struct dec	d;
	int		ret = -1;

	memset(r, 0, sizeof(*r));
	if (dec_begin(&d, s, len, PROTO_MAX_TOKENS, err, errlen) == -1)
		return (-1);
	if (dec_str(&d, "tenantId", r->tenant_id, sizeof(r->tenant_id), 1) ||
	    dec_str(&d, "deviceId", r->device_id, sizeof(r->device_id), 1) ||
	    dec_data(&d, "clientCertificate", PROTO_CERT_RAW_MAX, &r->cert,
	    &r->cert_len) ||
	    dec_str(&d, "certificateExpiresAt", r->expires_at,
	    sizeof(r->expires_at), 0))
		goto out;
	ret = 0;
 out:
	jsonr_free(&d.jr);
	if (ret == -1)
		proto_enroll_response_free(r);
	return (ret);
}

void
proto_enroll_response_free(struct proto_enroll_resp *r)
{
	free(r->cert);
	memset(r, 0, sizeof(*r));
}

int
proto_checkin_response(const char *s, size_t len,
    struct proto_checkin_resp *r, char *err, size_t errlen)
{
	struct dec	d;
	int		ret = -1;

	memset(r, 0, sizeof(*r));
	if (dec_begin(&d, s, len, PROTO_MAX_TOKENS, err, errlen) == -1)
		return (-1);
	if (dec_server(&d, r->server_time, r->config_generation,
	    &r->config_update_available) ||
	    dec_bool(&d, "certificateRenewalRequired",
	    &r->certificate_renewal_required) ||
	    dec_bool(&d, "fullResnapshotRequested",
	    &r->full_resnapshot_requested))
		goto out;
	ret = 0;
 out:
	jsonr_free(&d.jr);
	if (ret == -1)
		memset(r, 0, sizeof(*r));
	return (ret);
}

int
proto_sync_request(struct jsonw *w, const char *tenant, const char *device,
    int64_t last_acked, const struct proto_sync_event *ev, size_t n,
    const struct proto_health *health)
{
	char	obs[TIMEFMT_BUFSZ], col[TIMEFMT_BUFSZ];
	size_t	i;

	if (n == 0)
		return (-1);
	jsonw_object_begin(w);
	if (tenant != NULL)
		put_str(w, "tenantId", tenant);
	put_str(w, "deviceId", device);
	put_str(w, "sensorVersion", PROTO_SENSOR_VERSION);
	jsonw_key(w, "schemaVersion");
	jsonw_int(w, 1);
	jsonw_key(w, "lastAckedLocalSequence");
	jsonw_int(w, last_acked);
	jsonw_key(w, "events");
	jsonw_array_begin(w);
	for (i = 0; i < n; i++) {
		if (timefmt_ms(ev[i].observed_ms, obs) == -1 ||
		    timefmt_ms(ev[i].collected_ms, col) == -1)
			return (-1);
		jsonw_object_begin(w);
		put_str(w, "eventId", ev[i].event_id);
		put_str(w, "deviceId", ev[i].device_id);
		jsonw_key(w, "localSequence");
		jsonw_int(w, ev[i].local_seq);
		put_str(w, "surface", ev[i].surface);
		put_str(w, "kind", ev[i].kind);
		put_str(w, "observedAt", obs);
		put_str(w, "collectedAt", col);
		put_str(w, "payloadHash", ev[i].payload_hash);
		if (put_data(w, "payload", ev[i].payload,
		    ev[i].payload_len) == -1)
			return (-1);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	put_health(w, health);
	jsonw_object_end(w);
	return (jsonw_result(w, NULL) == NULL ? -1 : 0);
}

/* A required integer member of object obj within [min, max]. */
static int
dec_int_in(struct dec *d, int obj, const char *key, int64_t min,
    int64_t max, int64_t *v)
{
	int	t;

	if ((t = jsonr_get(&d->jr, obj, key)) == -1)
		return (dec_fail(d, key, "missing"));
	if (jsonr_int64(&d->jr, t, min, max, v) == -1)
		return (dec_fail(d, key, "not an integer in range"));
	return (0);
}

/* A required member of type want in object obj: its token, or -1. */
static int
dec_member(struct dec *d, int obj, const char *key, enum jsonr_type want)
{
	int	t;
	int	ok;

	if ((t = jsonr_get(&d->jr, obj, key)) == -1)
		return (dec_fail(d, key, "missing"));
	if (want == JSONR_TRUE)
		ok = jsonr_type(&d->jr, t) == JSONR_TRUE ||
		    jsonr_type(&d->jr, t) == JSONR_FALSE;
	else
		ok = jsonr_type(&d->jr, t) == want;
	if (!ok)
		return (dec_fail(d, key, "wrong type"));
	return (t);
}

/*
 * acceptedEvents or rejectedEvents: every element an object with its
 * keys; the local sequences into a malloc'ed array.
 */
static int
dec_seq_array(struct dec *d, const char *key, int rejected, int64_t **out,
    size_t *nout)
{
	char	 buf[PROTO_STR_MAX + 1];
	int64_t	*v = NULL, seq;
	int	 a, e, t, n, i;

	*out = NULL;
	*nout = 0;
	if ((a = dec_member(d, 0, key, JSONR_ARRAY)) == -1)
		return (-1);
	if ((n = jsonr_size(&d->jr, a)) > PROTO_SYNC_MAX_EVENTS)
		return (dec_fail(d, key, "too many elements"));
	if (n > 0 && (v = calloc((size_t)n, sizeof(*v))) == NULL)
		return (dec_fail(d, key, "out of memory"));
	for (i = 0, e = a + 1; i < n; i++, e = jsonr_skip(&d->jr, e)) {
		if (jsonr_type(&d->jr, e) != JSONR_OBJECT)
			goto bad;
		if ((t = jsonr_get(&d->jr, e, "eventId")) == -1 ||
		    jsonr_string(&d->jr, t, buf, sizeof(buf), NULL) == -1)
			goto bad;
		if ((t = jsonr_get(&d->jr, e, "localSequence")) == -1 ||
		    jsonr_int64(&d->jr, t, 0, INT64_MAX, &seq) == -1)
			goto bad;
		if (!rejected) {
			if ((t = jsonr_get(&d->jr, e, "duplicate")) == -1 ||
			    jsonr_bool(&d->jr, t, &(int){ 0 }) == -1)
				goto bad;
		} else {
			if ((t = jsonr_get(&d->jr, e, "code")) == -1 ||
			    jsonr_string(&d->jr, t, buf, sizeof(buf),
			    NULL) == -1 ||
			    (t = jsonr_get(&d->jr, e, "message")) == -1 ||
			    jsonr_type(&d->jr, t) != JSONR_STRING)
				goto bad;
		}
		v[i] = seq;
	}
	*out = v;
	*nout = (size_t)n;
	return (0);
 bad:
	free(v);
	return (dec_fail(d, key, "malformed element"));
}

static int
dec_u32(struct dec *d, const char *key, uint32_t *v)
{
	int64_t	x;

	if (dec_int_in(d, 0, key, 0, UINT32_MAX, &x) == -1)
		return (-1);
	*v = (uint32_t)x;
	return (0);
}

int
proto_sync_response(const char *s, size_t len, struct proto_sync_resp *r,
    char *err, size_t errlen)
{
	struct dec	d;
	int		ret = -1;

	memset(r, 0, sizeof(*r));
	if (dec_begin(&d, s, len, PROTO_SYNC_MAX_TOKENS, err, errlen) == -1)
		return (-1);
	if (dec_int_in(&d, 0, "acceptedThroughLocalSequence", 0, INT64_MAX,
	    &r->accepted_through) ||
	    dec_seq_array(&d, "acceptedEvents", 0, &r->accepted,
	    &r->naccepted) ||
	    dec_seq_array(&d, "rejectedEvents", 1, &r->rejected,
	    &r->nrejected) ||
	    dec_server(&d, r->server_time, r->config_generation,
	    &r->config_update_available) ||
	    dec_bool(&d, "fullResnapshotRequested",
	    &r->full_resnapshot_requested) ||
	    dec_u32(&d, "retryAfterSeconds", &r->retry_after) ||
	    dec_u32(&d, "maxBatchBytes", &r->max_batch_bytes) ||
	    dec_u32(&d, "maxBatchEvents", &r->max_batch_events))
		goto out;
	ret = 0;
 out:
	jsonr_free(&d.jr);
	if (ret == -1)
		proto_sync_response_free(r);
	return (ret);
}

void
proto_sync_response_free(struct proto_sync_resp *r)
{
	free(r->accepted);
	free(r->rejected);
	memset(r, 0, sizeof(*r));
}

int
proto_config_request(struct jsonw *w, const char *tenant, const char *device,
    const char *generation)
{
	jsonw_object_begin(w);
	put_str(w, "tenantId", tenant);
	put_str(w, "deviceId", device);
	put_str(w, "currentGeneration", generation);
	jsonw_object_end(w);
	return (jsonw_result(w, NULL) == NULL ? -1 : 0);
}

/*
 * An optional Data field (5.2): absent, null or "" is empty (*bufp
 * NULL); else canonical base64 of at most max bytes.
 */
static int
dec_opt_data(struct dec *d, const char *key, size_t max, uint8_t **bufp,
    size_t *lenp)
{
	char	one[2];
	size_t	l;
	int	t;

	*bufp = NULL;
	*lenp = 0;
	if ((t = jsonr_get(&d->jr, 0, key)) == -1 ||
	    jsonr_is_null(&d->jr, t))
		return (0);
	if (jsonr_type(&d->jr, t) == JSONR_STRING &&
	    jsonr_string(&d->jr, t, one, sizeof(one), &l) == 0 && l == 0)
		return (0);		/* "" */
	return (dec_data(d, key, max, bufp, lenp));
}

int
proto_config_response(const char *s, size_t len, struct proto_config_resp *r,
    char *err, size_t errlen)
{
	struct dec	d;
	int		ret = -1;

	memset(r, 0, sizeof(*r));
	if (dec_begin(&d, s, len, PROTO_MAX_TOKENS, err, errlen) == -1)
		return (-1);
	if (dec_str(&d, "generation", r->generation, sizeof(r->generation),
	    0) ||
	    dec_opt_data(&d, "configJson", PROTO_CONFIG_MAX, &r->config_json,
	    &r->config_len) ||
	    dec_opt_data(&d, "signature", PROTO_SIGNATURE_MAX, &r->signature,
	    &r->signature_len))
		goto out;
	ret = 0;
 out:
	jsonr_free(&d.jr);
	if (ret == -1)
		proto_config_response_free(r);
	return (ret);
}

void
proto_config_response_free(struct proto_config_resp *r)
{
	free(r->config_json);
	free(r->signature);
	memset(r, 0, sizeof(*r));
}

int
proto_validate(enum proto_route route, const char *s, size_t len, char *err,
    size_t errlen)
{
	struct proto_enroll_resp	er;
	struct proto_checkin_resp	cr;
	struct proto_sync_resp		sr;
	struct proto_config_resp	gr;

	switch (route) {
	case PROTO_ENROLL:
		if (proto_enroll_response(s, len, &er, err, errlen) == -1)
			return (-1);
		proto_enroll_response_free(&er);
		return (0);
	case PROTO_CHECKIN:
		return (proto_checkin_response(s, len, &cr, err, errlen));
	case PROTO_SYNC:
		if (proto_sync_response(s, len, &sr, err, errlen) == -1)
			return (-1);
		proto_sync_response_free(&sr);
		return (0);
	case PROTO_CONFIG:
		if (proto_config_response(s, len, &gr, err, errlen) == -1)
			return (-1);
		proto_config_response_free(&gr);
		return (0);
	default:
		snprintf(err, errlen, "unknown route");
		return (-1);
	}
}

static const char	hexdig[] = "0123456789abcdef";

int
proto_state_encode(struct jsonw *w, const struct proto_state *st)
{
	jsonw_object_begin(w);
	put_str(w, "tenantID", st->tenant_id);
	put_str(w, "deviceID", st->device_id);
	if (put_data(w, "clientCertificate", st->cert, st->cert_len) == -1)
		return (-1);
	put_str(w, "certificateExpiresAt", st->expires_at);
	if (st->has_generation)
		put_str(w, "configGeneration", st->generation);
	put_str(w, "certificateSubject", st->subject);
	put_str(w, "certificateIssuer", st->issuer);
	jsonw_key(w, "certificateNotAfter");
	jsonw_int(w, st->not_after);
	put_str(w, "publicKeySHA256", st->spki_sha256);
	jsonw_object_end(w);
	return (jsonw_result(w, NULL) == NULL ? -1 : 0);
}

int
proto_state_decode(const char *s, size_t len, struct proto_state *st,
    char *err, size_t errlen)
{
	struct dec	d;
	int64_t		v;
	int		t, ret = -1;

	memset(st, 0, sizeof(*st));
	if (dec_begin(&d, s, len, PROTO_MAX_TOKENS, err, errlen) == -1)
		return (-1);
	if (dec_str(&d, "tenantID", st->tenant_id, sizeof(st->tenant_id), 1) ||
	    dec_str(&d, "deviceID", st->device_id, sizeof(st->device_id), 1) ||
	    dec_data(&d, "clientCertificate", PROTO_CERT_MAX, &st->cert,
	    &st->cert_len) ||
	    dec_str(&d, "certificateExpiresAt", st->expires_at,
	    sizeof(st->expires_at), 0) ||
	    dec_str(&d, "certificateSubject", st->subject,
	    sizeof(st->subject), 0) ||
	    dec_str(&d, "certificateIssuer", st->issuer,
	    sizeof(st->issuer), 0) ||
	    dec_str(&d, "publicKeySHA256", st->spki_sha256,
	    sizeof(st->spki_sha256), 1))
		goto out;
	if (strlen(st->spki_sha256) != 64 ||
	    strspn(st->spki_sha256, hexdig) != 64) {
		dec_fail(&d, "publicKeySHA256", "not 64 hex digits");
		goto out;
	}
	if ((t = jsonr_get(&d.jr, 0, "certificateNotAfter")) == -1) {
		dec_fail(&d, "certificateNotAfter", "missing");
		goto out;
	}
	if (jsonr_int64(&d.jr, t, INT64_MIN, INT64_MAX, &v) == -1) {
		dec_fail(&d, "certificateNotAfter", "not an integer");
		goto out;
	}
	st->not_after = v;
	if ((t = jsonr_get(&d.jr, 0, "configGeneration")) != -1 &&
	    !jsonr_is_null(&d.jr, t)) {
		if (dec_str(&d, "configGeneration", st->generation,
		    sizeof(st->generation), 0))
			goto out;
		st->has_generation = 1;
	}
	ret = 0;
 out:
	jsonr_free(&d.jr);
	if (ret == -1)
		proto_state_free(st);
	return (ret);
}

void
proto_state_free(struct proto_state *st)
{
	free(st->cert);
	memset(st, 0, sizeof(*st));
}
