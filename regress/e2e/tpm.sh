# Helpers for the tests of the TPM key store (kobangd.keyStore: tpm).
# Sourced after lib.sh and fleet.sh.  Each test starts its own software
# TPM (swtpm, socket mode on a UNIX socket in $T, its own state
# directory) and never touches the machine's TPM; the EXIT trap stops
# it, the daemon, the peer, and removes the test's user.

TPMKEY=$B/regress/tpmkey
TPMDIR=$T/tpm
TCTI="swtpm:path=$TPMDIR/sock"
SWTPM=
TPM_USER=

command -v swtpm >/dev/null 2>&1 || fail "swtpm is not installed (make deps)"
[ -x "$TPMKEY" ] || fail "no $TPMKEY (make build/regress/tpmkey)"

tpm_cleanup() {
	tpm_stop
	[ -n "$TPM_USER" ] && userdel "$TPM_USER" 2>/dev/null
	fleet_cleanup
}
trap tpm_cleanup EXIT

# Start swtpm on the state directory $1 (default $TPMDIR), which keeps
# its seeds: the same directory is the same TPM, a fresh one is a
# cleared TPM.  The TCTI "swtpm:path=P" wants the control socket at P.ctrl.
tpm_start() {
	d=${1:-$TPMDIR}
	mkdir -p "$d" "$TPMDIR"
	rm -f "$TPMDIR/sock" "$TPMDIR/sock.ctrl"
	swtpm socket --tpm2 --tpmstate dir="$d" \
	    --server type=unixio,path="$TPMDIR/sock" \
	    --ctrl type=unixio,path="$TPMDIR/sock.ctrl" \
	    --flags not-need-init,startup-clear \
	    --log file="$T/swtpm.log" >>"$T/swtpm.log" 2>&1 &
	SWTPM=$!
	i=0
	while [ $i -lt 50 ]; do
		[ -S "$TPMDIR/sock" ] && [ -S "$TPMDIR/sock.ctrl" ] && return 0
		kill -0 "$SWTPM" 2>/dev/null ||
		    fail "swtpm exited: $(cat "$T/swtpm.log")"
		sleep 0.1
		i=$((i + 1))
	done
	fail "swtpm did not start"
}

tpm_stop() {
	if [ -n "$SWTPM" ] && kill -0 "$SWTPM" 2>/dev/null; then
		kill "$SWTPM" 2>/dev/null
		wait "$SWTPM" 2>/dev/null
	fi
	SWTPM=
}

# A user of this test's own, its home under $T.
tpm_user() {
	TPM_USER=$1
	getent passwd "$1" >/dev/null ||
	    useradd -M -d "$T/home/$1" -s /bin/sh -U "$1" ||
	    fail "cannot create user $1"
	usermod -d "$T/home/$1" "$1" 2>/dev/null
	mkdir -p "$T/home/$1"
}

# The configuration: key store $1, enrollment with $T/token, the homes
# of $TPM_USER (if any) watched, more sync keys on standard input.
tpm_conf() {
	{
		cat <<-YAML
		kobangd:
		  stateDirectory: $T/state
		  controlSocket: $SOCK
		  fleetCAFile: $PKI/ca.pem
		  enrollmentTokenFile: $T/token
		  users: [${TPM_USER}]
		  keyStore: $1
		  tpmTCTI: "$TCTI"
		watch:
		  debounceMilliseconds: 100
		  projectRoots: ["~/src"]
		sync:
		  enabled: true
		  endpoint: https://localhost:$PORT
		  checkInIntervalSeconds: 3600
		  retryBaseSeconds: 1
		YAML
		cat
	} >"$T/kobangd.yaml"
	chmod 600 "$T/kobangd.yaml"
}

# The daemon stopped (cleanly: it flushes its key from the TPM).  Its
# log is about to be replaced: a sanitizer build's report in it fails
# the test here.
stop_daemon() {
	kill "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
	if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" \
	    "$T/log"; then
		fail "sanitizer report: $(grep -A 20 'ERROR: \|runtime error:' \
		    "$T/log" | head -n 40)"
	fi
}

# Wait up to $2 s for .keyStore.error of show identity to match $1
# ("null": none).
wait_key_error() {
	i=0
	while [ $i -lt $((${2:-10} * 10)) ]; do
		identity '.keyStore.error // "null"' | grep -q -- "$1" &&
		    return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "key store error \"$(identity .keyStore.error)\", expected $1"
}
