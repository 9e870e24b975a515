#!/bin/sh
# sync.outboxMaxBytes enforced (spec/README.md): while nothing is sent
# (check-in interval of an hour, no forced round), two commits of
# inventory changes and one finding overflow a 64 KB outbox.  The
# oldest inventory events are dropped first, the older finding stays,
# the outbox never holds more than the cap; then the backlog is sent.
# The peer must hold exactly the rows the daemon kept (event ids), the
# sequences it never got must be the oldest inventory ones, and their
# number must be what kobanctl -j show sync counts as dropped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

OUTBOX_DUMP=$B/regress/outbox_dump
CAP=65536
N=300

make_users
fleet_pki
fleet_token_file
fleet_start server -o "$T/held.tsv"

# One rule only: an added package named evil-pkg.
fleet_sync_conf <<YAML
  checkInIntervalSeconds: 3600
  outboxMaxBytes: $CAP
rules:
  - id: test.evil
    surface: javascriptPackages
    triggers: [added]
    match: fieldContainsAny
    field: name
    values: ["evil-pkg"]
    severity: suspicious
    title: "Evil package"
    rationale: "test rule"
YAML

# evil-pkg 1.0.0 and pkg-1 .. pkg-$N at version $1, written whole at once.
lock() {
	fleet_lock_n "$N" "$1" |
	    sed 's/}}$/, "node_modules\/evil-pkg": {"version": "1.0.0"}}}/' \
	    >"$H1/src/a/package-lock.json.tmp"
	mv "$H1/src/a/package-lock.json.tmp" "$H1/src/a/package-lock.json"
	own_homes
}

rescan() {
	m=$(scans_of javascriptPackages)
	ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
	wait_scans javascriptPackages "$m" 30
}

# The outbox within the cap, by the daemon's count and by its rows.
within_cap() {
	s=$(ctl -j show sync)
	echo "$s" | jq -e ".outbox.maxBytes == $CAP and
	    .outbox.storedBytes <= $CAP and
	    .outbox.backlogBytes <= .outbox.storedBytes" >/dev/null ||
	    fail "over the cap ($1): $s"
}

mkdir -p "$H1/src/a"
own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
ctl -j show sync | jq -e ".outbox.maxBytes == $CAP and .outbox.dropped == 0" \
    >/dev/null || fail "cap not shown: $(ctl show sync)"

# 1: N + 1 added events, then the finding on evil-pkg.
lock 1.0.0
rescan
within_cap "first commit"
[ "$(ctl -j show findings | jq '[.[] | select(.ruleId == "test.evil")] |
    length')" -eq 1 ] || fail "no finding: $(ctl show findings)"
# 2: every pkg-N removed at 1.0.0 and added at 2.0.0.
lock 2.0.0
rescan
within_cap "second commit"

grep -q '^request .*route=sync' "$T/peer.log" &&
    fail "events were sent while the backlog built"
s=$(ctl -j show sync)
dropped=$(echo "$s" | jq '.outbox.dropped')
[ "$dropped" -gt 0 ] || fail "nothing dropped: $s"
echo "$s" | jq -e '.outbox.droppedFindings == 0 and
    .outbox.droppedInventory == .outbox.dropped' >/dev/null ||
    fail "drop counts: $s"
grep -q "outboxMaxBytes ($CAP): dropped [0-9]* inventory and 0 finding" \
    "$T/log" || fail "no drop warning in the log"

# Now send everything left.
i=0
while [ "$(fleet_backlog)" -ne 0 ]; do
	[ $i -lt 300 ] || fail "the outbox did not drain: $(ctl show sync)"
	ctl sync >/dev/null 2>&1 || sleep 0.2
	i=$((i + 1))
done

# What the peer holds, as "kind seq event-id" sorted by sequence.
awk -F '\t' '{ print $1, $2, $3 }' "$T/held.tsv" | sort -n -k2 \
    >"$T/held.txt"
"$OUTBOX_DUMP" "$T/state" >"$T/outbox.json" || fail "outbox_dump"
jq -r '"\(if .isFinding then "finding" else "item" end) \(.seq) \(.eventId)"' \
    "$T/outbox.json" | sort -n -k2 >"$T/kept.txt"
cmp -s "$T/held.txt" "$T/kept.txt" ||
    fail "the peer does not hold exactly the rows kept: $(diff "$T/held.txt" "$T/kept.txt" | head)"
jq -e 'select(.state != "acked")' "$T/outbox.json" >/dev/null &&
    fail "rows not acked after the drain"

# Sequences 1 .. 3 N + 2 were given: N + 1 added, the finding, then N
# removed and N added.
last=$((3 * N + 2))
total=$last
max=$(tail -n 1 "$T/held.txt" | cut -d' ' -f2)
[ "$max" -eq "$last" ] || fail "the newest sequence held is $max, not $last"
[ "$(grep -c '^finding ' "$T/held.txt")" -eq 1 ] ||
    fail "the finding did not reach the peer"
fseq=$(sed -n 's/^finding \([0-9]*\) .*/\1/p' "$T/held.txt")
[ "$fseq" -eq $((N + 2)) ] || fail "the finding has sequence $fseq"
# The inventory the peer got is one unbroken run up to the newest, all
# newer than the finding: every older inventory event was dropped.
first=$(grep '^item ' "$T/held.txt" | head -n 1 | cut -d' ' -f2)
[ "$first" -gt "$fseq" ] ||
    fail "inventory older than the finding was kept ($first)"
nitem=$(grep -c '^item ' "$T/held.txt")
[ "$nitem" -eq $((last - first + 1)) ] ||
    fail "the inventory held has gaps: $nitem events from $first to $last"
never=$((total - nitem - 1))
[ "$never" -eq "$dropped" ] ||
    fail "$never events never reached the peer, $dropped counted dropped"
ctl -j show sync | jq -e ".outbox.dropped == $dropped" >/dev/null ||
    fail "the drop count changed: $(ctl show sync)"
ctl show sync | grep -q "dropped: *$dropped ($dropped inventory, 0 findings)" ||
    fail "show sync: $(ctl show sync)"
echo "cap $CAP: $total events, $dropped dropped, $nitem inventory and 1 \
finding delivered"
echo ok
