#!/bin/sh
# A baseline with sync enabled and a device id in the configuration
# writes outbox rows (PROTOCOL.md 8.3): one "added" inventory event per
# item in collector order, then the present findings, sequences 1..N for
# that device.  Every payload decodes with the strict protobuf decoder
# (regress/tools/outbox_dump), is canonical, hashes to its payloadHash,
# and carries exactly what the inventory and findings hold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

DUMP=$B/regress/outbox_dump
[ -x "$DUMP" ] || fail "missing $DUMP (make regress-e2e builds it)"
DEV=6F1C2B9E-0D4A-4E7B-9C55-1A2B3C4D5E6F

make_users
mkdir -p "$H1/src/web"
cat >"$H1/.claude.json" <<'EOJ'
{"mcpServers": {"weather": {"command": "npx", "args": ["-y", "weather-mcp"]},
 "local": {"command": "node", "args": ["srv.js"]}}}
EOJ
cat >"$H1/src/web/package-lock.json" <<'EOJ'
{"lockfileVersion": 3, "packages": {"": {"name": "web"},
 "node_modules/vite": {"version": "5.0.0",
  "resolved": "https://registry.npmjs.org/vite/-/vite-5.0.0.tgz",
  "integrity": "sha512-test", "dev": true},
 "node_modules/zod": {"version": "3.25.0"}}}
EOJ
own_homes
write_config <<EOC
sync:
  enabled: true
  deviceID: $DEV
  tenantID: tenant-1
rules:
  - id: test.present.ephemeral
    surface: claudeConfig
    triggers: [present]
    match: flagEquals
    flag: usesEphemeralRunner
    expected: true
    severity: notable
    title: Ephemeral package runner
    rationale: Example rationale.
  - id: test.present.package
    surface: javascriptPackages
    triggers: [present]
    match: fieldContainsAny
    field: name
    values: [zod]
    severity: info
    title: zod is present
    rationale: A present rule on a package.
EOC
start_sensor
wait_scans claudeConfig 0
wait_scans javascriptPackages 0
ctl -j show inventory >"$T/inv.json" || fail "show inventory"
ctl -j show findings >"$T/findings.json" || fail "show findings"
kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=

"$DUMP" "$T/state" >"$T/outbox.json" || fail "an outbox payload is invalid"
n=$(wc -l <"$T/outbox.json")
[ "$n" -eq 6 ] || fail "expected 6 outbox rows (4 items, 2 findings), got $n"
# Sequences 1..N for the device, all pending, ids unique v4 UUIDs.
jq -s -e --arg d "$DEV" '[.[] | .seq] == [range(1; length + 1)] and
    all(.[]; .deviceId == $d and .tenantId == "tenant-1" and
    .state == "pending" and .payloadVersion == 1 and
    (.eventId | test("^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$"))) and
    ([.[] | .eventId] | unique | length) == length' "$T/outbox.json" \
    >/dev/null || fail "outbox identity or sequence wrong"
# Per surface: its items as "added" in collector order (by item id),
# then its present findings as "modified".
for s in claudeConfig javascriptPackages; do
	jq -c --arg s "$s" 'select(.surface == $s) | [.kind, .isFinding]' \
	    "$T/outbox.json" | tr -d '\n' >"$T/kinds.$s"
done
[ "$(cat "$T/kinds.claudeConfig")" = \
    '["added",false]["added",false]["modified",true]' ] ||
    fail "claudeConfig row order: $(cat "$T/kinds.claudeConfig")"
[ "$(cat "$T/kinds.javascriptPackages")" = \
    '["added",false]["added",false]["modified",true]' ] ||
    fail "javascriptPackages row order"
# The item payloads are the inventory, field for field, in id order.
jq -c 'select(.item) | .item' "$T/outbox.json" | jq -s -c \
    'sort_by(.itemId)' >"$T/a.json"
jq -c '[.[] | {itemId: .id, surface, kind, name, version, path, origin,
    installedOnRequest, detail}] | sort_by(.itemId)' "$T/inv.json" \
    >"$T/b.json"
diff -u "$T/b.json" "$T/a.json" || fail "item payloads differ from the inventory"
jq -s -e '[.[] | select(.item and .surface == "javascriptPackages") |
    .item.itemId] | . == sort' "$T/outbox.json" >/dev/null ||
    fail "baseline items not in collector order"
# The finding payloads are the findings.
jq -c 'select(.isFinding) | .finding | {id, ruleId, itemId,
    severity, title, rationale, itemName, evidencePath, evidenceDetail,
    matchedField, matchedValue, observedAt}' "$T/outbox.json" | sort \
    >"$T/fa.json"
jq -c '.[] | {id, ruleId, itemId, severity, title, rationale, itemName,
    evidencePath: .evidence.path, evidenceDetail: .evidence.detail,
    matchedField: .evidence.matchedField,
    matchedValue: .evidence.matchedValue, observedAt: .timestamp}' \
    "$T/findings.json" | sort >"$T/fb.json"
diff -u "$T/fb.json" "$T/fa.json" || fail "finding payloads differ"
# And the whole, ids and times normalised, against the golden file.
jq -c 'del(.eventId, .payloadHash) | if .isFinding then
    .finding.id = "ID" | .finding.observedAt = "TIME" else . end' \
    "$T/outbox.json" | golden sensor_outbox.json ||
    fail "output differs from golden/sensor_outbox.json"
echo ok
