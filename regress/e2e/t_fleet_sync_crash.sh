#!/bin/sh
# A crash with a batch in flight (spec/README.md): the peer takes the
# batch and then answers one byte a second; kobangd is killed with
# SIGKILL meanwhile.  At the next start the rows in flight are pending
# again, go out with the same event ids and sequences, and the peer
# holds every event once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
fleet_token_file
fleet_start server -o "$T/held.tsv" -M "$T/mode"

fleet_sync_conf <<YAML
  checkInIntervalSeconds: 3600
YAML

own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
mkdir -p "$H1/src/web"
cat >"$H1/src/web/package-lock.json" <<'EOJ'
{"name": "p", "lockfileVersion": 3, "requires": true, "packages": {
 "": {"name": "p", "version": "1.0.0"},
 "node_modules/left-pad": {"version": "1.3.0"},
 "node_modules/zod": {"version": "3.25.0"}}}
EOJ
own_homes
m=$(scans_of javascriptPackages)
ctl scan >/dev/null || fail "kobanctl scan"
wait_scans javascriptPackages "$m"
pending=$(ctl -j show sync | jq '.outbox.pending')
[ "$pending" -gt 0 ] || fail "nothing to send"

echo slow >"$T/mode"
ctl sync >/dev/null 2>&1 &
CTL=$!
wait_for "^sync ok device=device-1 events=$pending new=$pending" 20
[ "$(ctl -j show sync | jq '.outbox.inFlight')" -eq "$pending" ] ||
    fail "the batch is not in flight: $(ctl show sync)"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
kill "$CTL" 2>/dev/null
wait "$CTL" 2>/dev/null
rm -f "$T/mode"
sleep 0.5

start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: $pending events in flight at the last stop are pending" 10 \
    "$T/log"
# A request may still be out (the peer finishes its slow answer first).
i=0
while [ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -ne 0 ]; do
	[ $i -lt 300 ] || fail "the outbox did not drain: $(ctl show sync)"
	ctl sync >/dev/null 2>&1 || sleep 0.2
	i=$((i + 1))
done
grep -q "^sync ok device=device-1 events=$pending new=0 duplicate=$pending" \
    "$T/peer.log" || fail "the batch was not sent again with its ids: \
$(grep '^sync' "$T/peer.log")"
n=$(wc -l <"$T/held.tsv")
[ "$n" -ge "$pending" ] || fail "held events"
[ "$(cut -f3 "$T/held.tsv" | sort -u | wc -l)" -eq "$n" ] ||
    fail "an event id held twice"
[ "$(cut -f2 "$T/held.tsv" | sort -u | wc -l)" -eq "$n" ] ||
    fail "a sequence held twice"
[ "$(ctl -j show sync | jq '.outbox.acked')" -eq "$n" ] ||
    fail "acked: $(ctl show sync)"
echo ok
