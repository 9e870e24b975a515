#!/bin/sh
# Enrollment after the first scan (spec/README.md): the inventory the
# daemon already holds, scanned while it had no device id and so with
# no outbox rows, is queued as `added` events the moment it enrolls, so
# the peer ends up with the whole picture: replayed, what it holds is
# what "kobanctl show inventory" shows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
tok=$(fleet_token 600)
fleet_start server -o "$T/held.tsv"

cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  controlSocket: $SOCK
  fleetCAFile: $PKI/ca.pem
  users: [$U1]
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
sync:
  enabled: true
  endpoint: https://localhost:$PORT
  checkInIntervalSeconds: 3600
YAML
chmod 600 "$T/kobangd.yaml"

mkdir -p "$H1/.claude/agents" "$H1/src/web"
cat >"$H1/.claude.json" <<'EOJ'
{"mcpServers": {"weather": {"command": "node", "args": ["/opt/w.js"]}}}
EOJ
echo "# reviewer" >"$H1/.claude/agents/reviewer.md"
cat >"$H1/src/web/package-lock.json" <<'EOJ'
{"name": "p", "lockfileVersion": 3, "requires": true, "packages": {
 "": {"name": "p", "version": "1.0.0"},
 "node_modules/left-pad": {"version": "1.3.0"},
 "node_modules/zod": {"version": "3.25.0"}}}
EOJ
own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_scans claudeConfig 0
wait_scans javascriptPackages 0
[ "$(ctl -j show inventory | jq length)" -ge 4 ] || fail "nothing scanned"
[ "$(ctl -j show sync | jq -r .enrolled)" = false ] || fail "enrolled early"
[ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -eq 0 ] ||
    fail "outbox rows without a device"

printf '%s\n' "$tok" | ctl enroll >/dev/null || fail "kobanctl enroll"
wait_for "inventory items queued as added for device device-1" 20 "$T/log"
i=0
while [ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -ne 0 ]; do
	[ $i -lt 30 ] || fail "the outbox did not drain: $(ctl show sync)"
	ctl sync >/dev/null 2>&1
	i=$((i + 1))
done
grep -q "^sync refused\|^sync event .* rejected" "$T/peer.log" &&
    fail "the peer refused: $(grep '^sync' "$T/peer.log")"
awk -F'\t' '$1 == "item" && $5 == "added" { print $6 "\t" $8 }' \
    "$T/held.tsv" | sort >"$T/peer-inv.txt"
ctl -j show inventory | jq -r '.[] | "\(.id)\t\(.version // "")"' |
    sort >"$T/local-inv.txt"
cmp -s "$T/peer-inv.txt" "$T/local-inv.txt" || fail "the peer's inventory \
differs: $(diff "$T/peer-inv.txt" "$T/local-inv.txt")"
[ "$(wc -l <"$T/held.tsv")" -eq "$(wc -l <"$T/local-inv.txt")" ] ||
    fail "more events than items"
[ "$(cut -f2 "$T/held.tsv" | sort -n | head -1)" -eq 1 ] ||
    fail "sequences do not start at 1"
echo ok
