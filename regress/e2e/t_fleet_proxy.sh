#!/bin/sh
# Fleet through an egress proxy: Debian's tinyproxy, started here on
# 127.0.0.1 with Basic authentication, in front of the Fleet test peer.
# Enrollment, check-in and sync go through it (the proxy logs each
# CONNECT to the peer's host and port; kobanctl show sync names it);
# the credentials are nowhere in the logs or the state.  Wrong
# credentials (407, or 401 from tinyproxy), a proxy that refuses the
# port (403) and something that is not a proxy fail with a message
# naming the proxy and its answer, and lose nothing: the events wait and
# go once the credentials are right.  https_proxy from the
# environment is used when kobangd.proxy is absent, and no_proxy for the
# Fleet host bypasses it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

command -v tinyproxy >/dev/null || fail "tinyproxy is not installed"
U1=kobpx1
H1=$T/home/$U1
PXPIDS=

px_cleanup() {
	for p in $PXPIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	getent passwd $U1 >/dev/null && userdel $U1 2>/dev/null
	fleet_cleanup
}
trap px_cleanup EXIT

if ! getent passwd $U1 >/dev/null; then
	useradd -M -d "$H1" -s /usr/sbin/nologin -U $U1 ||
	    fail "cannot create user $U1"
fi
usermod -d "$H1" $U1 2>/dev/null || fail "cannot move the home of $U1"
mkdir -p "$H1/src/web"

# tinyproxy on a free loopback port: px_start name connect-port [user pw];
# sets PXPORT.  It runs as nobody, in the foreground, logging to
# $T/name.log.
px_start() {
	n=0
	while [ $n -lt 10 ]; do
		n=$((n + 1))
		PXPORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		{
			echo "Port $PXPORT"
			echo "Listen 127.0.0.1"
			echo "Timeout 30"
			echo "Allow 127.0.0.1"
			echo "LogLevel Info"
			echo "MaxClients 20"
			echo "ConnectPort $2"
			echo "DisableViaHeader Yes"
			echo "User nobody"
			echo "Group nogroup"
			[ $# -ge 4 ] && echo "BasicAuth $3 $4"
		} >"$T/$1.conf"
		tinyproxy -d -c "$T/$1.conf" >"$T/$1.log" 2>&1 &
		p=$!
		i=0
		while [ $i -lt 30 ]; do
			if grep -q "Accepting connections" "$T/$1.log" \
			    2>/dev/null; then
				PXPIDS="$PXPIDS $p"
				return 0
			fi
			kill -0 $p 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		kill $p 2>/dev/null
		wait $p 2>/dev/null
	done
	fail "tinyproxy did not start: $(cat "$T/$1.log")"
}

# CONNECTs the proxy named $1 was asked for, to the peer.
connects() {
	grep -c "CONNECT localhost:$PORT " "$T/$1.log"
}

# The daemon's configuration; $1: more lines of the kobangd section.
px_conf() {
	cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  controlSocket: $SOCK
  fleetCAFile: $PKI/ca.pem
  enrollmentTokenFile: $T/token
  users: [$U1]
${1:-}
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
sync:
  enabled: true
  endpoint: https://localhost:$PORT
  checkInIntervalSeconds: 3600
  retryBaseSeconds: 1
YAML
	chmod 600 "$T/kobangd.yaml"
}

lock() {
	printf '{"name": "p", "lockfileVersion": 3, "requires": true, '
	printf '"packages": {"": {"name": "p", "version": "1.0.0"}'
	for p in "$@"; do
		printf ', "node_modules/%s": {"version": "1.0.0"}' "$p"
	done
	printf '}}\n'
}

# A new package in the project, scanned: the outbox grows.
add_package() {
	before=$(fleet_backlog)
	lock "$@" >"$H1/src/web/package-lock.json"
	chown -R $U1:$U1 "$H1"
	ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
	i=0
	while [ "$(fleet_backlog)" -le "$before" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "the change did not reach the outbox"
		sleep 0.1
	done
}

# Forced rounds until nothing is pending.
drain() {
	i=0
	while [ "$(fleet_backlog)" -gt 0 ]; do
		i=$((i + 1))
		[ $i -lt 30 ] || fail "the outbox did not drain: $(ctl show sync)"
		ctl sync >/dev/null 2>&1 || sleep 0.2
	done
}

# Forced rounds until the last sync failed with a message matching $1.
sync_fails() {
	i=0
	until ctl -j show sync | jq -r .lastSync.result | grep -qE -- "$1"; do
		i=$((i + 1))
		[ $i -lt 30 ] || fail "no sync failed with \"$1\": \
$(ctl -j show sync | jq -r .lastSync.result)"
		ctl sync >/dev/null 2>&1 || sleep 0.2
	done
	ctl -j show sync | jq -e '.lastSync.ok == false' >/dev/null ||
	    fail "the last sync did not fail"
}

restart() {
	kill "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
	start_daemon -f "$T/kobangd.yaml"
	wait_ready
}

fleet_pki
fleet_token_file
fleet_start server
pw=pw-$(openssl rand -hex 12)
px_start px "$PORT" kobpx "$pw"
PX=$PXPORT
printf 'kobpx:%s\n' "$pw" >"$T/proxy-cred"
chmod 600 "$T/proxy-cred"
lock left-pad >"$H1/src/web/package-lock.json"
chown -R $U1:$U1 "$H1"
chmod 700 "$H1"

# 1. Enroll, check in and sync through the proxy with its credentials.
px_conf "  proxy: http://127.0.0.1:$PX
  proxyCredentialsFile: $T/proxy-cred"
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
grep -q "^enrolled " "$T/peer.log" || fail "not enrolled"
[ "$(connects px)" -ge 2 ] ||
    fail "enroll and check-in did not go through the proxy: $(cat "$T/px.log")"
[ "$(ctl -j show sync | jq -r .proxy)" = "http://127.0.0.1:$PX (kobangd.proxy)" ] ||
    fail "show sync: proxy $(ctl -j show sync | jq -r .proxy)"
ctl show sync | grep -q "^proxy: *http://127.0.0.1:$PX (kobangd.proxy)$" ||
    fail "show sync does not name the proxy"
add_package left-pad react
drain
grep -q "^sync ok device=device-1 events=[1-9]" "$T/peer.log" ||
    fail "no sync reached the peer"
grep -q "Request (file descriptor [0-9]*): CONNECT localhost:$PORT " \
    "$T/px.log" || fail "the proxy was not asked for the peer's host and port"

# Wiped after use: neither the parent nor net holds the credentials, raw
# or in base64, once the CONNECTs are done; tinyproxy, which keeps them
# to compare, shows that the scan finds them where they are.
printf 'kobpx:%s' "$pw" >"$T/secret-raw"
printf 'kobpx:%s' "$pw" | base64 -w0 >"$T/secret-b64"
chmod 600 "$T/secret-raw" "$T/secret-b64"
"$MEMSCAN" -s "$T/secret-b64" "$(echo $PXPIDS | cut -d' ' -f1)" \
    >"$T/scan.px" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "memscan did not find the credentials in tinyproxy \
(rc $rc): $(cat "$T/scan.px")"
for p in "$DPID" "$(child_pid net)"; do
	for s in raw b64; do
		"$MEMSCAN" -s "$T/secret-$s" "$p" >"$T/scan.$s" 2>&1
		rc=$?
		[ $rc -eq 1 ] || fail "pid $p holds the credentials ($s, rc \
$rc): $(cat "$T/scan.$s")"
	done
done

# 2. Wrong credentials: 407, named; the events wait.
printf 'kobpx:wrong-%s\n' "$pw" >"$T/proxy-cred"
restart
add_package left-pad react zod
held=$(fleet_backlog)
synced=$(grep -c "^sync ok" "$T/peer.log")
# tinyproxy 1.11 answers wrong credentials with 401, missing ones with 407.
sync_fails "proxy 127\.0\.0\.1:$PX answered (401 Unauthorized|407 Proxy Authentication Required): it refused the credentials of kobangd\.proxyCredentialsFile"
grep -qE "sync: .*proxy 127\.0\.0\.1:$PX answered (401|407)" "$T/log" ||
    fail "the refusal is not in the log"
[ "$(fleet_backlog)" -eq "$held" ] || fail "events lost after a 407"
[ "$(grep -c "^sync ok" "$T/peer.log")" -eq "$synced" ] ||
    fail "a sync reached the peer past a 407"
# Right again: the next round reads the file afresh and delivers.
printf 'kobpx:%s\n' "$pw" >"$T/proxy-cred"
drain
[ "$(grep -c "^sync ok" "$T/peer.log")" -gt "$synced" ] ||
    fail "nothing delivered after the 407"

# No credentials at all: 407 too, saying they are wanted.
px_conf "  proxy: http://127.0.0.1:$PX"
restart
if ctl check-in >"$T/ctl.out" 2>&1; then
	fail "check-in without proxy credentials succeeded"
fi
grep -qF "kobanctl: check-in failed: proxy 127.0.0.1:$PX answered 407 Proxy Authentication Required: it wants credentials" \
    "$T/ctl.out" || fail "kobanctl check-in said: $(cat "$T/ctl.out")"

# 3. A proxy that refuses the port: 403, named; nothing lost.
px_start px2 1
PX2=$PXPORT
px_conf "  proxy: 127.0.0.1:$PX2"
kill -HUP "$DPID"
wait_for "proxy http://127.0.0.1:$PX2 (kobangd.proxy)" 10 "$T/log"
add_package left-pad react zod lodash
held=$(fleet_backlog)
sync_fails "proxy 127\.0\.0\.1:$PX2 answered 403 Forbidden: it refuses to CONNECT to localhost:$PORT"
[ "$(fleet_backlog)" -eq "$held" ] || fail "events lost after a 403"
[ "$(connects px2)" -ge 1 ] || fail "the refusing proxy was not asked"

# Not a proxy at all (the peer's TLS port): it closes or answers what is
# not HTTP, and says so.
px_conf "  proxy: http://127.0.0.1:$PORT"
kill -HUP "$DPID"
wait_for "proxy http://127.0.0.1:$PORT (kobangd.proxy)" 10 "$T/log"
sync_fails "proxy 127\.0\.0\.1:$PORT (closed the connection without answering CONNECT|: malformed answer to CONNECT)"
[ "$(fleet_backlog)" -eq "$held" ] || fail "events lost to a non-proxy"

# 4. The environment: https_proxy when kobangd.proxy is absent ...
px_conf ""
export https_proxy="http://127.0.0.1:$PX2/"
restart
[ "$(ctl -j show sync | jq -r .proxy)" = "http://127.0.0.1:$PX2 (https_proxy)" ] ||
    fail "https_proxy not used: $(ctl -j show sync | jq -r .proxy)"
n=$(connects px2)
ctl check-in >/dev/null 2>&1 && fail "check-in through the refusing proxy"
[ "$(connects px2)" -gt "$n" ] || fail "https_proxy was not asked"
# ... and no_proxy for the Fleet host bypasses it.
export no_proxy="example.com, .localhost,localhost"
restart
[ "$(ctl -j show sync | jq -r .proxy)" = "none: no_proxy exempts localhost from https_proxy" ] ||
    fail "no_proxy not applied: $(ctl -j show sync | jq -r .proxy)"
n=$(connects px2)
c=$(grep -c "^check-in ok" "$T/peer.log")
ctl check-in >/dev/null || fail "check-in without the proxy"
[ "$(grep -c "^check-in ok" "$T/peer.log")" -gt "$c" ] ||
    fail "the check-in did not reach the peer"
drain
[ "$(connects px2)" -eq "$n" ] || fail "no_proxy did not bypass the proxy"
unset https_proxy no_proxy

# The credentials never reach a log, the state or Fleet's side.
if grep -rqF -- "$pw" "$T/state" "$T/log" "$T/peer.log" 2>/dev/null; then
	fail "the proxy password was written to the state or a log"
fi
b64=$(printf 'kobpx:%s' "$pw" | base64 -w0)
if grep -rqF -- "$b64" "$T/state" "$T/log" "$T/peer.log" 2>/dev/null; then
	fail "the proxy credentials were written to the state or a log"
fi
no_token_anywhere "$tok"
echo ok
