#!/bin/sh
# Reload (kobangd(8) SIGHUP, kobanctl reload): a broken file is refused
# with its file and line, the running rules stay and keep firing; a good
# file applies new rules to the inventory without restarting any child.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

rule() {	# id, package name to match
	cat <<-EOR
	  - id: $1
	    surface: javascriptPackages
	    triggers: [present]
	    match: fieldContainsAny
	    field: name
	    values: ["$2"]
	    severity: suspicious
	    title: "$1 title"
	    rationale: "test rule"
	EOR
}

lockfile() {	# package names
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

# Findings of rule $1 on package $2.
findings_of() {
	ctl -j show findings | jq "[.[] | select(.ruleId == \"$1\" and
	    .itemName == \"$2\")] | length"
}

wait_finding() {	# rule, package
	i=0
	while [ "$(findings_of "$1" "$2")" -eq 0 ]; do
		[ $i -lt 200 ] || fail "no finding of $1 on $2"
		sleep 0.05
		i=$((i + 1))
	done
}

rescan() {
	m=$(scans_of javascriptPackages)
	ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
	wait_scans javascriptPackages "$m"
}

make_users
mkdir -p "$H1/src/web" "$H2"
lockfile left-pad zod
{ echo "rules:"; rule rule-a left-pad; } | write_config
start_sensor
wait_finding rule-a left-pad
pids_before=$(ctl -j show status | jq -c '[.processes[] | .pid]')

# 1. A broken file: a rule whose match kind does not exist, on line 14.
cp "$T/kobangd.yaml" "$T/good-a.yaml"
{ echo "rules:"; rule rule-b zod | sed 's/fieldContainsAny/fieldLooksOdd/'; } |
    write_config
line=$(grep -n fieldLooksOdd "$T/kobangd.yaml" | cut -d: -f1)
if ctl reload >"$T/out" 2>&1; then
	fail "a broken file was accepted: $(cat "$T/out")"
fi
grep -q "kobangd.yaml:$line:" "$T/out" ||
    fail "the refusal does not name the file and line $line: $(cat "$T/out")"
kill -HUP "$DPID"
i=0
until grep -q "reload (SIGHUP) refused, the running configuration stays" \
    "$T/log"; do
	[ $i -lt 100 ] || fail "SIGHUP with a broken file not refused in the log"
	sleep 0.05
	i=$((i + 1))
done
ctl -j show status >"$T/st.json"
[ "$(jq '.configuration.refused' "$T/st.json")" -eq 2 ] ||
    fail "two refusals not counted: $(cat "$T/st.json")"
[ "$(jq '.configuration.reloads' "$T/st.json")" -eq 0 ] ||
    fail "a refused reload counted as applied"
jq -r '.configuration.lastError' "$T/st.json" | grep -q "kobangd.yaml:$line:" ||
    fail "status does not show the refusal's message"
ctl show status | grep -q "last reload refused at .*kobangd.yaml:$line:" ||
    fail "human status does not show the refusal"

# The old rules still fire on what changes now.
lockfile left-pad left-pad-two zod
rescan
wait_finding rule-a left-pad-two
[ "$(findings_of rule-b zod)" -eq 0 ] || fail "the refused rule fired"

# 2. A good file: rule-b replaces rule-a, applied to the inventory as it
# stands, with no child restarted.
{ echo "rules:"; rule rule-b zod; } | write_config
out=$(ctl reload) || fail "a good file was refused: $out"
[ "$out" = "configuration reloaded" ] || fail "reload said: $out"
wait_finding rule-b zod
lockfile left-pad left-pad-two left-pad-three zod
rescan
[ "$(findings_of rule-a left-pad-three)" -eq 0 ] ||
    fail "a rule the reload removed still fires"
[ "$(ctl -j show status | jq -c '[.processes[] | .pid]')" = "$pids_before" ] ||
    fail "a reload restarted a process: $pids_before -> \
$(ctl -j show status | jq -c '[.processes[] | .pid]')"
[ "$(ctl -j show status | jq '.configuration.reloads')" -eq 1 ] ||
    fail "the reload is not counted"
grep -q "reload (kobanctl reload): $T/kobangd.yaml applied" "$T/log" ||
    fail "the reload is not logged"

# 3. Keys read once at start keep their running values, with a warning.
{ echo "rules:"; rule rule-b zod; } | write_config
sed -i "s|stateDirectory: $T/state\$|stateDirectory: $T/elsewhere|" \
    "$T/kobangd.yaml"
grep -q "elsewhere" "$T/kobangd.yaml" || fail "test config not written"
ctl reload >/dev/null || fail "reload with a changed state directory"
grep -q "reload: kobangd.stateDirectory changed; it takes effect when" \
    "$T/log" || fail "no warning about a key read once at start"
[ -e "$T/elsewhere" ] && fail "the state directory moved at a reload"

# 4. SIGHUP with a good file applies it too.
{ echo "rules:"; rule rule-a left-pad; } | write_config
kill -HUP "$DPID"
i=0
until grep -q "reload (SIGHUP): $T/kobangd.yaml applied" "$T/log"; do
	[ $i -lt 100 ] || fail "SIGHUP with a good file not applied"
	sleep 0.05
	i=$((i + 1))
done
wait_finding rule-a left-pad-three
[ "$(ctl -j show status | jq -c '[.processes[] | .pid]')" = "$pids_before" ] ||
    fail "SIGHUP restarted a process"
kill -0 "$DPID" || fail "kobangd died"
exit 0
