#!/bin/sh
# A reload that changes the sync settings: a daemon started local-only
# (parent and scan) enrolls once sync.enabled and an endpoint arrive by
# reload, which starts net and dns and restarts neither parent nor scan;
# a reload that turns sync off again stops all traffic, and net and dns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
tok=$(fleet_token 600)
fleet_start server
printf '%s\n' "$tok" >"$T/token"
chmod 600 "$T/token"

conf() {	# sync.enabled
	cat >"$T/kobangd.yaml" <<-YAML
	kobangd:
	  stateDirectory: $T/state
	  controlSocket: $SOCK
	  fleetCAFile: $PKI/ca.pem
	  enrollmentTokenFile: $T/token
	  users: [$U1]
	sync:
	  enabled: $1
	  endpoint: https://localhost:$PORT
	  checkInIntervalSeconds: 1
	YAML
	chmod 600 "$T/kobangd.yaml"
}

conf false
own_homes
start_daemon -f "$T/kobangd.yaml"
SYNC=off wait_ready
pids=$(ctl -j show status | jq -c '[.processes[] | .pid]')
# parent, 0, scan, 0: net and dns not started.
[ "$(echo "$pids" | jq -c '[.[] | . > 0]')" = '[true,false,true,false]' ] ||
    fail "local-only processes: $pids"
[ "$(ctl -j show sync | jq .sync)" = false ] || fail "sync on at start"
grep -q "^enroll" "$T/peer.log" && fail "a local-only daemon enrolled"

conf true
ctl reload >/dev/null || fail "reload refused"
wait_for "reload: the sync settings changed; the Fleet connection starts" \
    10 "$T/log"
wait_for "check-in ok .*auth=certificate" 20
[ "$(ctl -j show sync | jq -r .enrolled)" = true ] ||
    fail "not enrolled after the reload"
wait_ready
[ "$(ctl -j show status | jq -c '[.processes[] | .pid] | [.[0], .[2]]')" = \
    "$(echo "$pids" | jq -c '[.[0], .[2]]')" ] ||
    fail "a reload of the sync settings restarted the parent or scan"

# Off again: the check-ins every second stop.
conf false
ctl reload >/dev/null || fail "reload refused"
sleep 1.5
n=$(grep -c "^check-in ok" "$T/peer.log")
sleep 3
[ "$(grep -c "^check-in ok" "$T/peer.log")" -eq "$n" ] ||
    fail "check-ins go on after sync was turned off"
[ "$(ctl -j show sync | jq .sync)" = false ] || fail "show sync says on"
kill -0 "$DPID" || fail "kobangd died"
SYNC=off wait_ready
exit 0
