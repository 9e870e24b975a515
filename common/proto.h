/*
 * Koban Sensor Protocol v1 (PROTOCOL.md), the pieces kobangd's transport
 * needs: routes, the device public key as PEM (4.1), the client
 * certificate's PEM-or-DER decoding (4.3), the enroll and check-in
 * request encoders and strict response decoders (2, 4.6, 6.2, 6.3), and
 * kobangd's own identity state file (the counterpart of 4.4).
 *
 * Encoders write compact JSON with '/' escaped as "\/" (Foundation's
 * JSONEncoder).  Decoders follow PROTOCOL.md 2 strictly: the top level is
 * an object, unknown keys are ignored, a missing required key, a value of
 * the wrong type, non-canonical base64 or an integer outside its range
 * fails the whole response, and so (unlike Foundation) do duplicate keys
 * and strings longer than the stated caps.  Every decoder writes one
 * message into err on failure.
 */
#ifndef KOBANG_PROTO_H
#define KOBANG_PROTO_H

#include <stddef.h>
#include <stdint.h>

struct jsonw;

enum proto_route {
	PROTO_ENROLL,
	PROTO_CONFIG,
	PROTO_CHECKIN,
	PROTO_SYNC,
	PROTO_NROUTES
};

/* kobangd identifies itself, not as the reference (spec/README.md). */
#define PROTO_SENSOR_VERSION	"kobangd/" KOBANGD_VERSION

#define PROTO_ID_MAX		256	/* tenant and device ids, bytes */
#define PROTO_STR_MAX		256	/* times, generations, host strings */
#define PROTO_TOKEN_MAX		4096	/* enrollment token, bytes */
#define PROTO_CERT_RAW_MAX	65536	/* clientCertificate bytes as sent */
#define PROTO_CERT_MAX		8192	/* the DER of the one certificate */
#define PROTO_POINT_LEN		65	/* X9.63 uncompressed P-256 point */
#define PROTO_SPKI_LEN		91	/* SubjectPublicKeyInfo DER */
#define PROTO_SPKI_PEM_LEN	177	/* 4.1, no trailing newline */
#define PROTO_MAX_TOKENS	256	/* JSON values in a response */
#define PROTO_MAX_TOKENS_ANY	262144	/* in a route without a decoder */

/* "api/sensor/v1/enroll", ...; no leading slash (1.1). */
const char	*proto_route_path(enum proto_route);
const char	*proto_route_name(enum proto_route);
/* 1 for every route but enroll: certificate or sensor token. */
int		 proto_route_protected(enum proto_route);

/* 4.1: the fixed 26-byte prefix and the point; -1 unless point[0] is 4. */
int	 proto_spki_der(const uint8_t [PROTO_POINT_LEN],
	    uint8_t [PROTO_SPKI_LEN]);
/* 4.1: the PEM text exactly, NUL-terminated. */
int	 proto_spki_pem(const uint8_t [PROTO_POINT_LEN],
	    char [PROTO_SPKI_PEM_LEN + 1]);

/*
 * 4.3: the bytes of clientCertificate to the DER of one certificate.
 * Valid UTF-8 with both markers: the base64 between the first BEGIN and
 * the first END marker with all whitespace removed; anything else: the
 * bytes as they are.  *der is malloc'ed; -1 if the PEM body does not
 * decode or the result is empty or above PROTO_CERT_MAX.
 */
int	 proto_cert_der(const uint8_t *, size_t, uint8_t **, size_t *);
/* DER to the PEM libtls loads; *pem is malloc'ed and NUL-terminated. */
int	 proto_cert_pem(const uint8_t *, size_t, char **, size_t *);

/* What the host says about itself (3.3). */
struct proto_host {
	char	hostname[PROTO_STR_MAX + 1];
	char	os_version[PROTO_STR_MAX + 1];
	char	hardware_model[PROTO_STR_MAX + 1];
};

/* 4.6 EnrollmentRequest; spki_pem is the text of proto_spki_pem(). */
int	 proto_enroll_request(struct jsonw *, const char *, const char *,
	    const struct proto_host *);

struct proto_enroll_resp {
	char		 tenant_id[PROTO_ID_MAX + 1];
	char		 device_id[PROTO_ID_MAX + 1];
	uint8_t		*cert;		/* clientCertificate, decoded base64 */
	size_t		 cert_len;
	char		 expires_at[PROTO_STR_MAX + 1];
};

int	 proto_enroll_response(const char *, size_t,
	    struct proto_enroll_resp *, char *, size_t);
void	 proto_enroll_response_free(struct proto_enroll_resp *);

/* 6.1 */
struct proto_health {
	uint64_t	backlog_events;
	uint64_t	backlog_bytes;
};

/* 6.2 CheckInRequest: tenant, device, osVersion, active generation. */
int	 proto_checkin_request(struct jsonw *, const char *, const char *,
	    const char *, const char *, const struct proto_health *);

/* 6.3 CheckInResponse: all five keys required. */
struct proto_checkin_resp {
	char	server_time[PROTO_STR_MAX + 1];
	char	config_generation[PROTO_STR_MAX + 1];
	int	config_update_available;
	int	certificate_renewal_required;
	int	full_resnapshot_requested;
};

int	 proto_checkin_response(const char *, size_t,
	    struct proto_checkin_resp *, char *, size_t);

/* 6.5 SyncEventRequest: the row as the store keeps it. */
struct proto_sync_event {
	const char	*event_id;
	const char	*device_id;
	int64_t		 local_seq;
	const char	*surface;
	const char	*kind;
	int64_t		 observed_ms;
	int64_t		 collected_ms;
	const char	*payload_hash;
	const uint8_t	*payload;
	size_t		 payload_len;
};

/*
 * 6.4 SyncRequest; tenant NULL omits tenantId.  -1 on an empty batch,
 * a timestamp out of range or no memory.
 */
int	 proto_sync_request(struct jsonw *, const char *, const char *,
	    int64_t, const struct proto_sync_event *, size_t,
	    const struct proto_health *);

/* Elements of accepted and rejected events in one response. */
#define PROTO_SYNC_MAX_EVENTS	10000
#define PROTO_SYNC_MAX_TOKENS	(PROTO_SYNC_MAX_EVENTS * 18 + 64)

/*
 * 6.6 SyncResponse: all ten keys required, every element's keys too;
 * local sequences >= 0, the three limits uint32.  accepted and rejected
 * are malloc'ed arrays of local sequences (NULL when empty).
 */
struct proto_sync_resp {
	int64_t		 accepted_through;
	int64_t		*accepted;
	size_t		 naccepted;
	int64_t		*rejected;
	size_t		 nrejected;
	char		 server_time[PROTO_STR_MAX + 1];
	char		 config_generation[PROTO_STR_MAX + 1];
	int		 config_update_available;
	int		 full_resnapshot_requested;
	uint32_t	 retry_after;
	uint32_t	 max_batch_bytes;
	uint32_t	 max_batch_events;
};

int	 proto_sync_response(const char *, size_t, struct proto_sync_resp *,
	    char *, size_t);
void	 proto_sync_response_free(struct proto_sync_resp *);

/* 5.2 GetConfigRequest: tenant, device, the stored generation or "". */
int	 proto_config_request(struct jsonw *, const char *, const char *,
	    const char *);

#define PROTO_CONFIG_MAX	(4 * 1024 * 1024)	/* configJson bytes */
#define PROTO_SIGNATURE_MAX	65536

/*
 * 5.2 GetConfigResponse: generation required; configJson and signature
 * optional, absent, null or "" meaning empty (NULL here), else canonical
 * base64.  The signature is never verified (5.2) but still checked.
 */
struct proto_config_resp {
	char		 generation[PROTO_STR_MAX + 1];
	uint8_t		*config_json;	/* NULL: no update */
	size_t		 config_len;
	uint8_t		*signature;
	size_t		 signature_len;
};

int	 proto_config_response(const char *, size_t,
	    struct proto_config_resp *, char *, size_t);
void	 proto_config_response_free(struct proto_config_resp *);

/*
 * Validate a 2xx response body of a route with that route's decoder
 * (the network child does this before handing a body up).
 */
int	 proto_validate(enum proto_route, const char *, size_t, char *,
	    size_t);

/*
 * kobangd's identity state (identity/state.json): the keys of
 * PROTOCOL.md 4.4 (tenantID, deviceID, clientCertificate as base64 of
 * the DER, certificateExpiresAt, configGeneration omitted when unknown)
 * plus what the network child read from the certificate when it was
 * accepted: certificateSubject, certificateIssuer, certificateNotAfter
 * (seconds since the epoch) and publicKeySHA256 (hex of the SPKI DER's
 * digest).  One file, so that identity and certificate change together.
 */
struct proto_state {
	char		 tenant_id[PROTO_ID_MAX + 1];
	char		 device_id[PROTO_ID_MAX + 1];
	uint8_t		*cert;		/* DER */
	size_t		 cert_len;
	char		 expires_at[PROTO_STR_MAX + 1];
	char		 generation[PROTO_STR_MAX + 1];
	int		 has_generation;
	char		 subject[PROTO_STR_MAX + 1];
	char		 issuer[PROTO_STR_MAX + 1];
	int64_t		 not_after;
	char		 spki_sha256[65];
};

int	 proto_state_encode(struct jsonw *, const struct proto_state *);
int	 proto_state_decode(const char *, size_t, struct proto_state *,
	    char *, size_t);
void	 proto_state_free(struct proto_state *);

#endif
