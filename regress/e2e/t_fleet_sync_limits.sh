#!/bin/sh
# The server's batch limits (spec/README.md: the smaller of the
# configuration's and the server's): once the peer answered a sync with
# maxBatchBytes 350 and maxBatchEvents 4, no request carries more than 4
# events or 350 payload bytes, and an event whose payload alone exceeds
# 350 bytes is quarantined (poison, the reason shown) instead of sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
fleet_token_file
fleet_start server -o "$T/held.tsv" -B 350 -E 4

fleet_sync_conf <<YAML
  checkInIntervalSeconds: 3600
YAML

lock() {
	printf '{"name": "p", "lockfileVersion": 3, "requires": true, '
	printf '"packages": {"": {"name": "p", "version": "1.0.0"}'
	for p in "$@"; do
		printf ', "node_modules/%s": {"version": "1.0.0"}' "$p"
	done
	printf '}}\n'
}

drain() {
	i=0
	while [ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -ne 0 ]; do
		[ $i -lt 300 ] ||
		    fail "the outbox did not drain: $(ctl show sync)"
		ctl sync >/dev/null 2>&1 || sleep 0.2
		i=$((i + 1))
	done
}

own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20

# One small change first: its answer carries the server's limits.
mkdir -p "$H1/src/a" "$H1/src/b"
lock a >"$H1/src/a/package-lock.json"
own_homes
m=$(scans_of javascriptPackages)
ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
wait_scans javascriptPackages "$m"
drain
[ "$(ctl -j show sync | jq '.maxBatchEvents, .maxBatchBytes' |
    tr '\n' ' ')" = "4 350 " ] || fail "server limits not in force: \
$(ctl show sync)"
first=$(grep -c "^sync ok" "$T/peer.log")

# Many changes, some events larger than 350 bytes.
lock b c d e f g h i j k l m >"$H1/src/b/package-lock.json"
lock a very-long-package-name-that-makes-the-payload-grow-past-the-limit-of-the-server-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa >"$H1/src/a/package-lock.json"
own_homes
m=$(scans_of javascriptPackages)
ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
wait_scans javascriptPackages "$m"
drain

later=$(grep "^sync ok" "$T/peer.log" | sed -n "$((first + 1)),\$p")
[ -n "$later" ] || fail "nothing sent after the limits came"
echo "$later" | awk '{
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		v[kv[1]] = kv[2]
	}
	if (v["events"] > 4 || v["bytes"] > 350 || v["maxsize"] > 350)
		bad = bad " " $0
} END { if (bad != "") { print bad; exit 1 } }' ||
    fail "a request above the server's limits"
[ "$(echo "$later" | wc -l)" -ge 3 ] || fail "the batch was not split"
s=$(ctl -j show sync)
echo "$s" | jq -e '.outbox.poison > 0 and
    (.outbox.lastPoisonReason | test("exceed the server.s batch limit of 350"))
    and .outbox.backlogEvents == 0' >/dev/null ||
    fail "no quarantine: $s"
[ "$(echo "$s" | jq '.outbox.acked')" -eq "$(wc -l <"$T/held.tsv")" ] ||
    fail "acked and held differ"
grep -q "very-long-package-name" "$T/held.tsv" &&
    fail "an oversized event reached the peer"
echo ok
