#!/bin/sh
# Sync end to end against the Fleet test peer: enroll, then a fake home
# (Claude configuration with an MCP server run by npx -y, an npm
# project) is scanned and the outbox drains to the peer, which checks
# every request against PROTOCOL.md 6.4/6.5 and 7 and holds each event
# once by event id.  What it holds, replayed in sequence order, is the
# inventory "kobanctl show inventory" shows, and its findings are the
# daemon's; an edit arrives as a change; show sync accounts for it all;
# a server's fullResnapshotRequested sends the inventory again.
# Then faults: a response cut off after the peer took the batch (the
# events come again, keep their ids, and are held once), and a 503 with
# Retry-After, which the rows then wait for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
fleet_token_file
fleet_start server -o "$T/held.tsv" -M "$T/mode"

fleet_sync_conf <<YAML
  checkInIntervalSeconds: 3600
  retryBaseSeconds: 1
YAML

lock() {
	printf '{"name": "p", "lockfileVersion": 3, "requires": true, '
	printf '"packages": {"": {"name": "p", "version": "1.0.0"}'
	while [ $# -gt 1 ]; do
		printf ', "node_modules/%s": {"version": "%s", "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz", "integrity": "sha512-%s"}' \
		    "$1" "$2" "$1" "$1" "$2" "$1$2"
		shift 2
	done
	printf '}}\n'
}

own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
[ "$(ctl -j show sync | jq -r .enrolled)" = true ] || fail "not enrolled"
[ "$(ctl -j show sync | jq -r .deviceId)" = device-1 ] || fail "device"

# The home fills after enrollment: every item is a change with a device.
mkdir -p "$H1/.claude/agents" "$H1/src/web"
cat >"$H1/.claude.json" <<'EOJ'
{"mcpServers": {"weather": {"command": "node", "args": ["/opt/w.js"]},
 "fetcher": {"command": "npx", "args": ["-y", "fetch-mcp@latest"]}}}
EOJ
echo "# reviewer" >"$H1/.claude/agents/reviewer.md"
lock left-pad 1.3.0 react 18.2.0 zod 3.25.0 >"$H1/src/web/package-lock.json"
own_homes
n=$(scans_of claudeConfig)
m=$(scans_of javascriptPackages)
ctl scan >/dev/null || fail "kobanctl scan"
wait_scans claudeConfig "$n"
wait_scans javascriptPackages "$m"

# Drain: one forced round at a time until nothing is pending.
drain() {
	i=0
	while [ $i -lt 30 ]; do
		ctl sync >/dev/null 2>&1
		[ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -eq 0 ] &&
		    return 0
		i=$((i + 1))
	done
	fail "the outbox did not drain: $(ctl show sync)"
}
drain
grep -q "^sync ok device=device-1 events=[1-9]" "$T/peer.log" ||
    fail "no sync reached the peer"
grep -q "^sync refused\|^sync event .* rejected" "$T/peer.log" &&
    fail "the peer refused a request: $(grep '^sync' "$T/peer.log")"

# Replay what the peer holds, in sequence order, into an inventory.
replay() {
	awk -F'\t' '$1 == "item" {
		if ($5 == "removed") delete inv[$6]; else inv[$6] = $8 }
	    END { for (k in inv) print k "\t" inv[k] }' "$T/held.tsv" | sort
}
inventory() {
	ctl -j show inventory | jq -r '.[] | "\(.id)\t\(.version // "")"' |
	    sort
}
check_peer() {
	replay >"$T/peer-inv.txt"
	inventory >"$T/local-inv.txt"
	[ -s "$T/local-inv.txt" ] || fail "empty local inventory"
	cmp -s "$T/peer-inv.txt" "$T/local-inv.txt" || fail "the peer's \
inventory differs: $(diff "$T/peer-inv.txt" "$T/local-inv.txt")"
	# Exactly once: sequences and event ids unique; all acked here.
	[ "$(cut -f2 "$T/held.tsv" | sort | uniq -d | wc -l)" -eq 0 ] ||
	    fail "a sequence held twice"
	[ "$(cut -f3 "$T/held.tsv" | sort | uniq -d | wc -l)" -eq 0 ] ||
	    fail "an event id held twice"
	[ "$(ctl -j show sync | jq '.outbox.acked')" -eq \
	    "$(wc -l <"$T/held.tsv")" ] || fail "acked rows and held events \
differ: $(ctl show sync)"
	# Findings: the same (rule, item) pairs on both sides.
	awk -F'\t' '$1 == "finding" { print $7 "\t" $6 }' "$T/held.tsv" |
	    sort -u >"$T/peer-fnd.txt"
	ctl -j show findings | jq -r '.[] | "\(.ruleId)\t\(.itemId)"' |
	    sort -u >"$T/local-fnd.txt"
	cmp -s "$T/peer-fnd.txt" "$T/local-fnd.txt" || fail "findings \
differ: $(diff "$T/peer-fnd.txt" "$T/local-fnd.txt")"
}
check_peer
grep -q "agent.config.ephemeral-runner" "$T/peer-fnd.txt" ||
    fail "the npx -y finding did not reach the peer"
grep -q "^item.*added.*javascriptPackages/.*left-pad.*1.3.0" "$T/held.tsv" ||
grep -q "left-pad	left-pad	1.3.0" "$T/held.tsv" ||
    fail "left-pad not held"

# An edit: the version bump arrives as a change, once.
before=$(wc -l <"$T/held.tsv")
m=$(scans_of javascriptPackages)
lock left-pad 1.3.1 react 18.2.0 zod 3.25.0 >"$H1/src/web/lock.tmp"
chown $U1 "$H1/src/web/lock.tmp"
mv "$H1/src/web/lock.tmp" "$H1/src/web/package-lock.json"
wait_scans javascriptPackages "$m"
drain
[ "$(wc -l <"$T/held.tsv")" -gt "$before" ] || fail "the edit did not arrive"
grep "left-pad" "$T/held.tsv" | grep -q "1.3.1" || fail "no left-pad 1.3.1"
check_peer

# show sync accounts for it.
s=$(ctl -j show sync)
echo "$s" | jq -e '.sync and .lastSync.ok and .outbox.pending == 0 and
    .outbox.inFlight == 0 and .outbox.poison == 0 and
    .outbox.dropped == 0 and .maxBatchEvents == 500 and
    .lastSync.time != null and .checkIn.time != null' >/dev/null ||
    fail "show sync: $s"
ctl show sync | grep -q "^last sync: .* ok" || fail "human show sync"
grep -q "duplicate=[1-9]" "$T/peer.log" && fail "an event was sent twice"

# fullResnapshotRequested in a check-in: the inventory goes out again.
items=$(ctl -j show inventory | jq length)
before=$(wc -l <"$T/held.tsv")
echo resnapshot >"$T/mode"
ctl check-in >/dev/null || fail "kobanctl check-in"
rm -f "$T/mode"
wait_for "sync: $items inventory items queued as added" 10 "$T/log"
drain
[ "$(wc -l <"$T/held.tsv")" -ge $((before + items)) ] ||
    fail "the resnapshot did not reach the peer"
check_peer

bump() {
	m=$(scans_of javascriptPackages)
	lock left-pad 1.3.1 react 18.2.0 zod "$1" >"$H1/src/web/lock.tmp"
	chown $U1 "$H1/src/web/lock.tmp"
	mv "$H1/src/web/lock.tmp" "$H1/src/web/package-lock.json"
	wait_scans javascriptPackages "$m"
}

# The response is cut off after the peer held the events.
echo closemid >"$T/mode"
bump 3.25.1
ctl sync >/dev/null 2>&1 && fail "a cut-off response counted as a sync"
grep -q "fault closemid sent" "$T/peer.log" || fail "no closemid fault"
s=$(ctl -j show sync)
echo "$s" | jq -e '(.lastSync.ok | not) and .lastSync.failuresInARow == 1
    and .outbox.pending > 0 and .outbox.inFlight == 0' >/dev/null ||
    fail "show sync after a failure: $s"
rm -f "$T/mode"
sleep 1
drain
grep -q "duplicate=[1-9]" "$T/peer.log" ||
    fail "the batch was not sent again after the cut-off response"
check_peer
grep "zod" "$T/held.tsv" | grep -q "3.25.1" || fail "no zod 3.25.1"
[ "$(ctl -j show sync | jq '.lastSync.failuresInARow')" -eq 0 ] ||
    fail "failures not reset by a success"

# 503 with Retry-After: 120: the rows wait that long, not the backoff.
echo busy >"$T/mode"
bump 3.25.2
ctl sync >/dev/null 2>&1 && fail "a 503 counted as a sync"
grep -q "fault busy sent" "$T/peer.log" || fail "no busy fault"
due=$(ctl -j show sync | jq '.outbox.pending, .nextRowDueInSeconds' |
    tr '\n' ' ')
set -- $due
[ "$1" -gt 0 ] && [ "$2" -ge 100 ] && [ "$2" -le 120 ] ||
    fail "Retry-After not honoured (pending, due in: $due)"
rm -f "$T/mode"
no_token_anywhere "$tok"
echo ok
