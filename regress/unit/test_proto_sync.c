/*
 * The sync messages against PROTOCOL.md 6.4-6.6 and the example of
 * 12.4: the request byte for byte (keys in the reference's order, '/'
 * escaped), the response decoded, and every refusal of 6.6's "all ten
 * keys required"; the config messages of 5.2 against 12.2.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "base64.h"
#include "jsonw.h"
#include "proto.h"

#define PAYLOAD_A "CAESjAEKNWhvbWVicmV3L3BhY2thZ2UvL29wdC9ob21lYnJldy9DZWxs" \
	"YXIvcmlwZ3JlcC9yaXBncmVwEghob21lYnJldxoHcGFja2FnZSIHcmlwZ3JlcCoGMTQu" \
	"MS4xMhwvb3B0L2hvbWVicmV3L0NlbGxhci9yaXBncmVwOhEKDWhvbWVicmV3L2NvcmUQ" \
	"AQ=="
#define HASH_A "6103f3c6f442f3d5895ccb3744f876d3286f28906f9d072fb66ca3eb11f9c7c6"

static int64_t
ms_of(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return ((int64_t)timegm(&tm) * 1000 + ms);
}

Test(proto_sync, request_section_12_4)
{
	struct proto_sync_event	ev;
	struct proto_health	h = { 1, 145 };
	struct jsonw		w;
	uint8_t			pl[256];
	long long		n;
	const char		*s;
	size_t			len;
	const char		*want = "{\"tenantId\":\"tenant-a\","
	    "\"deviceId\":\"device-a\",\"sensorVersion\":\"kobangd\\/"
	    KOBANGD_VERSION "\",\"schemaVersion\":1,"
	    "\"lastAckedLocalSequence\":4,\"events\":[{\"eventId\":"
	    "\"3F2504E0-4F89-41D3-9A0C-0305E82C3301\",\"deviceId\":"
	    "\"device-a\",\"localSequence\":5,\"surface\":\"homebrew\","
	    "\"kind\":\"added\",\"observedAt\":\"2026-06-01T10:00:00.000Z\","
	    "\"collectedAt\":\"2026-06-01T10:00:00.250Z\",\"payloadHash\":\""
	    HASH_A "\",\"payload\":\"";

	n = b64_decode(PAYLOAD_A, strlen(PAYLOAD_A), pl, sizeof(pl));
	cr_assert_eq(n, 145);
	memset(&ev, 0, sizeof(ev));
	ev.event_id = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
	ev.device_id = "device-a";
	ev.local_seq = 5;
	ev.surface = "homebrew";
	ev.kind = "added";
	ev.observed_ms = ms_of(2026, 6, 1, 10, 0, 0, 0);
	ev.collected_ms = ms_of(2026, 6, 1, 10, 0, 0, 250);
	ev.payload_hash = HASH_A;
	ev.payload = pl;
	ev.payload_len = (size_t)n;
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_sync_request(&w, "tenant-a", "device-a", 4, &ev, 1,
	    &h), 0);
	s = jsonw_result(&w, &len);
	cr_assert_not_null(s);
	cr_assert_eq(strncmp(s, want, strlen(want)), 0, "%s", s);
	s += strlen(want);
	/* The base64 with every '/' escaped, then the health. */
	cr_assert_eq(strncmp(s, "CAESjAEKNWhvbWVicmV3L3BhY2thZ2UvL29wdC9o",
	    40), 0);
	cr_assert_not_null(strstr(s, "\"}],\"health\":{\"syncBacklogEvents\""
	    ":1,\"syncBacklogBytes\":145}}"));
	cr_assert_eq(strlen(strstr(s, "\"}],")), strlen("\"}],\"health\":"
	    "{\"syncBacklogEvents\":1,\"syncBacklogBytes\":145}}"));
	jsonw_free(&w);

	/* No tenant: the key is left out; no events: refused. */
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_sync_request(&w, NULL, "device-a", 0, &ev, 1, &h),
	    0);
	s = jsonw_result(&w, &len);
	cr_assert_eq(strncmp(s, "{\"deviceId\":", 12), 0);
	jsonw_free(&w);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_sync_request(&w, "t", "d", 0, &ev, 0, &h), -1);
	jsonw_free(&w);
}

static const char resp_12_4[] =
    "{\"acceptedThroughLocalSequence\": 5,"
    "\"acceptedEvents\": [{\"eventId\": \"9B2C1A7E-55D0-4C1B-8E1A-"
    "2B7F0D9C4E11\", \"localSequence\": 6, \"duplicate\": false}],"
    "\"rejectedEvents\": [{\"eventId\":\"event-3\",\"localSequence\":3,"
    "\"code\":\"invalid_payload\",\"message\":\"bad\"}],"
    "\"serverTime\": \"2026-06-01T10:00:01Z\","
    "\"configGeneration\": \"generation-b\","
    "\"configUpdateAvailable\": false,"
    "\"fullResnapshotRequested\": true,"
    "\"retryAfterSeconds\": 7,"
    "\"maxBatchBytes\": 524288,"
    "\"maxBatchEvents\": 500}";

Test(proto_sync, response_section_12_4)
{
	struct proto_sync_resp	r;
	char			err[128];

	cr_assert_eq(proto_sync_response(resp_12_4, strlen(resp_12_4), &r,
	    err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.accepted_through, 5);
	cr_assert_eq(r.naccepted, 1);
	cr_assert_eq(r.accepted[0], 6);
	cr_assert_eq(r.nrejected, 1);
	cr_assert_eq(r.rejected[0], 3);
	cr_assert_str_eq(r.config_generation, "generation-b");
	cr_assert_eq(r.config_update_available, 0);
	cr_assert_eq(r.full_resnapshot_requested, 1);
	cr_assert_eq(r.retry_after, 7);
	cr_assert_eq(r.max_batch_bytes, 524288);
	cr_assert_eq(r.max_batch_events, 500);
	proto_sync_response_free(&r);
	cr_assert_eq(proto_validate(PROTO_SYNC, resp_12_4, strlen(resp_12_4),
	    err, sizeof(err)), 0);
}

/* Replace the first occurrence of from with to in the 12.4 response. */
static int
mutated(const char *from, const char *to)
{
	struct proto_sync_resp	r;
	char			buf[2048], err[128];
	const char		*p = strstr(resp_12_4, from);
	int			rc;

	cr_assert_not_null(p, "%s", from);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - resp_12_4),
	    resp_12_4, to, p + strlen(from));
	rc = proto_sync_response(buf, strlen(buf), &r, err, sizeof(err));
	if (rc == 0)
		proto_sync_response_free(&r);
	else
		cr_assert_neq(err[0], '\0');
	return (rc);
}

Test(proto_sync, response_refusals)
{
	/* Sanity: a harmless change is still accepted. */
	cr_assert_eq(mutated("\"retryAfterSeconds\": 7",
	    "\"retryAfterSeconds\": 0"), 0);
	/* Every top-level key is required. */
	cr_assert_eq(mutated("\"acceptedThroughLocalSequence\"", "\"x1\""),
	    -1);
	cr_assert_eq(mutated("\"acceptedEvents\"", "\"x2\""), -1);
	cr_assert_eq(mutated("\"rejectedEvents\"", "\"x3\""), -1);
	cr_assert_eq(mutated("\"serverTime\"", "\"x4\""), -1);
	cr_assert_eq(mutated("\"configGeneration\"", "\"x5\""), -1);
	cr_assert_eq(mutated("\"configUpdateAvailable\"", "\"x6\""), -1);
	cr_assert_eq(mutated("\"fullResnapshotRequested\"", "\"x7\""), -1);
	cr_assert_eq(mutated("\"retryAfterSeconds\"", "\"x8\""), -1);
	cr_assert_eq(mutated("\"maxBatchBytes\"", "\"x9\""), -1);
	cr_assert_eq(mutated("\"maxBatchEvents\"", "\"x0\""), -1);
	/* Types and ranges. */
	cr_assert_eq(mutated("\"maxBatchEvents\": 500",
	    "\"maxBatchEvents\": 4294967296"), -1);
	cr_assert_eq(mutated("\"retryAfterSeconds\": 7",
	    "\"retryAfterSeconds\": -1"), -1);
	cr_assert_eq(mutated("\"retryAfterSeconds\": 7",
	    "\"retryAfterSeconds\": 7.5"), -1);
	cr_assert_eq(mutated("Sequence\": 5", "Sequence\": \"5\""), -1);
	cr_assert_eq(mutated("\"configUpdateAvailable\": false",
	    "\"configUpdateAvailable\": 0"), -1);
	cr_assert_eq(mutated("\"acceptedEvents\": [",
	    "\"acceptedEvents\": [1,"), -1);
	/* Each element's keys are required. */
	cr_assert_eq(mutated("\"duplicate\"", "\"dup\""), -1);
	cr_assert_eq(mutated("\"localSequence\": 6", "\"seq\": 6"), -1);
	cr_assert_eq(mutated("\"localSequence\": 6", "\"localSequence\": -6"),
	    -1);
	cr_assert_eq(mutated("\"code\"", "\"kode\""), -1);
	cr_assert_eq(mutated("\"message\"", "\"msg\""), -1);
	cr_assert_eq(mutated("\"eventId\":\"event-3\"", "\"eventId\":3"), -1);
	/* Duplicate keys and a top level that is not an object. */
	cr_assert_eq(mutated("{\"acceptedThrough",
	    "{\"maxBatchEvents\": 1, \"acceptedThrough"), -1);
	cr_assert_eq(mutated("{\"acceptedThrough", "[{\"acceptedThrough"),
	    -1);
}

Test(proto_config, request_section_12_2)
{
	struct jsonw	 w;
	const char	*s;

	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	cr_assert_eq(proto_config_request(&w, "tenant-a", "device-a", ""), 0);
	s = jsonw_result(&w, NULL);
	cr_assert_str_eq(s, "{\"tenantId\":\"tenant-a\",\"deviceId\":"
	    "\"device-a\",\"currentGeneration\":\"\"}");
	jsonw_free(&w);
}

#define CONFIG_12_2 "eyJ3YXRjaCI6eyJkZWJvdW5jZU1pbGxpc2Vjb25kcyI6NTAwLCJwb2xs" \
	"SW50ZXJ2YWxTZWNvbmRzIjo2MDB9LCJydWxlcyI6W10sInN5bmMiOnsibWF4QmF0Y2hC" \
	"eXRlcyI6MjYyMTQ0LCJtYXhCYXRjaEV2ZW50cyI6MjAwfX0="

static int
config_resp(const char *s, struct proto_config_resp *r)
{
	char	err[128];
	int	rc;

	rc = proto_config_response(s, strlen(s), r, err, sizeof(err));
	if (rc == -1)
		cr_assert_neq(err[0], '\0');
	return (rc);
}

Test(proto_config, response_section_12_2)
{
	struct proto_config_resp	 r;
	const char			*want = "{\"watch\":{\"debounce"
	    "Milliseconds\":500,\"pollIntervalSeconds\":600},\"rules\":[],"
	    "\"sync\":{\"maxBatchBytes\":262144,\"maxBatchEvents\":200}}";

	cr_assert_eq(config_resp("{\"generation\": \"generation-b\", "
	    "\"configJson\": \"" CONFIG_12_2 "\", \"signature\": null}", &r),
	    0);
	cr_assert_str_eq(r.generation, "generation-b");
	cr_assert_eq(r.config_len, strlen(want));
	cr_assert_eq(memcmp(r.config_json, want, r.config_len), 0);
	cr_assert_null(r.signature);
	proto_config_response_free(&r);

	/* "No update": absent, null or empty configJson. */
	cr_assert_eq(config_resp("{\"generation\": \"generation-b\"}", &r), 0);
	cr_assert_null(r.config_json);
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"configJson\": "
	    "null}", &r), 0);
	cr_assert_null(r.config_json);
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"configJson\": "
	    "\"\"}", &r), 0);
	cr_assert_null(r.config_json);
	/* A signature is decoded (never verified). */
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"signature\": "
	    "\"AAEC\"}", &r), 0);
	cr_assert_eq(r.signature_len, 3);
	proto_config_response_free(&r);
}

Test(proto_config, response_refusals)
{
	struct proto_config_resp	r;

	cr_assert_eq(config_resp("{}", &r), -1);
	cr_assert_eq(config_resp("{\"generation\": null}", &r), -1);
	cr_assert_eq(config_resp("{\"generation\": 7}", &r), -1);
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"configJson\": "
	    "\"e30\"}", &r), -1);		/* not padded: not canonical */
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"configJson\": "
	    "{}}", &r), -1);
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"signature\": "
	    "\"!!!!\"}", &r), -1);
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"generation\": "
	    "\"h\"}", &r), -1);
	cr_assert_eq(config_resp("[{\"generation\": \"g\"}]", &r), -1);
	cr_assert_eq(config_resp("{\"generation\": \"g\", \"configJson\": "
	    "\"e30=\"}", &r), 0);
	cr_assert_eq(r.config_len, 2);
	proto_config_response_free(&r);
	cr_assert_eq(proto_validate(PROTO_CONFIG, "{\"x\": 1}", 8,
	    (char [64]){ 0 }, 64), -1);
}
