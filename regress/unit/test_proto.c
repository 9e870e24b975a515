/*
 * The protocol pieces against PROTOCOL.md: base64 (2), the strict JSON
 * reader, the SPKI PEM vector (4.1), certificate decoding (4.3), the
 * enroll and check-in messages (4.6, 6.2, 6.3, 12) and the identity
 * state file.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base64.h"
#include "jsonr.h"
#include "jsonw.h"
#include "proto.h"

static long long
dec(const char *s, uint8_t *out, size_t outsz)
{
	return (b64_decode(s, strlen(s), out, outsz));
}

Test(base64, rfc4648_vectors)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char		buf[16];
	uint8_t		raw[16];
	size_t		i;
	long long	n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(b64_encode((const uint8_t *)v[i].in,
		    strlen(v[i].in), buf, sizeof(buf)), (int)strlen(v[i].out));
		cr_assert_str_eq(buf, v[i].out);
		n = dec(v[i].out, raw, sizeof(raw));
		cr_assert_eq(n, (long long)strlen(v[i].in));
		cr_assert(memcmp(raw, v[i].in, (size_t)n) == 0);
	}
}

Test(base64, all_bytes_round_trip)
{
	uint8_t		in[256], out[256];
	char		enc[400];
	int		i;

	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	cr_assert_eq(b64_encode(in, 256, enc, sizeof(enc)), 344);
	cr_assert_eq(dec(enc, out, sizeof(out)), 256);
	cr_assert(memcmp(in, out, 256) == 0);
}

Test(base64, refuses_non_canonical)
{
	static const char *const bad[] = {
		"Zg", "Zg=", "Zg===", "Z===", "Zh==",	/* bits under padding */
		"Zm9=", "Zm 9v", "Zm9v\n", "Zm-v", "Zm_v", "=Zm9",
		"Zg==Zg==", "Zm=v", "====",
	};
	uint8_t	out[16];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(dec(bad[i], out, sizeof(out)), -1, "%s", bad[i]);
	/* Too small an output buffer is refused, not overrun. */
	cr_assert_eq(dec("Zm9vYmFy", out, 5), -1);
	cr_assert_eq(b64_encode((const uint8_t *)"foo", 3, (char *)out, 4),
	    -1);
}

static int
parse(struct jsonr *jr, const char *s)
{
	return (jsonr_parse(jr, s, strlen(s), 64));
}

Test(jsonr, accepts_rfc8259)
{
	struct jsonr	jr;
	char		buf[64];
	int64_t		i;
	uint64_t	u;
	int		b, t;

	cr_assert_eq(parse(&jr, " {\"a\" : [1, {\"b\":null}], \"s\":"
	    "\"x\\/y\\u00e9\\ud83d\\ude00\\n\", \"i\": -9223372036854775808,"
	    " \"u\": 18446744073709551615, \"t\": true, \"f\": 1.5e3 } "), 0,
	    "%s", jr.err);
	t = jsonr_get(&jr, 0, "s");
	cr_assert(t > 0);
	cr_assert_eq(jsonr_string(&jr, t, buf, sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "x/y\xc3\xa9\xf0\x9f\x98\x80\n");
	cr_assert_eq(jsonr_int64(&jr, jsonr_get(&jr, 0, "i"), INT64_MIN,
	    INT64_MAX, &i), 0);
	cr_assert_eq(i, INT64_MIN);
	cr_assert_eq(jsonr_uint64(&jr, jsonr_get(&jr, 0, "u"), UINT64_MAX,
	    &u), 0);
	cr_assert_eq(u, UINT64_MAX);
	cr_assert_eq(jsonr_bool(&jr, jsonr_get(&jr, 0, "t"), &b), 0);
	cr_assert_eq(b, 1);
	/* A fraction is a number, but not an integer. */
	cr_assert_eq(jsonr_int64(&jr, jsonr_get(&jr, 0, "f"), INT64_MIN,
	    INT64_MAX, &i), -1);
	/* Members inside nested values are not top-level keys. */
	cr_assert_eq(jsonr_get(&jr, 0, "b"), -1);
	cr_assert_eq(jsonr_type(&jr, jsonr_get(&jr, 0, "a")), JSONR_ARRAY);
	cr_assert_eq(jsonr_size(&jr, jsonr_get(&jr, 0, "a")), 2);
	jsonr_free(&jr);
}

Test(jsonr, escaped_keys_match_and_duplicates_fail)
{
	struct jsonr	jr;
	char		buf[8];

	cr_assert_eq(parse(&jr, "{\"k\\u0065y\":\"v\"}"), 0);
	cr_assert_eq(jsonr_string(&jr, jsonr_get(&jr, 0, "key"), buf,
	    sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "v");
	jsonr_free(&jr);
	cr_assert_eq(parse(&jr, "{\"key\":1,\"k\\u0065y\":2}"), -1);
	cr_assert(strstr(jr.err, "duplicate") != NULL);
	jsonr_free(&jr);
	cr_assert_eq(parse(&jr, "{\"a\":{\"x\":1,\"x\":1}}"), -1);
	jsonr_free(&jr);
}

Test(jsonr, refuses_what_jsmn_lets_through)
{
	static const char *const bad[] = {
		"", "[]", "\"s\"", "{", "{}}", "{} {}", "{\"a\":1,}",
		"{\"a\":1,,\"b\":2}", "{\"a\" 1}", "{\"a\":[1,]}",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
		"{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\\ud800\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}", "{a:1}", "{'a':1}",
		"{\"a\":NaN}", "{\"a\":1}x", ("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[["
		    "[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"),
	};
	struct jsonr	jr;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(&jr, bad[i]), -1, "accepted %s", bad[i]);
		jsonr_free(&jr);
	}
	/* The token cap holds. */
	cr_assert_eq(jsonr_parse(&jr, "{\"a\":[1,2,3,4]}", 15, 6), -1);
	jsonr_free(&jr);
	cr_assert_eq(jsonr_parse(&jr, "{\"a\":[1,2,3,4]}", 15, 7), 0);
	jsonr_free(&jr);
}

Test(jsonr, typed_access_limits)
{
	struct jsonr	jr;
	char		buf[4];
	int64_t		v;
	uint64_t	u;

	cr_assert_eq(parse(&jr, "{\"s\":\"abcd\",\"z\":\"a\\u0000b\","
	    "\"n\":-1,\"big\":9223372036854775808,\"m0\":-0}"), 0);
	cr_assert_eq(jsonr_string(&jr, jsonr_get(&jr, 0, "s"), buf,
	    sizeof(buf), NULL), -1);
	cr_assert_eq(jsonr_string(&jr, jsonr_get(&jr, 0, "z"), buf,
	    sizeof(buf), NULL), -1);
	cr_assert_eq(jsonr_uint64(&jr, jsonr_get(&jr, 0, "n"), UINT64_MAX,
	    &u), -1);
	cr_assert_eq(jsonr_int64(&jr, jsonr_get(&jr, 0, "big"), INT64_MIN,
	    INT64_MAX, &v), -1);
	cr_assert_eq(jsonr_int64(&jr, jsonr_get(&jr, 0, "n"), 0, 10, &v), -1);
	cr_assert_eq(jsonr_uint64(&jr, jsonr_get(&jr, 0, "m0"), 10, &u), 0);
	cr_assert_eq(u, 0);
	cr_assert_eq(jsonr_string(&jr, jsonr_get(&jr, 0, "n"), buf,
	    sizeof(buf), NULL), -1);
	jsonr_free(&jr);
}

/* PROTOCOL.md 4.1: point 0x04 then 64 bytes of 0x7A. */
static const char vec_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEenp6enp6enp6enp6enp6enp6enp6\n"
    "enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6enp6eg==\n"
    "-----END PUBLIC KEY-----";
static const char vec_pubkey_json[] =
    "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJ"
    "emowREFRY0RRZ0FFZW5wNmVucDZlbnA2ZW5wNmVucDZlbnA2ZW5wNgplbnA2ZW5wNmVu"
    "cDZlbnA2ZW5wNmVucDZlbnA2ZW5wNmVucDZlbnA2ZW5wNmVucDZlbnA2ZW5wNmVnPT0K"
    "LS0tLS1FTkQgUFVCTElDIEtFWS0tLS0t";

static void
vec_point(uint8_t p[PROTO_POINT_LEN])
{
	p[0] = 0x04;
	memset(p + 1, 0x7a, 64);
}

/* A large document changes hands without a copy: w keeps nothing. */
Test(jsonw, take_hands_the_result_over)
{
	struct jsonw	 w;
	char		*s;
	size_t		 len = 0;

	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	jsonw_object_begin(&w);
	jsonw_key(&w, "a/b");
	jsonw_array_begin(&w);
	jsonw_int(&w, 1);
	jsonw_int(&w, 2);
	jsonw_array_end(&w);
	jsonw_object_end(&w);
	s = jsonw_take(&w, &len);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, "{\"a\\/b\":[1,2]}");
	cr_assert_eq(len, strlen(s));
	cr_assert_null(w.buf);
	cr_assert_eq(w.len + w.cap, 0);
	jsonw_free(&w);
	free(s);

	/* Unfinished: nothing to take, and nothing left behind. */
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	jsonw_object_begin(&w);
	jsonw_key(&w, "a");
	cr_assert_null(jsonw_take(&w, &len));
	cr_assert_null(w.buf);
}

Test(proto, spki_pem_vector)
{
	uint8_t	p[PROTO_POINT_LEN], der[PROTO_SPKI_LEN];
	char	pem[PROTO_SPKI_PEM_LEN + 1], b64[400];

	vec_point(p);
	cr_assert_eq(proto_spki_pem(p, pem), 0);
	cr_assert_str_eq(pem, vec_pem);
	cr_assert_eq(strlen(pem), PROTO_SPKI_PEM_LEN);
	cr_assert_eq(b64_encode((const uint8_t *)pem, strlen(pem), b64,
	    sizeof(b64)), (int)strlen(vec_pubkey_json));
	cr_assert_str_eq(b64, vec_pubkey_json);
	cr_assert_eq(proto_spki_der(p, der), 0);
	cr_assert_eq(der[0], 0x30);
	cr_assert_eq(der[25], 0x00);
	cr_assert_eq(der[26], 0x04);
	p[0] = 0x02;
	cr_assert_eq(proto_spki_pem(p, pem), -1);
}

Test(proto, enroll_request_section_12_1)
{
	struct proto_host	h;
	struct jsonw		w;
	const char		*s;
	char			 want[1024];

	memset(&h, 0, sizeof(h));
	strcpy(h.hostname, "Alice's MacBook Pro");
	strcpy(h.os_version, "Version 15.5 (Build 24F74)");
	strcpy(h.hardware_model, "arm64");
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_enroll_request(&w, "enroll-6b1f0c", vec_pem, &h),
	    0);
	s = jsonw_result(&w, NULL);
	snprintf(want, sizeof(want), "{\"token\":\"enroll-6b1f0c\","
	    "\"publicKey\":\"%s\",\"hostname\":\"Alice's MacBook Pro\","
	    "\"osVersion\":\"Version 15.5 (Build 24F74)\","
	    "\"hardwareModel\":\"arm64\",\"sensorVersion\":\"kobangd\\/%s\"}",
	    vec_pubkey_json, KOBANGD_VERSION);
	cr_assert_str_eq(s, want);
	jsonw_free(&w);
}

Test(proto, enroll_response_section_12_1)
{
	static const char ok[] = "{\"tenantId\":\"tenant-a\",\"deviceId\":"
	    "\"device-a\",\"clientCertificate\":\"LS0tLS1CRUdJTiBDRVJUSUZJQ0FU"
	    "RS0tLS0tCk1BTUNBUVU9Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\","
	    "\"certificateExpiresAt\":\"2026-08-01T00:00:00Z\","
	    "\"unknown\":{\"x\":[1]}}";
	static const uint8_t want_der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	struct proto_enroll_resp	r;
	char				err[128];
	uint8_t				*der;
	size_t				 dl;

	cr_assert_eq(proto_enroll_response(ok, strlen(ok), &r, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(r.tenant_id, "tenant-a");
	cr_assert_str_eq(r.device_id, "device-a");
	cr_assert_str_eq(r.expires_at, "2026-08-01T00:00:00Z");
	cr_assert_eq(proto_cert_der(r.cert, r.cert_len, &der, &dl), 0);
	cr_assert_eq(dl, sizeof(want_der));
	cr_assert(memcmp(der, want_der, dl) == 0);
	free(der);
	proto_enroll_response_free(&r);
}

Test(proto, enroll_response_refusals)
{
	static const struct { const char *json, *msg; } bad[] = {
		{ "{\"deviceId\":\"d\",\"clientCertificate\":\"MAMCAQU=\","
		    "\"certificateExpiresAt\":\"x\"}", "tenantId: missing" },
		{ "{\"tenantId\":1,\"deviceId\":\"d\",\"clientCertificate\":"
		    "\"MAMCAQU=\",\"certificateExpiresAt\":\"x\"}",
		    "tenantId: not a string" },
		{ "{\"tenantId\":\"\",\"deviceId\":\"d\",\"clientCertificate\":"
		    "\"MAMCAQU=\",\"certificateExpiresAt\":\"x\"}",
		    "tenantId: empty" },
		{ "{\"tenantId\":\"t\",\"deviceId\":\"d\",\"clientCertificate\":"
		    "\"MAMCAQU\",\"certificateExpiresAt\":\"x\"}",
		    "clientCertificate: not canonical base64" },
		{ "{\"tenantId\":\"t\",\"deviceId\":\"d\",\"clientCertificate\":"
		    "\"MAMC\\nAQU=\",\"certificateExpiresAt\":\"x\"}",
		    "clientCertificate: not canonical base64" },
		{ "{\"tenantId\":\"t\",\"deviceId\":\"d\",\"clientCertificate\":"
		    "\"MAMCAQU=\"}", "certificateExpiresAt: missing" },
		{ "{\"tenantId\":\"t\",\"deviceId\":\"d\",\"clientCertificate\":"
		    "null,\"certificateExpiresAt\":\"x\"}",
		    "clientCertificate: not a string" },
		{ "[\"tenantId\"]", "invalid JSON: not a JSON object" },
	};
	struct proto_enroll_resp	r;
	char				err[128];
	size_t				i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(proto_enroll_response(bad[i].json,
		    strlen(bad[i].json), &r, err, sizeof(err)), -1);
		cr_assert_str_eq(err, bad[i].msg);
		cr_assert_null(r.cert);
	}
}

Test(proto, cert_der_section_4_3)
{
	static const uint8_t want[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const char pem[] = "junk\n-----BEGIN CERTIFICATE-----\r\n"
	    " MAM\tC\xc2\xa0" "AQU=\xe3\x80\x80\n-----END CERTIFICATE-----\n"
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	static const uint8_t raw[] = { 0x30, 0x82, 0x01, 0x0a, 0xff };
	const char	*s;
	uint8_t		*der;
	size_t		 dl;

	cr_assert_eq(proto_cert_der((const uint8_t *)pem, strlen(pem), &der,
	    &dl), 0);
	cr_assert_eq(dl, sizeof(want));
	cr_assert(memcmp(der, want, dl) == 0);
	free(der);
	/* Raw DER (not UTF-8) unchanged; UTF-8 without markers too. */
	cr_assert_eq(proto_cert_der(raw, sizeof(raw), &der, &dl), 0);
	cr_assert_eq(dl, sizeof(raw));
	cr_assert(memcmp(der, raw, dl) == 0);
	free(der);
	cr_assert_eq(proto_cert_der(want, sizeof(want), &der, &dl), 0);
	cr_assert_eq(dl, sizeof(want));
	free(der);
	/* A PEM body that does not decode is no certificate at all. */
	s = "-----BEGIN CERTIFICATE-----\nMAM*AQU=\n-----END CERTIFICATE-----";
	cr_assert_eq(proto_cert_der((const uint8_t *)s, strlen(s), &der, &dl),
	    -1);
	s = "-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n";
	cr_assert_eq(proto_cert_der((const uint8_t *)s, strlen(s), &der, &dl),
	    -1);
}

Test(proto, cert_pem_round_trip)
{
	uint8_t	der[1000], *back;
	char	*pem;
	size_t	 pl, bl, i;

	for (i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)(i * 7);
	cr_assert_eq(proto_cert_pem(der, sizeof(der), &pem, &pl), 0);
	cr_assert_eq(strlen(pem), pl);
	cr_assert(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	cr_assert_eq(proto_cert_der((const uint8_t *)pem, pl, &back, &bl), 0);
	cr_assert_eq(bl, sizeof(der));
	cr_assert(memcmp(back, der, bl) == 0);
	free(back);
	free(pem);
}

Test(proto, checkin_section_12_3)
{
	static const char resp[] = "{\"serverTime\":\"2026-06-01T10:00:00Z\","
	    "\"configGeneration\":\"generation-b\",\"configUpdateAvailable\":"
	    "true,\"certificateRenewalRequired\":false,"
	    "\"fullResnapshotRequested\":false}";
	struct proto_health		h = { 0, 0 };
	struct proto_checkin_resp	r;
	struct jsonw			w;
	const char			*s;
	char				err[128], want[512];

	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_checkin_request(&w, "tenant-a", "device-a",
	    "Version 15.5 (Build 24F74)", "generation-a", &h), 0);
	snprintf(want, sizeof(want), "{\"tenantId\":\"tenant-a\",\"deviceId\":"
	    "\"device-a\",\"sensorVersion\":\"kobangd\\/%s\",\"osVersion\":"
	    "\"Version 15.5 (Build 24F74)\",\"activeConfigGeneration\":"
	    "\"generation-a\",\"health\":{\"syncBacklogEvents\":0,"
	    "\"syncBacklogBytes\":0}}", KOBANGD_VERSION);
	cr_assert_str_eq(jsonw_result(&w, NULL), want);
	jsonw_free(&w);

	cr_assert_eq(proto_checkin_response(resp, strlen(resp), &r, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(r.config_generation, "generation-b");
	cr_assert_eq(r.config_update_available, 1);
	cr_assert_eq(r.full_resnapshot_requested, 0);
	/* Every key is required; booleans are booleans. */
	s = "{\"serverTime\":\"x\",\"configGeneration\":\"g\","
	    "\"configUpdateAvailable\":1,\"certificateRenewalRequired\":false,"
	    "\"fullResnapshotRequested\":false}";
	cr_assert_eq(proto_checkin_response(s, strlen(s), &r, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err, "configUpdateAvailable: not a boolean");
	cr_assert_eq(proto_checkin_response("{\"serverTime\":\"x\"}", 18, &r,
	    err, sizeof(err)), -1);
	cr_assert_str_eq(err, "configGeneration: missing");
}

Test(proto, state_round_trip)
{
	struct proto_state	st, back;
	struct jsonw		w;
	const char		*s;
	char			err[128];
	uint8_t			cert[3] = { 1, 2, 3 };
	size_t			len;

	memset(&st, 0, sizeof(st));
	strcpy(st.tenant_id, "tenant/a");
	strcpy(st.device_id, "device-a");
	st.cert = cert;
	st.cert_len = sizeof(cert);
	strcpy(st.expires_at, "2026-08-01T00:00:00Z");
	strcpy(st.subject, "/CN=device-a");
	strcpy(st.issuer, "/CN=Test CA");
	st.not_after = 1785542400;
	memset(st.spki_sha256, 'a', 64);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_state_encode(&w, &st), 0);
	s = jsonw_result(&w, &len);
	cr_assert(strstr(s, "\"configGeneration\"") == NULL);
	cr_assert(strstr(s, "\"tenantID\":\"tenant\\/a\"") != NULL);
	cr_assert_eq(proto_state_decode(s, len, &back, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_str_eq(back.tenant_id, "tenant/a");
	cr_assert_eq(back.cert_len, 3);
	cr_assert(memcmp(back.cert, cert, 3) == 0);
	cr_assert_eq(back.not_after, 1785542400);
	cr_assert_eq(back.has_generation, 0);
	proto_state_free(&back);
	jsonw_free(&w);

	st.has_generation = 1;
	strcpy(st.generation, "generation-b");
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_state_encode(&w, &st), 0);
	s = jsonw_result(&w, &len);
	cr_assert_eq(proto_state_decode(s, len, &back, err, sizeof(err)), 0);
	cr_assert_eq(back.has_generation, 1);
	cr_assert_str_eq(back.generation, "generation-b");
	proto_state_free(&back);
	jsonw_free(&w);
}

Test(proto, routes)
{
	cr_assert_str_eq(proto_route_path(PROTO_ENROLL),
	    "api/sensor/v1/enroll");
	cr_assert_str_eq(proto_route_path(PROTO_CHECKIN),
	    "api/sensor/v1/check-in");
	cr_assert_eq(proto_route_protected(PROTO_ENROLL), 0);
	cr_assert_eq(proto_route_protected(PROTO_SYNC), 1);
	cr_assert_null(proto_route_path(PROTO_NROUTES));
}
