#!/bin/sh
# The remote configuration (PROTOCOL.md 5, spec/README.md) against the
# Fleet test peer: after enrollment the daemon fetches the bundle, lays
# its watch section, rules and batch limits over the local file, and a
# rule that exists only remotely fires locally and reaches the peer.  A
# bundle that fails validation (configUpdateAvailable, then a bad
# severity) is rejected and counted, and the generation stays.  After a
# restart, with the server answering "unchanged", the stored bundle is in
# force again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
tok=$(fleet_token 600)
mkdir -p "$T/cfg"
echo gen-1 >"$T/cfg/generation"
cat >"$T/cfg/config.json" <<'EOJ'
{"watch": {"debounceMilliseconds": 100, "projectRoots": ["~/src"]},
 "rules": [{"id": "remote-rule", "surface": "javascriptPackages",
  "triggers": ["added", "present"], "match": "fieldContainsAny",
  "field": "name", "values": ["left-pad"], "severity": "critical",
  "title": "left-pad is not welcome", "rationale": "remote test rule"}],
 "sync": {"maxBatchBytes": 262144, "maxBatchEvents": 7}}
EOJ
fleet_start server -o "$T/held.tsv" -M "$T/mode" -C "$T/cfg"
printf '%s\n' "$tok" >"$T/token"
chmod 600 "$T/token"

# Locally: no rules at all, projects elsewhere, big batches.
cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  controlSocket: $SOCK
  fleetCAFile: $PKI/ca.pem
  enrollmentTokenFile: $T/token
  users: [$U1]
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/elsewhere"]
rules: []
sync:
  enabled: true
  endpoint: https://localhost:$PORT
  checkInIntervalSeconds: 3600
  retryBaseSeconds: 1
  maxBatchEvents: 500
YAML
chmod 600 "$T/kobangd.yaml"

lockfile() {	# package names
	mkdir -p "$H1/src/web"
	{
		printf '{"name": "p", "lockfileVersion": 3, "packages": {\n'
		printf ' "": {"name": "p", "version": "1.0.0"}'
		for p in "$@"; do
			printf ',\n "node_modules/%s": {"version": "1.0.0"}' "$p"
		done
		printf '}}\n'
	} >"$H1/src/web/package-lock.json"
	own_homes
}

findings_of() {	# package
	ctl -j show findings | jq "[.[] | select(.ruleId == \"remote-rule\"
	    and .itemName == \"$1\")] | length"
}

wait_finding() {
	i=0
	while [ "$(findings_of "$1")" -eq 0 ]; do
		[ $i -lt 300 ] || fail "no remote-rule finding on $1"
		sleep 0.05
		i=$((i + 1))
	done
}

drain() {
	i=0
	while [ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -ne 0 ]; do
		[ $i -lt 100 ] || fail "the outbox did not drain: $(ctl show sync)"
		ctl sync >/dev/null 2>&1 || sleep 0.2
		i=$((i + 1))
	done
}

lockfile left-pad zod
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "config ok device=device-1 current= generation=gen-1 sent=" 20
wait_for "sync: accepted generation gen-1" 10 "$T/log"
wait_for "reload (remote configuration gen-1): $T/kobangd.yaml applied" 10 \
    "$T/log"

# The remote watch section brought ~/src; the remote rule fires on it.
wait_finding left-pad
[ "$(findings_of zod)" -eq 0 ] || fail "the rule fired on zod"
ctl -j show sync >"$T/sync.json"
[ "$(jq -r .remoteConfig.appliedGeneration "$T/sync.json")" = gen-1 ] ||
    fail "gen-1 not in force: $(cat "$T/sync.json")"
[ "$(jq -r .configGeneration "$T/sync.json")" = gen-1 ] ||
    fail "the generation was not saved"
[ "$(jq .maxBatchEvents "$T/sync.json")" -eq 7 ] ||
    fail "the remote batch limit is not in force"
[ -f "$T/state/remote-config" ] || fail "the bundle was not stored"
[ "$(stat -c %a "$T/state/remote-config")" = 600 ] ||
    fail "the stored bundle is not private"

# The finding reaches the peer, in batches of at most 7 events.
drain
f=$(awk -F'\t' '$0 ~ /remote-rule/' "$T/held.tsv" | wc -l)
[ "$f" -ge 1 ] || fail "the peer holds no remote-rule finding"
awk '/^sync ok/ { for (i = 1; i <= NF; i++) if ($i ~ /^events=/) {
	split($i, a, "="); if (a[2] > 7) exit 1 } }' "$T/peer.log" ||
    fail "a batch exceeded the remote limit of 7 events"

# A bundle that fails validation: rejected, counted, generation kept.
echo gen-2 >"$T/cfg/generation"
sed 's/"critical"/"catastrophic"/' "$T/cfg/config.json" >"$T/cfg/bad.json"
mv "$T/cfg/bad.json" "$T/cfg/config.json"
echo configupdate >"$T/mode"
ctl check-in >/dev/null 2>&1
wait_for "config ok device=device-1 current=gen-1 generation=gen-2" 20
wait_for "remote configuration gen-2 rejected, the generation stays" 10 \
    "$T/log"
ctl -j show sync >"$T/sync.json"
[ "$(jq .remoteConfig.rejected "$T/sync.json")" -eq 1 ] ||
    fail "the rejection is not counted: $(cat "$T/sync.json")"
[ "$(jq -r .remoteConfig.appliedGeneration "$T/sync.json")" = gen-1 ] ||
    fail "a rejected bundle replaced gen-1"
[ "$(jq -r .configGeneration "$T/sync.json")" = gen-1 ] ||
    fail "the generation advanced past a rejected bundle"
jq -r .remoteConfig.result "$T/sync.json" | grep -q 'unknown severity' ||
    fail "show sync does not say why"
head -1 "$T/state/remote-config" | grep -qx gen-1 ||
    fail "the stored bundle changed"
rm -f "$T/mode"

# Restart; the server now says "unchanged" for gen-1.
echo gen-1 >"$T/cfg/generation"
kill "$DPID"
wait "$DPID" 2>/dev/null
start_daemon -f "$T/kobangd.yaml"
wait_ready
grep -q "remote configuration gen-1 (stored) applied over the local file" \
    "$T/log" || fail "the stored bundle was not applied at start"
wait_for "config ok device=device-1 current=gen-1 generation=gen-1 sent=0" \
    20
lockfile left-pad left-pad-two zod
m=$(scans_of javascriptPackages)
ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
wait_scans javascriptPackages "$m"
wait_finding left-pad-two
[ "$(ctl -j show sync | jq .maxBatchEvents)" -eq 7 ] ||
    fail "the stored batch limit is not in force after a restart"
exit 0
