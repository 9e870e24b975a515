# Shared helpers for the end-to-end tests.  Sourced, not run.
# Every test gets its own scratch directory, socket and daemon.

set -u
: "${B:?}"
KOBANGD=$B/kobangd
KOBANCTL=$B/kobanctl
T=$(mktemp -d /tmp/kobangd-e2e.XXXXXX)
chmod 755 "$T"
SOCK=$T/kobangd.sock
DPID=

fail() {
	echo "FAIL: $*"
	[ -f "$T/log" ] && { echo "--- daemon log"; tail -n 40 "$T/log"; }
	exit 1
}

cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill "$DPID" 2>/dev/null
		i=0
		while kill -0 "$DPID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$DPID" 2>/dev/null
	fi
	# E2E_LOGS=dir keeps the daemon's log, e.g. of a sanitizer build.
	[ -n "${E2E_LOGS:-}" ] && [ -f "$T/log" ] &&
	    cp "$T/log" "$E2E_LOGS/$(basename "$0" .sh).log"
	rm -rf "$T"
	# The accounts test_user made: a later daemon on its defaults
	# would monitor them.
	for u in ${TEST_USERS:-}; do
		userdel "$u" 2>/dev/null
		getent group "$u" >/dev/null && groupdel "$u" 2>/dev/null
	done
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "end-to-end tests run as root"

# A real user $1 whose home is $T/home/$1 (made if missing, moved if
# not), removed again by cleanup.
TEST_USERS=
test_user() {
	TEST_USERS="$TEST_USERS $1"
	if ! getent passwd "$1" >/dev/null; then
		useradd -M -d "$T/home/$1" -s /bin/sh -U "$1" ||
		    fail "cannot create user $1"
	fi
	usermod -d "$T/home/$1" "$1" 2>/dev/null
	[ "$(getent passwd "$1" | cut -d: -f6)" = "$T/home/$1" ] ||
	    fail "cannot move the home of $1"
	mkdir -p "$T/home/$1"
}

ctl() {
	"$KOBANCTL" -s "$SOCK" "$@"
}

# Start kobangd in the foreground (in the background of this shell).
start_daemon() {
	"$KOBANGD" -d -v -s "$SOCK" "$@" >"$T/log" 2>&1 &
	DPID=$!
}

# Wait until every child that should run has said hello (pid and
# landlock known).  net and dns run only while sync is on: SYNC=on (set
# by fleet.sh, or for one call: SYNC=on wait_ready) waits for all three,
# otherwise scan alone, with net and dns reported absent.
SYNC=${SYNC:-off}
wait_ready() {
	case $SYNC in
	on)	want='[.processes[] | select(.name != "parent" and .running and
		    .uid != null)] | length == 3' ;;
	*)	want='([.processes[] | select(.name == "scan" and .running and
		    .uid != null)] | length == 1) and ([.processes[] |
		    select((.name == "net" or .name == "dns") and
		    (.running | not) and .absent != null)] | length == 2)' ;;
	esac
	i=0
	while [ $i -lt 100 ]; do
		if ctl -j show status >"$T/status.json" 2>/dev/null &&
		    [ "$(jq "$want" "$T/status.json")" = true ]; then
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || fail "kobangd exited"
		sleep 0.1
		i=$((i + 1))
	done
	fail "kobangd not ready (sync $SYNC) after 10 s: $(cat "$T/status.json" 2>/dev/null)"
}

# A sync section that makes kobangd start net and dns without reaching
# anything: an endpoint on a closed loopback port, no identity and no
# token, so no request is ever made (for tests of the children
# themselves; with sync off only scan runs).
sync_idle_yaml() {
	printf 'sync:\n  enabled: true\n  endpoint: https://127.0.0.1:9\n'
}

# $T/kobangd.yaml: the built-in defaults but for the state directory, the
# socket and sync as sync_idle_yaml has it.
sync_idle_conf() {
	{
		printf 'kobangd:\n  stateDirectory: %s\n' "$T/state"
		printf '  controlSocket: %s\n' "$SOCK"
		sync_idle_yaml
	} >"$T/kobangd.yaml"
	chmod 600 "$T/kobangd.yaml"
}

# Wait up to $1 seconds until none of the processes $2 ... is alive;
# 1 if one still is.  (Its variables are prefixed: sh has no locals.)
wait_gone() {
	wg_n=$(($1 * 10))
	shift
	wg_i=0
	while :; do
		wg_alive=
		for wg_p in "$@"; do
			kill -0 "$wg_p" 2>/dev/null && wg_alive=1
		done
		[ -z "$wg_alive" ] && return 0
		[ $wg_i -lt $wg_n ] || return 1
		sleep 0.1
		wg_i=$((wg_i + 1))
	done
}

child_pid() {
	ctl -j show status | jq -r ".processes[] | select(.name == \"$1\") | .pid"
}
