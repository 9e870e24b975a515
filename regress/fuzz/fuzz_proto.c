/*
 * libFuzzer harness for the protocol decoders (bytes from the network,
 * or kobangd's own state file): the enroll, check-in, sync (6.6) and
 * config (5.2) responses, the identity state, the certificate
 * PEM-or-DER decoding of PROTOCOL.md 4.3 and the endpoint URL; the JSON
 * recogniser and jsmn must agree on every document.  A decoded state re-encodes to JSON that decodes
 * to the same state; a decoded certificate re-encodes to PEM that decodes
 * to the same DER.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jsonr.h"
#include "jsonw.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
state_round_trip(const struct proto_state *st)
{
	struct proto_state	back;
	struct jsonw		w;
	const char		*s;
	char			 err[128];
	size_t			 len;

	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	if (proto_state_encode(&w, st) == -1 ||
	    (s = jsonw_result(&w, &len)) == NULL)
		abort();
	if (proto_state_decode(s, len, &back, err, sizeof(err)) == -1)
		abort();
	if (strcmp(back.tenant_id, st->tenant_id) != 0 ||
	    strcmp(back.device_id, st->device_id) != 0 ||
	    back.cert_len != st->cert_len ||
	    memcmp(back.cert, st->cert, st->cert_len) != 0 ||
	    back.not_after != st->not_after ||
	    back.has_generation != st->has_generation ||
	    strcmp(back.generation, st->generation) != 0)
		abort();
	proto_state_free(&back);
	jsonw_free(&w);
}

static void
cert_round_trip(const uint8_t *data, size_t size)
{
	uint8_t	*der, *again;
	char	*pem;
	size_t	 dl, al, pl;

	if (proto_cert_der(data, size, &der, &dl) == -1)
		return;
	if (dl == 0 || dl > PROTO_CERT_MAX)
		abort();
	if (proto_cert_pem(der, dl, &pem, &pl) == -1)
		abort();
	if (proto_cert_der((const uint8_t *)pem, pl, &again, &al) == -1 ||
	    al != dl || memcmp(again, der, dl) != 0)
		abort();
	free(again);
	free(pem);
	free(der);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_enroll_resp	er;
	struct proto_checkin_resp	cr;
	struct proto_sync_resp		sr;
	struct proto_config_resp	gr;
	struct proto_state		st;
	struct http_endpoint		ep;
	struct jsonr			jr;
	char				err[128], *s;
	enum proto_route		r;

	/* The recogniser must never accept what jsmn then refuses. */
	if (jsonr_parse(&jr, (const char *)data, size, 4096) == -1 &&
	    strcmp(jr.err, "tokenizer disagrees") == 0)
		abort();
	jsonr_free(&jr);

	if (proto_enroll_response((const char *)data, size, &er, err,
	    sizeof(err)) == 0) {
		if (er.cert_len == 0 || er.cert_len > PROTO_CERT_RAW_MAX ||
		    er.tenant_id[0] == '\0' || er.device_id[0] == '\0')
			abort();
		cert_round_trip(er.cert, er.cert_len);
		proto_enroll_response_free(&er);
	}
	(void)proto_checkin_response((const char *)data, size, &cr, err,
	    sizeof(err));
	if (proto_sync_response((const char *)data, size, &sr, err,
	    sizeof(err)) == 0) {
		size_t	i;

		if (sr.naccepted > PROTO_SYNC_MAX_EVENTS ||
		    sr.nrejected > PROTO_SYNC_MAX_EVENTS ||
		    sr.accepted_through < 0 ||
		    (sr.naccepted > 0) != (sr.accepted != NULL) ||
		    (sr.nrejected > 0) != (sr.rejected != NULL))
			abort();
		for (i = 0; i < sr.naccepted; i++)
			if (sr.accepted[i] < 0)
				abort();
		for (i = 0; i < sr.nrejected; i++)
			if (sr.rejected[i] < 0)
				abort();
		proto_sync_response_free(&sr);
	}
	if (proto_config_response((const char *)data, size, &gr, err,
	    sizeof(err)) == 0) {
		if ((gr.config_json == NULL) != (gr.config_len == 0) ||
		    gr.config_len > PROTO_CONFIG_MAX ||
		    (gr.signature == NULL) != (gr.signature_len == 0) ||
		    gr.signature_len > PROTO_SIGNATURE_MAX)
			abort();
		proto_config_response_free(&gr);
	}
	if (proto_state_decode((const char *)data, size, &st, err,
	    sizeof(err)) == 0) {
		state_round_trip(&st);
		proto_state_free(&st);
	}
	for (r = 0; r < PROTO_NROUTES; r++)
		(void)proto_validate(r, (const char *)data, size, err,
		    sizeof(err));
	cert_round_trip(data, size);

	if ((s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	s[size] = '\0';
	if (http_endpoint_parse(s, &ep, err, sizeof(err)) == 0 &&
	    (ep.port == 0 || ep.host[0] == '\0'))
		abort();
	free(s);
	return (0);
}
