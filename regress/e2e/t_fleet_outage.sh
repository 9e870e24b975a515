#!/bin/sh
# A Fleet outage with a backlog.  The daemon (retryBaseSeconds 1,
# retryMaxSeconds 4, checkInIntervalSeconds 2) is enrolled and knows the
# peer's batch limits (10 events, 4000 payload bytes) when the peer
# goes down: first it resets every connection (mode down), then it is
# killed outright and nothing listens.  Meanwhile a lockfile change
# queues well over a hundred events.  Checked:
#  - during the outage no two connections come within a second of each
#    other, and the failed syncs' delays stay within the full-jitter
#    caps (1, 2, then 4 s: retryBaseSeconds doubled per failure, never
#    above retryMaxSeconds);
#  - once the peer is back on the same port the backlog drains by the
#    daemon's own schedule: no batch above the limits, and a batch whose
#    answer settled every event is followed at once by the next one due
#    (some batches less than a second apart), while attempts after
#    failures keep their delays (above);
#  - every event reaches the peer exactly once (both lives of the peer
#    together) and show sync ends with an empty outbox.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
fleet_token_file
fleet_start server -o "$T/held.tsv" -M "$T/mode" -B 4000 -E 10

fleet_sync_conf <<YAML
  checkInIntervalSeconds: 2
  retryBaseSeconds: 1
  retryMaxSeconds: 4
YAML

lockfile() {
	mkdir -p "$H1/src/$1"
	fleet_lock_n "$2" "$3" >"$T/lock.tmp"
	own_homes
	chown $U1:$U1 "$T/lock.tmp"
	mv "$T/lock.tmp" "$H1/src/$1/package-lock.json"
}

own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20

# Before the outage: one sync, so the daemon has the peer's limits.
lockfile a 2 1.0.0
i=0
while [ "$(ctl -j show sync | jq '.outbox.acked')" -lt 2 ]; do
	[ $i -lt 150 ] || fail "the first events were not delivered"
	sleep 0.2
	i=$((i + 1))
done
[ "$(ctl -j show sync | jq '.maxBatchEvents, .maxBatchBytes' |
    tr '\n' ' ')" = "10 4000 " ] || fail "limits not learnt: $(ctl show sync)"

# Down: every connection reset; then the backlog grows.
echo down >"$T/mode"
down_from=$(wc -l <"$T/peer.log")
lockfile a 60 1.0.1
i=0
while [ "$(fleet_backlog)" -lt 100 ]; do
	[ $i -lt 100 ] || fail "no backlog: $(ctl show sync)"
	[ $((i % 25)) -eq 24 ] && ctl scan javascriptPackages >/dev/null
	sleep 0.2
	i=$((i + 1))
done
backlog=$(fleet_backlog)
wait_for "sync: upload failed" 20 "$T/log"
sleep 12
failed=$(grep -c "sync: upload failed" "$T/log")
[ "$failed" -ge 3 ] || fail "only $failed failed syncs in the outage"

# Then gone: nothing listens on the port for a while.
kill "$PEER"
wait "$PEER" 2>/dev/null
PEER=
mv "$T/peer.log" "$T/peer1.log"
mv "$T/held.tsv" "$T/held1.tsv"
sleep 8
[ "$(ctl -j show sync | jq '.outbox.inFlight')" -eq 0 ] ||
    fail "rows in flight with nothing listening"
[ "$(fleet_backlog)" -ge "$backlog" ] || fail "events lost in the outage"

# Attempts while down: never two within a second.  A request reset on
# the connection kept alive from before is tried once more at once on a
# new one (the transport's rule for a reused connection): one attempt.
sed -n "$((down_from + 1)),\$p" "$T/peer1.log" | awk '
    /^request t=.* mode=down$/ { sub(/^request t=/, ""); sub(/ .*/, "")
	print; again = 1; next }
    /^connection [0-9]*: reset \(mode down\)/ {
	if (again) { again = 0; next }
	sub(/.* t=/, ""); print }' >"$T/down.t"
[ "$(wc -l <"$T/down.t")" -ge 3 ] || fail "too few attempts while down"
awk 'NR > 1 && $1 - p < 900 { print p, $1; bad = 1 } { p = $1 }
    END { exit bad }' "$T/down.t" || fail "two attempts within a second"
# The failed syncs' delays: within 1, 2, then 4 s, in order.
grep "sync: upload failed" "$T/log" |
    sed 's/.* again in \([0-9]*\) s$/\1/' >"$T/delays"
awk '{ cap = 2 ^ (NR - 1); if (cap > 4) cap = 4
    if ($1 < 1 || $1 > cap) { print NR ": " $1 " s over " cap; bad = 1 } }
    END { exit bad }' "$T/delays" || fail "a delay above its cap"
echo "attempts while down: $(wc -l <"$T/down.t"); sync delays (s):" \
    $(cat "$T/delays")

# Back on the same port, no mode: the daemon drains on its own.
rm -f "$T/mode"
fleet_start server -o "$T/held.tsv" -M "$T/mode" -B 4000 -E 10 -p "$PORT"
i=0
while [ "$(fleet_backlog)" -ne 0 ]; do
	[ $i -lt 600 ] || fail "the backlog did not drain: $(ctl show sync)"
	sleep 0.2
	i=$((i + 1))
done
grep "^sync ok" "$T/peer.log" | awk '{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["events"] > 10 || v["bytes"] > 4000) { print; bad = 1 }
} END { exit bad }' || fail "a batch above the peer's limits"
peer_times sync >"$T/sync.t"
n=$(wc -l <"$T/sync.t")
[ "$n" -ge $((backlog / 10)) ] || fail "$backlog events in $n batches"
quick=$(awk 'NR > 1 && $1 - p < 900 { n++ } { p = $1 } END { print n + 0 }' \
    "$T/sync.t")
[ "$quick" -ge 1 ] || fail "the backlog drained a second a batch: no batch \
followed a clean answer at once"
first=$(head -1 "$T/sync.t")
last=$(tail -1 "$T/sync.t")
echo "drained $backlog events in $n batches over $((last - first)) ms" \
    "($quick within a second of the one before)"

# Exactly once across both lives of the peer, all acked, nothing left.
cat "$T/held1.tsv" "$T/held.tsv" >"$T/all.tsv"
total=$(wc -l <"$T/all.tsv")
[ "$(cut -f3 "$T/all.tsv" | sort -u | wc -l)" -eq "$total" ] ||
    fail "an event reached the peer twice"
[ "$(cut -f2 "$T/all.tsv" | sort -u | wc -l)" -eq "$total" ] ||
    fail "a sequence reached the peer twice"
grep -q "duplicate=[1-9]" "$T/peer1.log" "$T/peer.log" &&
    fail "an event was sent again after it was acked"
s=$(ctl -j show sync)
echo "$s" | jq -e --argjson n "$total" '.outbox.acked == $n and
    .outbox.backlogEvents == 0 and .outbox.pending == 0 and
    .outbox.inFlight == 0 and .outbox.poison == 0 and .lastSync.ok' \
    >/dev/null || fail "show sync after the drain: $s"
grep -q "^sync refused\|^sync event .* rejected\|^check-in refused" \
    "$T/peer1.log" "$T/peer.log" && fail "the peer refused a request"
no_token_anywhere "$tok"
echo ok
