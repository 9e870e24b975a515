#!/bin/sh
# A check-in answered 429 with Retry-After holds the next request back
# for that long (capped by retryMaxSeconds), though the interval is a
# second, and refuses a forced check-in meanwhile; once the hold is over
# the daemon checks in at its interval.
# Intervals come from the peer's monotonic request times.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
fleet_token_file
fleet_start server -M "$T/mode"

fleet_sync_conf <<YAML
  checkInIntervalSeconds: 1
  retryBaseSeconds: 1
  retryMaxSeconds: 5
YAML
own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
sleep 2

echo "r429 4" >"$T/mode"
wait_for "fault r429" 10
rm -f "$T/mode"
n=$(grep -c "fault r429" "$T/peer.log")
wait_for "check-in failed: HTTP status 429" 10 "$T/log"
# The operator is held back too, and told for how long.
if ctl check-in >"$T/ctl.out" 2>&1; then
	fail "a forced check-in went out during the server's hold"
fi
grep -q "the server asked to wait; the next request may go in [1-4] s" \
    "$T/ctl.out" || fail "kobanctl check-in said: $(cat "$T/ctl.out")"
sleep 6
[ "$(grep -c "fault r429" "$T/peer.log")" -eq "$n" ] ||
    fail "more than one check-in met the 429: the mode was not cleared"

# The request that met the 429 and the one after it.
peer_times check-in >"$T/times"
t429=$(awk -v n="$(grep -n "fault r429" "$T/peer.log" | head -1 |
    cut -d: -f1)" 'NR < n && /^request t=/ { last = $2 } END {
    sub("t=", "", last); print last }' "$T/peer.log")
next=$(awk -v t="$t429" '$1 > t { print; exit }' "$T/times")
[ -n "$t429" ] && [ -n "$next" ] || fail "no request times: $(cat "$T/times")"
gap=$((next - t429))
echo "check-in after a 429 with Retry-After 4: ${gap} ms"
[ "$gap" -ge 4000 ] || fail "the next check-in came after $gap ms, before 4 s"
# And then the interval again: at least three check-ins in the last 3 s.
last=$(tail -1 "$T/times")
recent=$(awk -v l="$last" '$1 > l - 3000' "$T/times" | wc -l)
[ "$recent" -ge 2 ] || fail "check-ins did not resume at the interval"
exit 0
