/*
 * The event payload codec against PROTOCOL.md 7.3 (vectors A, B, C byte
 * for byte, with their payloadHash), the encoding rules of 7.1, the
 * strict decoder's refusals, and SHA-256.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "differ.h"
#include "pb.h"
#include "sha256.h"

static const char vec_a_hex[] =
    "0801128c010a35686f6d65627265772f7061636b6167652f2f6f70742f686f6d65"
    "627265772f43656c6c61722f726970677265702f726970677265701208686f6d65"
    "627265771a077061636b6167652207726970677265702a0631342e312e31321c2f"
    "6f70742f686f6d65627265772f43656c6c61722f726970677265703a110a0d686f"
    "6d65627265772f636f72651001";
static const char vec_a_hash[] =
    "6103f3c6f442f3d5895ccb3744f876d3286f28906f9d072fb66ca3eb11f9c7c6";

static const char vec_b_hex[] =
    "080112760a31686f6d65627265772f7061636b6167652f2f6f70742f686f6d6562"
    "7265772f43656c6c61722f70637265322f70637265321208686f6d65627265771a"
    "077061636b61676522057063726532321a2f6f70742f686f6d65627265772f4365"
    "6c6c61722f70637265323a0b0a07756e6b6e6f776e1000";

static const char vec_c_hex[] =
    "08011ab4020a2436463143324239452d304434412d344537422d394335352d3141"
    "32423343344435453646120c636c61756465436f6e6669671a38636c6175646543"
    "6f6e6669672f6d63705365727665722f2f55736572732f616c6963652f2e636c61"
    "7564652e6a736f6e2f77656174686572221d6167656e742e636f6e6669672e6570"
    "68656d6572616c2d72756e6e65722a18457068656d6572616c207061636b616765"
    "2072756e6e657232124578616d706c6520726174696f6e616c652e3a076e6f7461"
    "626c654207776561746865724a4b0a192f55736572732f616c6963652f2e636c61"
    "7564652e6a736f6e12126e7078202d7920776561746865722d6d63701a06646574"
    "61696c22126e7078202d7920776561746865722d6d63705218323032362d30362d"
    "30315431303a30303a30302e3235305a";
static const char vec_c_hash[] =
    "75c53e085f7b15f000d2cf87198d6f3166df79f51b128f2841a6c812e307c756";

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t		 n = strlen(h) / 2, i;
	unsigned int	 v;

	cr_assert_leq(n, cap);
	for (i = 0; i < n; i++) {
		cr_assert_eq(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return (n);
}

static void
tohex(const uint8_t *p, size_t n, char *out)
{
	size_t	i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * n] = '\0';
}

static void
assert_bytes(const struct pbuf *b, const char *hex)
{
	char	*got;

	got = malloc(2 * b->len + 1);
	cr_assert_not_null(got);
	tohex(b->buf, b->len, got);
	cr_assert_str_eq(got, hex);
	free(got);
}

static struct item
brew(const char *name, const char *version, const char *origin, int ior)
{
	struct item	it;
	static char	path[128];

	memset(&it, 0, sizeof(it));
	it.surface = SURFACE_HOMEBREW;
	it.kind = KIND_PACKAGE;
	it.name = (char *)name;
	it.version = (char *)version;
	snprintf(path, sizeof(path), "/opt/homebrew/Cellar/%s", name);
	it.path = path;
	it.origin = (char *)origin;
	it.installed_on_request = ior;
	it.detail = NULL;
	return (it);
}

static void
encode_item(const struct item *it, struct pbuf *b)
{
	char	*id;

	id = item_id(it);
	cr_assert_not_null(id);
	pbuf_init(b);
	cr_assert_eq(pb_encode_item_event(it, id, b), 0);
	free(id);
}

static struct finding
vec_c_finding(void)
{
	struct finding	f;

	memset(&f, 0, sizeof(f));
	strlcpy(f.id, "6F1C2B9E-0D4A-4E7B-9C55-1A2B3C4D5E6F", sizeof(f.id));
	f.timestamp = "2026-06-01T10:00:00.250Z";
	f.surface = SURFACE_CLAUDE;
	f.item_id = "claudeConfig/mcpServer//Users/alice/.claude.json/weather";
	f.rule_id = "agent.config.ephemeral-runner";
	f.title = "Ephemeral package runner";
	f.rationale = "Example rationale.";
	f.severity = SEVERITY_NOTABLE;
	f.item_name = "weather";
	f.evidence_path = "/Users/alice/.claude.json";
	f.evidence_detail = "npx -y weather-mcp";
	f.matched_field = "detail";
	f.matched_value = "npx -y weather-mcp";
	return (f);
}

Test(pb, vector_a)
{
	struct item		 it = brew("ripgrep", "14.1.1", "homebrew/core", 1);
	struct pbuf		 b;
	struct pb_payload	 pl;
	char			 hash[SHA256_HEX_BUFSZ], err[128];

	encode_item(&it, &b);
	cr_assert_eq(b.len, 145);
	assert_bytes(&b, vec_a_hex);
	/* The inner length is the two-byte varint 8c 01. */
	cr_assert_eq(b.buf[3], 0x8c);
	cr_assert_eq(b.buf[4], 0x01);
	cr_assert_eq(sha256_hex(b.buf, b.len, hash), 0);
	cr_assert_str_eq(hash, vec_a_hash);

	cr_assert_eq(pb_decode_payload(b.buf, b.len, &pl, err, sizeof(err)),
	    0, "%s", err);
	cr_assert(pl.canonical);
	cr_assert(pl.has_item && !pl.has_finding);
	cr_assert_eq(pl.version, 1);
	cr_assert_str_eq(pl.item.item_id,
	    "homebrew/package//opt/homebrew/Cellar/ripgrep/ripgrep");
	cr_assert_str_eq(pl.item.surface, "homebrew");
	cr_assert_str_eq(pl.item.kind, "package");
	cr_assert_str_eq(pl.item.name, "ripgrep");
	cr_assert_str_eq(pl.item.version, "14.1.1");
	cr_assert_str_eq(pl.item.path, "/opt/homebrew/Cellar/ripgrep");
	cr_assert_str_eq(pl.item.origin, "homebrew/core");
	cr_assert_eq(pl.item.installed_on_request, 1);
	cr_assert_null(pl.item.detail);
	pb_payload_free(&pl);
	pbuf_free(&b);
}

Test(pb, vector_b_false_bool_no_version)
{
	struct item		 it = brew("pcre2", NULL, "unknown", 0);
	struct pbuf		 b;
	struct pb_payload	 pl;
	char			 err[128];

	encode_item(&it, &b);
	assert_bytes(&b, vec_b_hex);
	cr_assert_eq(b.buf[b.len - 2], 0x10);
	cr_assert_eq(b.buf[b.len - 1], 0x00);
	cr_assert_eq(pb_decode_payload(b.buf, b.len, &pl, err, sizeof(err)),
	    0, "%s", err);
	cr_assert(pl.canonical);
	cr_assert_null(pl.item.version);
	cr_assert_eq(pl.item.installed_on_request, 0);
	pb_payload_free(&pl);

	/* An empty version is omitted just like a nil one. */
	pbuf_free(&b);
	it.version = "";
	encode_item(&it, &b);
	assert_bytes(&b, vec_b_hex);
	pbuf_free(&b);
}

Test(pb, vector_c_finding)
{
	struct finding		 f = vec_c_finding();
	struct pbuf		 b;
	struct pb_payload	 pl;
	char			 hash[SHA256_HEX_BUFSZ], err[128];

	pbuf_init(&b);
	cr_assert_eq(pb_encode_finding_event(&f, &b), 0);
	cr_assert_eq(b.len, 313);
	assert_bytes(&b, vec_c_hex);
	cr_assert_eq(sha256_hex(b.buf, b.len, hash), 0);
	cr_assert_str_eq(hash, vec_c_hash);

	cr_assert_eq(pb_decode_payload(b.buf, b.len, &pl, err, sizeof(err)),
	    0, "%s", err);
	cr_assert(pl.canonical && pl.has_finding && !pl.has_item);
	cr_assert_str_eq(pl.finding.id, f.id);
	cr_assert_str_eq(pl.finding.surface, "claudeConfig");
	cr_assert_str_eq(pl.finding.item_id, f.item_id);
	cr_assert_str_eq(pl.finding.rule_id, f.rule_id);
	cr_assert_str_eq(pl.finding.title, f.title);
	cr_assert_str_eq(pl.finding.rationale, f.rationale);
	cr_assert_str_eq(pl.finding.severity, "notable");
	cr_assert_str_eq(pl.finding.item_name, "weather");
	cr_assert_str_eq(pl.finding.evidence_path, f.evidence_path);
	cr_assert_str_eq(pl.finding.evidence_detail, f.evidence_detail);
	cr_assert_str_eq(pl.finding.matched_field, "detail");
	cr_assert_str_eq(pl.finding.matched_value, f.matched_value);
	cr_assert_str_eq(pl.finding.observed_at, f.timestamp);
	pb_payload_free(&pl);
	pbuf_free(&b);
}

Test(pb, vectors_decode_from_spec_bytes)
{
	const char		*vec[] = { vec_a_hex, vec_b_hex, vec_c_hex };
	uint8_t			 buf[512];
	struct pb_payload	 pl;
	struct pbuf		 b;
	size_t			 i, n;
	char			 err[128];

	for (i = 0; i < nitems(vec); i++) {
		n = unhex(vec[i], buf, sizeof(buf));
		cr_assert_eq(pb_decode_payload(buf, n, &pl, err, sizeof(err)),
		    0, "%s", err);
		cr_assert(pl.canonical);
		/* Re-encoding what was decoded gives the same bytes. */
		pbuf_init(&b);
		cr_assert_eq(pb_encode_payload(&pl, &b), 0);
		assert_bytes(&b, vec[i]);
		pbuf_free(&b);
		pb_payload_free(&pl);
	}
}

Test(pb, empty_parts_omitted)
{
	struct item		 it = brew("jq", "1.7", "", ITEM_BOOL_NIL);
	struct finding		 f = vec_c_finding();
	struct pbuf		 b;
	struct pb_payload	 pl;
	char			 err[128];
	size_t			 i;

	/* origin empty, bool nil, detail nil: no provenance at all. */
	encode_item(&it, &b);
	for (i = 0; i + 1 < b.len; i++)
		cr_assert_neq(b.buf[i], 0x3a, "provenance tag at %zu", i);
	cr_assert_eq(pb_decode_payload(b.buf, b.len, &pl, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_null(pl.item.origin);
	cr_assert_eq(pl.item.installed_on_request, ITEM_BOOL_NIL);
	pb_payload_free(&pl);
	pbuf_free(&b);

	/* Detail only: provenance holds only field 3. */
	it.detail = "sha256:ab";
	encode_item(&it, &b);
	cr_assert_eq(b.buf[b.len - 13], 0x3a);
	cr_assert_eq(b.buf[b.len - 12], 11);
	cr_assert_eq(b.buf[b.len - 11], 0x1a);
	pbuf_free(&b);

	/* A finding with no evidence at all has no field 9. */
	f.evidence_path = NULL;
	f.evidence_detail = NULL;
	f.matched_field = NULL;
	f.matched_value = "";
	pbuf_init(&b);
	cr_assert_eq(pb_encode_finding_event(&f, &b), 0);
	cr_assert_eq(pb_decode_payload(b.buf, b.len, &pl, err, sizeof(err)),
	    0, "%s", err);
	cr_assert(pl.canonical);
	cr_assert_null(pl.finding.evidence_path);
	cr_assert_null(pl.finding.matched_value);
	cr_assert_str_eq(pl.finding.observed_at, f.timestamp);
	pb_payload_free(&pl);
	pbuf_free(&b);
}

Test(pb, long_strings_multibyte_lengths)
{
	struct item		 it = brew("big", "1", "o", 1);
	struct pbuf		 b;
	struct pb_payload	 pl;
	char			*detail, err[128];
	size_t			 n = 20000;

	detail = malloc(n + 1);
	cr_assert_not_null(detail);
	memset(detail, 'x', n);
	detail[n] = '\0';
	it.detail = detail;
	encode_item(&it, &b);
	/* The item is over 16383 bytes: a three-byte length after 08 01 12. */
	cr_assert_eq(b.buf[2], 0x12);
	cr_assert(b.buf[3] & 0x80);
	cr_assert(b.buf[4] & 0x80);
	cr_assert_eq(b.buf[5] & 0x80, 0);
	cr_assert_eq(pb_decode_payload(b.buf, b.len, &pl, err, sizeof(err)),
	    0, "%s", err);
	cr_assert(pl.canonical);
	cr_assert_str_eq(pl.item.detail, detail);
	pb_payload_free(&pl);
	pbuf_free(&b);
	free(detail);
}

Test(pb, encoder_refuses_nonsense)
{
	struct pb_payload	 pl;
	struct pbuf		 b;
	struct item		 it = brew("a", "1", "o", 1);

	pbuf_init(&b);
	memset(&pl, 0, sizeof(pl));
	pl.version = 1;
	errno = 0;
	cr_assert_eq(pb_encode_payload(&pl, &b), -1);
	cr_assert_eq(errno, EINVAL);
	pl.has_item = pl.has_finding = 1;
	cr_assert_eq(pb_encode_payload(&pl, &b), -1);
	/* An empty inner message would silently vanish. */
	pl.has_finding = 0;
	pl.item.installed_on_request = ITEM_BOOL_NIL;
	cr_assert_eq(pb_encode_payload(&pl, &b), -1);
	it.installed_on_request = 2;
	cr_assert_eq(pb_encode_item_event(&it, "x", &b), -1);
	it.installed_on_request = 1;
	it.surface = SURFACE_COUNT;
	cr_assert_eq(pb_encode_item_event(&it, "x", &b), -1);
	cr_assert_eq(b.len, 0);
	pbuf_free(&b);
}

Test(pb, encoder_appends)
{
	struct item	it = brew("ripgrep", "14.1.1", "homebrew/core", 1);
	struct pbuf	b;
	char		*id;

	id = item_id(&it);
	pbuf_init(&b);
	cr_assert_eq(pb_encode_item_event(&it, id, &b), 0);
	cr_assert_eq(pb_encode_item_event(&it, id, &b), 0);
	cr_assert_eq(b.len, 290);
	cr_assert_eq(memcmp(b.buf, b.buf + 145, 145), 0);
	pbuf_reset(&b);
	cr_assert_eq(pb_encode_item_event(&it, id, &b), 0);
	assert_bytes(&b, vec_a_hex);
	pbuf_free(&b);
	free(id);
}

static void
pb_refuse(const char *hex, const char *what)
{
	uint8_t			 buf[512];
	struct pb_payload	 pl;
	size_t			 n;
	char			 err[128];

	n = unhex(hex, buf, sizeof(buf));
	cr_assert_eq(pb_decode_payload(buf, n, &pl, err, sizeof(err)), -1,
	    "accepted %s (%s)", hex, what);
	cr_assert_neq(err[0], '\0');
	cr_assert_not_null(strstr(err, what), "%s: got \"%s\"", hex, err);
	/* The payload is left empty for the caller. */
	cr_assert_null(pl.item.name);
	cr_assert_eq(pl.has_item, 0);
}

static void
pb_accept(const char *hex, int canonical)
{
	uint8_t			 buf[512];
	struct pb_payload	 pl;
	size_t			 n;
	char			 err[128];

	n = unhex(hex, buf, sizeof(buf));
	cr_assert_eq(pb_decode_payload(buf, n, &pl, err, sizeof(err)), 0,
	    "refused %s: %s", hex, err);
	cr_assert_eq(pl.canonical, canonical, "%s", hex);
	pb_payload_free(&pl);
}

Test(pb, decoder_refusals)
{
	/* Smallest valid payload: version 1, item with name "a". */
	pb_accept("080112032201" "61", 1);

	pb_refuse("", "empty message");
	pb_refuse("0801", "neither");
	pb_refuse("0802120322" "0161", "not 1");
	pb_refuse("120322" "0161", "payload_version");
	pb_refuse("08", "truncated varint");
	pb_refuse("0881", "truncated varint");
	pb_refuse("080112", "truncated varint");
	pb_refuse("0801120422" "0161", "past the end");
	pb_refuse("08011203220261", "past the end");
	pb_refuse("0801128080808080808080808001", "64 bits");
	pb_refuse("080112ffffffffffffffffff02", "64 bits");
	/* Wire types 1, 3, 4, 5. */
	pb_refuse("080109" "0000000000000000", "wire type 1");
	pb_refuse("08010b", "wire type 3");
	pb_refuse("08010c", "wire type 4");
	pb_refuse("08010d00000000", "wire type 5");
	/* Unknown fields at every level. */
	pb_refuse("0801120322016120" "00", "unknown field 4");
	pb_refuse("080112034201" "61", "unknown field 8");
	pb_refuse("080112053a03" "2001" "00", "unknown field 4");
	pb_refuse("08011a035a01" "61", "unknown field 11");
	pb_refuse("08011a044a02" "2a00", "unknown field 5");
	pb_refuse("0001", "field number 0");
	/* Known field, wrong wire type. */
	pb_refuse("0a0101", "wrong wire type");
	pb_refuse("08011202" "2001", "wrong wire type");
	pb_refuse("080112053a03" "1201" "01", "wrong wire type");
	/* Twice. */
	pb_refuse("0801080112032201" "61", "twice");
	pb_refuse("08011206220161" "2201" "62", "twice");
	/* Both parts. */
	pb_refuse("0801120322016" "11a0322" "0161", "both");
	/* Values out of range. */
	pb_refuse("0880808080101203220161", "uint32 out of range");
	pb_refuse("080112053a0310" "0222" "0161", "bool out of range");
	/* Strings. */
	pb_refuse("08011203220100", "NUL");
	pb_refuse("080112032201ff", "invalid UTF-8");
	pb_refuse("0801120422" "02c0af", "invalid UTF-8");
	/* Empty inner messages. */
	pb_refuse("08011200", "empty message");
	pb_refuse("08011a00", "empty message");
	/* Tags beyond 32 bits. */
	pb_refuse("08018080808080010000", "tag out of range");
}

Test(pb, decoder_accepts_noncanonical)
{
	/* Fields in descending order. */
	pb_accept("1203220161" "0801", 0);
	pb_accept("0801120622016112" "0161", 0);
	/* Non-minimal varints: version 1 as 81 00, a length as 83 00. */
	pb_accept("08810012032201" "61", 0);
	pb_accept("0801128300220161", 0);
	/* Empty string and empty provenance present. */
	pb_accept("080112052201612a00", 0);
	pb_accept("080112052201613a00", 0);
	/* A bool written as false is canonical (10 00 in provenance). */
	pb_accept("080112073a0210002201" "61", 0);
	pb_accept("080112072201613a021000", 1);
}

Test(pb, every_truncation_refused)
{
	const char		*vec[] = { vec_a_hex, vec_b_hex, vec_c_hex };
	uint8_t			 buf[512];
	struct pb_payload	 pl;
	size_t			 i, n, cut;
	char			 err[128];

	for (i = 0; i < nitems(vec); i++) {
		n = unhex(vec[i], buf, sizeof(buf));
		for (cut = 0; cut < n; cut++)
			cr_assert_eq(pb_decode_payload(buf, cut, &pl, err,
			    sizeof(err)), -1, "vector %zu cut at %zu", i, cut);
	}
}

Test(pb, reordered_reencodes_canonically)
{
	uint8_t			 buf[64];
	struct pb_payload	 pl;
	struct pbuf		 b;
	size_t			 n;
	char			 err[128];

	/* item { path "/p", name "a" }, then version. */
	n = unhex("1207320" "22f702201" "61" "0801", buf, sizeof(buf));
	cr_assert_eq(pb_decode_payload(buf, n, &pl, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(pl.canonical, 0);
	pbuf_init(&b);
	cr_assert_eq(pb_encode_payload(&pl, &b), 0);
	assert_bytes(&b, "0801" "1207" "220161" "32022f70");
	pbuf_free(&b);
	pb_payload_free(&pl);
}

Test(pb, random_round_trip)
{
	static const char	*pool[] = { NULL, "", "a", "npm",
	    "/home/alice/src/app/package-lock.json", "caf\xc3\xa9",
	    "\xe2\x86\x92", "x y z", "2026-06-01T10:00:00.250Z" };
	struct pb_payload	 pl, back;
	struct pbuf		 b;
	char			 err[128];
	size_t			 i, k;
	unsigned int		 seed = 7;

	for (i = 0; i < 2000; i++) {
		memset(&pl, 0, sizeof(pl));
		pl.version = 1;
		if (rand_r(&seed) & 1) {
			char	**f[] = { &pl.item.item_id,
			    &pl.item.surface, &pl.item.kind, &pl.item.version,
			    &pl.item.path, &pl.item.origin, &pl.item.detail };

			pl.has_item = 1;
			for (k = 0; k < nitems(f); k++)
				*f[k] = (char *)pool[rand_r(&seed) %
				    nitems(pool)];
			pl.item.installed_on_request =
			    (int)(rand_r(&seed) % 3) - 1;
			pl.item.name = "n";
		} else {
			char	**f[] = { &pl.finding.surface,
			    &pl.finding.item_id, &pl.finding.rule_id,
			    &pl.finding.title, &pl.finding.rationale,
			    &pl.finding.severity, &pl.finding.item_name,
			    &pl.finding.evidence_path,
			    &pl.finding.evidence_detail,
			    &pl.finding.matched_field,
			    &pl.finding.matched_value,
			    &pl.finding.observed_at };

			pl.has_finding = 1;
			for (k = 0; k < nitems(f); k++)
				*f[k] = (char *)pool[rand_r(&seed) %
				    nitems(pool)];
			pl.finding.id = "6F1C2B9E-0D4A-4E7B-9C55-1A2B3C4D5E6F";
		}
		pbuf_init(&b);
		cr_assert_eq(pb_encode_payload(&pl, &b), 0);
		cr_assert_eq(pb_decode_payload(b.buf, b.len, &back, err,
		    sizeof(err)), 0, "%s", err);
		cr_assert(back.canonical);
		cr_assert(pb_payload_equal(&pl, &back), "case %zu", i);
		/* Changing any byte's value never crashes the decoder. */
		for (k = 0; k < b.len; k++) {
			struct pb_payload	 x;

			b.buf[k] ^= 0x5a;
			if (pb_decode_payload(b.buf, b.len, &x, err,
			    sizeof(err)) == 0)
				pb_payload_free(&x);
			b.buf[k] ^= 0x5a;
		}
		pb_payload_free(&back);
		pbuf_free(&b);
	}
}

Test(sha256, known_answers)
{
	char			 hex[SHA256_HEX_BUFSZ];
	struct sha256_ctx	 c;
	const char		*abc = "abc";
	char			*big;
	size_t			 i, n = 1000000;

	cr_assert_eq(sha256_preload(), 0);
	cr_assert_eq(sha256_hex("", 0, hex), 0);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	cr_assert_eq(sha256_hex(abc, 3, hex), 0);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");

	/* FIPS 180-2: a million 'a', hashed in uneven chunks. */
	big = malloc(n);
	cr_assert_not_null(big);
	memset(big, 'a', n);
	cr_assert_eq(sha256_init(&c), 0);
	for (i = 0; i < n; i += 4093)
		cr_assert_eq(sha256_update(&c, big + i,
		    n - i < 4093 ? n - i : 4093), 0);
	cr_assert_eq(sha256_update(&c, big, 0), 0);
	cr_assert_eq(sha256_final_hex(&c, hex), 0);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	cr_assert_null(c.md);
	/* Used after final: refused, not a crash. */
	cr_assert_eq(sha256_update(&c, big, 1), -1);
	cr_assert_eq(sha256_final_hex(&c, hex), -1);
	cr_assert_eq(sha256_hex(big, n, hex), 0);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	cr_assert_eq(sha256_init(&c), 0);
	sha256_abort(&c);
	cr_assert_null(c.md);
	free(big);
}

Test(pb, finding_enums_checked)
{
	struct finding	f = vec_c_finding();
	struct pbuf	b;

	pbuf_init(&b);
	f.severity = SEVERITY_COUNT;
	cr_assert_eq(pb_encode_finding_event(&f, &b), -1);
	f.severity = SEVERITY_INFO;
	f.surface = (enum surface)-1;
	cr_assert_eq(pb_encode_finding_event(&f, &b), -1);
	cr_assert_eq(b.len, 0);
	pbuf_free(&b);
}

/* Parts present but with nothing in them (found by fuzz_pb). */
Test(pb, decoder_refuses_contentless_parts)
{
	pb_refuse("080112020a00", "empty message");
	pb_refuse("0801120422002a00", "empty message");
	pb_refuse("08011a024a00", "empty message");
	/* A provenance with only empty strings makes no content. */
	pb_refuse("080112043a020a00", "empty message");
	/* With content elsewhere it decodes, non-canonically. */
	pb_accept("080112073a020a00220161", 0);
}
