# Helpers for the tests that talk to the Fleet test peer
# (regress/tools/fleetpeer.c).  Sourced after lib.sh.  The peer listens
# on 127.0.0.1 only and the daemon is only ever pointed at it.

# The tests that source this run the daemon with sync on: wait_ready
# expects net and dns (a test with sync off says SYNC=off).
SYNC=on
FLEETPEER=$B/regress/fleetpeer
MEMSCAN=$B/regress/memscan
PKI=$T/pki
PEER=
PORT=

fleet_cleanup() {
	if [ -n "$PEER" ] && kill -0 "$PEER" 2>/dev/null; then
		kill "$PEER" 2>/dev/null
		wait "$PEER" 2>/dev/null
	fi
	cleanup
}
trap fleet_cleanup EXIT

# A P-256 key and a certificate signed by the CA in $1 (or self-signed
# when $1 is "self"): fleet_cert ca name subject [extensions].
fleet_cert() {
	openssl ecparam -name prime256v1 -genkey -noout \
	    -out "$PKI/$2.key" 2>/dev/null || fail "openssl ecparam"
	chmod 600 "$PKI/$2.key"
	if [ "$1" = self ]; then
		openssl req -x509 -new -key "$PKI/$2.key" -subj "$3" -days 2 \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign" \
		    -out "$PKI/$2.pem" 2>/dev/null || fail "openssl req CA"
	else
		openssl req -new -key "$PKI/$2.key" -subj "$3" \
		    -out "$PKI/$2.csr" 2>/dev/null || fail "openssl req"
		printf '%s\n' "$4" >"$PKI/$2.ext"
		openssl x509 -req -in "$PKI/$2.csr" -CA "$PKI/$1.pem" \
		    -CAkey "$PKI/$1.key" -CAcreateserial -days 2 \
		    -extfile "$PKI/$2.ext" -out "$PKI/$2.pem" 2>/dev/null ||
		    fail "openssl x509"
	fi
}

# The test PKI, made now and never committed: the Fleet CA (issues the
# server's and the devices' certificates), the server's certificate for
# 127.0.0.1 and localhost, one from an unknown CA, one for another name.
fleet_pki() {
	mkdir -p "$PKI"
	: >"$PKI/tokens"
	chmod 600 "$PKI/tokens"
	san='subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth'
	fleet_cert self ca "/CN=kobangd test Fleet CA"
	fleet_cert ca server "/CN=localhost" "$san"
	fleet_cert self other-ca "/CN=kobangd test unknown CA"
	fleet_cert other-ca unknown "/CN=localhost" "$san"
	fleet_cert ca wrongname "/CN=fleet.invalid" \
	    'subjectAltName=DNS:fleet.invalid
extendedKeyUsage=serverAuth'
}

# A fresh random token valid for $1 seconds (negative: already expired),
# known to the peer; printed for the caller to keep.
fleet_token() {
	tok=tok-$(openssl rand -hex 16)
	echo "$tok $(($(date +%s) + $1))" >>"$PKI/tokens"
	echo "$tok"
}

# Start the peer with the server certificate named $1 (server, unknown,
# wrongname) and the remaining arguments; sets PEER and PORT.
fleet_start() {
	cert=$1
	shift
	d=$T/peer
	mkdir -p "$d"
	cp "$PKI/ca.pem" "$PKI/ca.key" "$PKI/tokens" "$d/"
	cp "$PKI/$cert.pem" "$d/server.pem"
	cp "$PKI/$cert.key" "$d/server.key"
	"$FLEETPEER" -d "$d" "$@" >"$T/peer.log" 2>&1 &
	PEER=$!
	i=0
	while [ $i -lt 50 ]; do
		PORT=$(sed -n "s/^port //p" "$T/peer.log" 2>/dev/null)
		[ -n "$PORT" ] && return 0
		kill -0 "$PEER" 2>/dev/null || fail "fleetpeer exited: \
$(cat "$T/peer.log")"
		sleep 0.1
		i=$((i + 1))
	done
	fail "fleetpeer did not start"
}

# The daemon's configuration for Fleet at $1, more YAML lines in $2.
fleet_conf() {
	cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  controlSocket: $SOCK
  fleetCAFile: $PKI/ca.pem
  users: []
${3:-}
sync:
  enabled: true
  endpoint: $1
  retryBaseSeconds: 60
${2:-}
YAML
	chmod 644 "$T/kobangd.yaml"
}

# Wait up to $2 seconds (default 15) for a line matching $1 in $3
# (default the peer's log).
wait_for() {
	f=${3:-$T/peer.log}
	i=0
	while [ $i -lt $((${2:-15} * 10)) ]; do
		grep -q -- "$1" "$f" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "no \"$1\" in $f after ${2:-15} s"
}

# The token must be nowhere under the state directory nor in the logs.
no_token_anywhere() {
	if grep -rqF -- "$1" "$T/state" "$T/log" 2>/dev/null; then
		fail "the enrollment token was written to the state \
directory or a log"
	fi
}

# SHA-256 of the SPKI DER of the device key on disk.
key_spki() {
	openssl pkey -in "$T/state/identity/key.pem" -pubout -outform DER |
	    sha256sum | cut -d' ' -f1
}

identity() {
	ctl -j show identity | jq -r "$1"
}

# kobanctl enroll with the token $1 must fail with a message matching
# $2; the daemon must still answer afterwards and hold no identity.
enroll_fails() {
	if printf '%s\n' "$1" | ctl enroll >"$T/enroll.out" 2>"$T/enroll.err"
	then
		fail "enrollment succeeded: $(cat "$T/enroll.out")"
	fi
	grep -q -- "$2" "$T/enroll.err" ||
	    fail "enrollment error \"$(cat "$T/enroll.err")\", expected $2"
	ctl show status >/dev/null || fail "the daemon stopped answering"
	kill -0 "$DPID" 2>/dev/null || fail "the daemon died"
}

# Not enrolled, nothing stored but the key, the token nowhere.
not_enrolled() {
	[ "$(identity .enrolled)" = false ] || fail "enrolled after all"
	[ ! -e "$T/state/identity/state.json" ] || fail "a state was stored"
	no_token_anywhere "$1"
}

# The peer's monotonic times (ms) of the requests on route $1 (sync,
# check-in, config, enroll), one a line, in order.
peer_times() {
	sed -n "s/^request t=\([0-9]*\) route=$1 .*/\1/p" "$T/peer.log"
}

# A package-lock.json (v3) with $1 packages pkg-1 .. pkg-$1 at version
# $2 (default 1.0.0), on standard output.
fleet_lock_n() {
	awk -v n="$1" -v v="${2:-1.0.0}" 'BEGIN {
		printf "{\"name\": \"p\", \"lockfileVersion\": 3, "
		printf "\"requires\": true, \"packages\": {\"\": {\"name\": "
		printf "\"p\", \"version\": \"1.0.0\"}"
		for (i = 1; i <= n; i++)
			printf ", \"node_modules/pkg-%d\": {\"version\": " \
			    "\"%s\"}", i, v
		printf "}}\n"
	}'
}

# Events the daemon has not delivered yet (pending and in flight).
fleet_backlog() {
	ctl -j show sync | jq '.outbox.backlogEvents'
}

# A fresh token valid for ten minutes in $T/token (0600), also in $tok;
# before fleet_start, which hands the peer the tokens it knows.
fleet_token_file() {
	tok=$(fleet_token 600)
	printf '%s\n' "$tok" >"$T/token"
	chmod 600 "$T/token"
}

# The configuration of a daemon that enrolls at the peer with $T/token and
# watches ~/src of $U1 (debounce 100 ms): standard input follows the
# sync section's endpoint (more sync keys, two spaces in, then any other
# section); after fleet_start, which sets $PORT.
fleet_sync_conf() {
	{
		cat <<-YAML
		kobangd:
		  stateDirectory: $T/state
		  controlSocket: $SOCK
		  fleetCAFile: $PKI/ca.pem
		  enrollmentTokenFile: $T/token
		  users: [$U1]
		watch:
		  debounceMilliseconds: 100
		  projectRoots: ["~/src"]
		sync:
		  enabled: true
		  endpoint: https://localhost:$PORT
		YAML
		cat
	} >"$T/kobangd.yaml"
	chmod 600 "$T/kobangd.yaml"
}
