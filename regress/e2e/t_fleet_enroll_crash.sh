#!/bin/sh
# The inventory owed to a device since its enrollment survives a crash
# before it is queued: the debt is a file in the state directory, made
# before the identity is saved and removed once the rows are committed.
# A normal enrollment leaves no file and a restart queues nothing again;
# a restart that finds the file (the crash, as the daemon finds it) queues
# the whole inventory for the enrolled device and removes the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
fleet_token_file
fleet_start server -o "$T/held.tsv"

fleet_sync_conf <<YAML
  checkInIntervalSeconds: 3600
  retryBaseSeconds: 1
YAML
mkdir -p "$H1/src/web"
cat >"$H1/src/web/package-lock.json" <<'EOJ'
{"name": "p", "lockfileVersion": 3, "packages": {
 "": {"name": "p", "version": "1.0.0"},
 "node_modules/left-pad": {"version": "1.3.0"},
 "node_modules/zod": {"version": "3.25.0"}}}
EOJ
own_homes

added() {	# added events the peer holds for left-pad
	grep -c 'left-pad' "$T/held.tsv" 2>/dev/null || echo 0
}

drain() {
	i=0
	while [ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -ne 0 ]; do
		[ $i -lt 100 ] || fail "the outbox did not drain: $(ctl show sync)"
		ctl sync >/dev/null 2>&1 || sleep 0.2
		i=$((i + 1))
	done
}

# Scanned before the identity: the baseline has no device, so the
# inventory goes out only because enrollment queues it.
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
wait_for "sync: [0-9]* inventory items queued as added for device" 10 \
    "$T/log"
[ -e "$T/state/inventory-due" ] && fail "the debt was not cleared"
drain
[ "$(added)" -eq 1 ] || fail "left-pad held $(added) times, not once"

# A restart with nothing owed queues nothing.
kill "$DPID"
wait "$DPID" 2>/dev/null
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
grep -q "inventory owed" "$T/log" && fail "inventory owed after a clean stop"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null

# The crash: the identity saved, the debt on file, the rows not there.
dev=device-1
printf '%s' "$dev" >"$T/state/inventory-due"
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: the inventory owed to device $dev since its enrollment is" \
    10 "$T/log"
wait_for "sync: [0-9]* inventory items queued as added for device $dev" 10 \
    "$T/log"
[ -e "$T/state/inventory-due" ] && fail "the debt was not cleared"
drain
[ "$(added)" -eq 2 ] || fail "left-pad held $(added) times, not twice"
exit 0
