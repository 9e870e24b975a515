/*
 * outbox_dump STATEDIR: every outbox row of the state database, its
 * payload decoded with the strict decoder (common/pb.h), as one JSON
 * object per line.  Exit 1 if a payload does not decode, is not
 * canonical, or does not hash to its stored payloadHash.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "pb.h"
#include "sha256.h"
#include "store.h"
#include "vocab.h"

static int	bad;

static void
str(struct jsonw *w, const char *k, const char *v)
{
	jsonw_key(w, k);
	if (v == NULL)
		jsonw_null(w);
	else
		jsonw_string(w, v);
}

static int
row_cb(void *arg, const struct store_outbox_row *r)
{
	struct pb_payload	 p;
	struct jsonw		 w;
	char			 err[256], hex[SHA256_HEX_BUFSZ];
	const char		*s;

	if (pb_decode_payload(r->payload, r->payload_len, &p, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "seq %lld: %s\n", (long long)r->local_seq, err);
		bad = 1;
		return (0);
	}
	if (sha256_hex(r->payload, r->payload_len, hex) == -1 ||
	    strcmp(hex, r->payload_hash) != 0) {
		fprintf(stderr, "seq %lld: payload hash mismatch\n",
		    (long long)r->local_seq);
		bad = 1;
	}
	if (!p.canonical) {
		fprintf(stderr, "seq %lld: payload not canonical\n",
		    (long long)r->local_seq);
		bad = 1;
	}
	jsonw_init(&w, 0);
	jsonw_object_begin(&w);
	jsonw_key(&w, "seq");
	jsonw_int(&w, r->local_seq);
	str(&w, "eventId", r->event_id);
	str(&w, "deviceId", r->device_id);
	str(&w, "tenantId", r->tenant_id);
	str(&w, "surface", surface_name(r->surface));
	str(&w, "kind", change_kind_name(r->kind));
	str(&w, "state", store_outbox_state_name(r->state));
	jsonw_key(&w, "isFinding");
	jsonw_bool(&w, r->finding);
	str(&w, "payloadHash", r->payload_hash);
	jsonw_key(&w, "payloadVersion");
	jsonw_uint(&w, p.version);
	if (p.has_item) {
		jsonw_key(&w, "item");
		jsonw_object_begin(&w);
		str(&w, "itemId", p.item.item_id);
		str(&w, "surface", p.item.surface);
		str(&w, "kind", p.item.kind);
		str(&w, "name", p.item.name);
		str(&w, "version", p.item.version);
		str(&w, "path", p.item.path);
		str(&w, "origin", p.item.origin);
		jsonw_key(&w, "installedOnRequest");
		if (p.item.installed_on_request == ITEM_BOOL_NIL)
			jsonw_null(&w);
		else
			jsonw_bool(&w, p.item.installed_on_request);
		str(&w, "detail", p.item.detail);
		jsonw_object_end(&w);
	}
	if (p.has_finding) {
		jsonw_key(&w, "finding");
		jsonw_object_begin(&w);
		str(&w, "id", p.finding.id);
		str(&w, "surface", p.finding.surface);
		str(&w, "itemId", p.finding.item_id);
		str(&w, "ruleId", p.finding.rule_id);
		str(&w, "title", p.finding.title);
		str(&w, "rationale", p.finding.rationale);
		str(&w, "severity", p.finding.severity);
		str(&w, "itemName", p.finding.item_name);
		str(&w, "evidencePath", p.finding.evidence_path);
		str(&w, "evidenceDetail", p.finding.evidence_detail);
		str(&w, "matchedField", p.finding.matched_field);
		str(&w, "matchedValue", p.finding.matched_value);
		str(&w, "observedAt", p.finding.observed_at);
		jsonw_object_end(&w);
	}
	jsonw_object_end(&w);
	if ((s = jsonw_result(&w, NULL)) == NULL)
		bad = 1;
	else
		printf("%s\n", s);
	jsonw_free(&w);
	pb_payload_free(&p);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct store	*st;
	char		 err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: outbox_dump statedir\n");
		return (2);
	}
	if ((st = store_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return (1);
	}
	if (store_query_outbox(st, NULL, 0, 0, row_cb, NULL) == -1)
		bad = 1;
	store_close(st);
	return (bad);
}
