#!/bin/sh
# A file that cannot be read right now keeps what it had (sensor.c,
# sensor_inc.c, kobangd.yaml(5) DIFFERENCES): a 40,000-package lockfile
# touched while it is read, again and again; the scan child killed in the
# middle of it; a lockfile and an agent configuration made unreadable
# (mode 000) and back; a lockfile and ~/.claude.json cut in half and
# restored.  None of it may give a removed event, a finding or a changed
# item count, and the items are shown stale meanwhile.  A lockfile
# touched while the baseline reads it is baselined by its first good
# read: no finding for its packages.  Then the real thing: a lockfile deleted loses its items once, and a whole tree
# deleted at once is held back by kobangd.removalGuard until a second scan
# confirms it.
. "$(dirname "$0")/lib.sh"

# This test's own user: the other tests move the homes of kobtest1..4.
U=kobkeep1
H=$T/home/$U
test_user $U

BIG=$H/src/big/package-lock.json
SMALL=$H/src/small/package-lock.json
CJ=$H/.claude.json
AGENT=$H/.claude/agents/reviewer.md
NBIG=40000
mkdir -p "$H/src/big" "$H/src/small" "$H/.claude/agents"
python3 "$(dirname "$0")/gen_lock.py" $NBIG "$BIG" || fail "generator"
cat >"$SMALL" <<'EOJ'
{"lockfileVersion": 3, "packages": {"": {"name": "small"},
 "node_modules/left-pad": {"version": "1.3.0"},
 "node_modules/zod": {"version": "3.25.0"},
 "node_modules/vite": {"version": "5.0.0", "dev": true}}}
EOJ
cat >"$CJ" <<'EOJ'
{"mcpServers": {"weather": {"command": "npx", "args": ["-y", "weather-mcp"]},
 "local": {"command": "node", "args": ["srv.js"]}}}
EOJ
printf -- '---\nname: reviewer\n---\nReview the change.\n' >"$AGENT"
chown -R $U:$U "$H"
chmod 700 "$H"
cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U]
  stateDirectory: $T/state
  controlSocket: $SOCK
  removalGuard:
    percent: 50
    minItems: 300
    confirmSeconds: 3
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
persistence:
  maxStoredEvents: 1000000
  maxStoredFindings: 1000000
EOC
chmod 600 "$T/kobangd.yaml"

js=javascriptPackages
surf_json() {
	ctl -j show surfaces >"$T/surf.json" || fail "show surfaces"
}
surf() {	# surface jq-path
	jq -r ".[] | select(.surface == \"$1\") | $2" "$T/surf.json"
}
removed() {
	ctl -j show events | jq '[.[] | select(.kind == "removed")] | length'
}
events() {
	ctl -j show events | jq length
}
findings() {
	ctl -j show findings | jq length
}
stale() {	# surface: items shown stale
	ctl -j show inventory "$1" | jq '[.[] | select(.stale == true)] |
	    length'
}
# Nothing may have changed: item counts, events, findings.
same() {	# where
	surf_json
	[ "$(surf $js .items)" -eq $((NBIG + 3)) ] ||
	    fail "$1: $js holds $(surf $js .items) items"
	[ "$(surf claudeConfig .items)" -eq "$C0" ] ||
	    fail "$1: claudeConfig holds $(surf claudeConfig .items) items"
	nev=$(events)
	[ "$nev" -eq 0 ] || { ctl show events | head -n 5;
	    fail "$1: $nev change events ($(removed) removed)"; }
	nfi=$(findings)
	[ "$nfi" -eq "$F0" ] || fail "$1: $nfi findings, $F0 before"
}
# Wait until surface $1 has had a scan after the count $2 and shows no
# stale item.
settle() {
	i=0
	while :; do
		i=$((i + 1))
		[ $i -lt 300 ] || fail "$1 did not settle: $(stale "$1") stale"
		surf_json
		if [ "$(surf "$1" .scans)" -gt "$2" ] &&
		    [ "$(stale "$1")" -eq 0 ]; then
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || fail "kobangd exited"
		sleep 0.1
	done
}
wait_scan() {	# surface count: a scan after count
	i=0
	until surf_json && [ "$(surf "$1" .scans)" -gt "$2" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || fail "no scan of $1 after $2"
		kill -0 "$DPID" 2>/dev/null || fail "kobangd exited"
		sleep 0.1
	done
}

# 0. The big lockfile touched every 10 ms for 4 s from the start: the
#    baseline cannot read it, a later read does, quietly.
(k=0; while [ $k -lt 400 ]; do touch "$BIG"; sleep 0.01; k=$((k + 1));
    done) &
TOUCHER=$!
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait $TOUCHER
i=0
until surf_json && [ "$(surf $js .items)" -eq $((NBIG + 3)) ] &&
    [ "$(surf claudeConfig .baselined)" = true ] &&
    [ "$(stale $js)" -eq 0 ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "no baseline ($(surf $js .items) items)"
	sleep 0.1
done
grep -q "$js baseline: .* [1-9][0-9]* kept from a failed read" "$T/log" ||
    fail "the touches missed the baseline's read: nothing tested"
C0=$(surf claudeConfig .items)
[ "$C0" -ge 3 ] || fail "claudeConfig: $C0 items"
F0=$(findings)
nnew=$(ctl -j show findings | jq '[.[] |
    select(.ruleId == "packages.new-javascript-package")] | length')
[ "$nnew" -eq 0 ] || fail "the late baseline raised $nnew findings"
same baseline

# 1. Touched while read, 20 times: each forced scan reads the 8 MB file
#    while it is touched every 20 ms for 0.6 s.
n=0
while [ $n -lt 20 ]; do
	s0=$(surf $js .scans)
	ctl scan $js >/dev/null || fail "kobanctl scan"
	(k=0; while [ $k -lt 30 ]; do touch "$BIG"; sleep 0.02;
	    k=$((k + 1)); done) &
	wait $!
	same "touch loop $n"
	settle $js "$s0"
	same "touch loop $n, settled"
	n=$((n + 1))
done
hits=$(grep -c "$js: 1 file changed while read; reading again" "$T/log")
[ "$hits" -ge 5 ] || fail "the touches hit only $hits reads: nothing tested"
echo "touch loop: $hits reads changed, 0 events, $F0 findings throughout"

# 2. The scan child killed in the middle of the big file, 5 times.
# SPID: the pid of a running scan child other than $1.  Never empty or 0
# when it returns: "kill -9 0" would kill this test's whole process
# group (as it did to a CI run while the child was being restarted).
scan_up() {
	j=0
	while :; do
		SPID=$(ctl -j show status | jq -r '.processes[] |
		    select(.name == "scan" and .running == true) | .pid')
		case $SPID in
		''|null|*[!0-9]*) ;;
		*) [ "$SPID" -gt 1 ] && [ "$SPID" != "${1:-}" ] && return 0 ;;
		esac
		j=$((j + 1))
		[ $j -lt 600 ] || fail "no scan child running after 60 s"
		sleep 0.1
	done
}
n=0
while [ $n -lt 5 ]; do
	s0=$(surf $js .scans)
	scan_up
	pid=$SPID
	touch "$BIG"
	ctl scan $js >/dev/null || fail "kobanctl scan"
	sleep 0.05
	kill -9 "$pid"
	scan_up "$pid"
	settle $js "$s0"
	same "kill $n"
	n=$((n + 1))
done
grep -q "rescanning $js when the scan child is back" "$T/log" ||
    fail "no kill hit a scan of $js: nothing tested"

# 3. Unreadable (mode 000) and back: kept, stale with a time, an issue.
for f in "$SMALL" "$CJ" "$AGENT"; do
	case $f in
	"$CJ"|"$AGENT") s=claudeConfig ;;
	*) s=$js ;;
	esac
	surf_json
	s0=$(surf $s .scans)
	chmod 000 "$f"
	ctl scan $s >/dev/null || fail "kobanctl scan"
	wait_scan $s "$s0"
	same "$f unreadable"
	ctl -j show surfaces | jq -e --arg p "$f" --arg s $s '.[] |
	    select(.surface == $s) | .issueList[] | select(.path == $p)' \
	    >/dev/null || fail "$f: no issue on $s"
	nst=$(stale $s)
	[ "$nst" -ge 1 ] || fail "$f: no item shown stale"
	ctl -j show inventory $s | jq -e '[.[] | select(.stale == true) |
	    .staleSince | test("^20[0-9][0-9]-")] | all' >/dev/null ||
	    fail "$f: stale without a time"
	ctl show inventory $s | grep -q "(stale since 20" ||
	    fail "$f: the human listing does not say stale"
	s0=$(surf $s .scans)
	chmod 600 "$f"
	ctl scan $s >/dev/null || fail "kobanctl scan"
	settle $s "$s0"
	same "$f readable again"
done

# 4. Cut in half (a parse error), then restored: kept, the issue shown.
for f in "$BIG" "$CJ"; do
	case $f in
	"$CJ") s=claudeConfig ;;
	*) s=$js ;;
	esac
	cp -p "$f" "$T/whole"
	surf_json
	s0=$(surf $s .scans)
	head -c $(($(wc -c <"$f") / 2)) "$T/whole" >"$f"
	ctl scan $s >/dev/null || fail "kobanctl scan"
	wait_scan $s "$s0"
	same "$f cut in half"
	[ "$(stale $s)" -ge 1 ] || fail "$f cut: nothing stale"
	surf_json
	[ "$(surf $s .health)" = degraded ] || fail "$f cut: health ok"
	s0=$(surf $s .scans)
	cat "$T/whole" >"$f"
	ctl scan $s >/dev/null || fail "kobanctl scan"
	settle $s "$s0"
	same "$f restored"
done

# 5. Really deleted: its 3 items go, once.
s0=$(surf $js .scans)
rm "$SMALL"
wait_scan $js "$s0"
[ "$(removed)" -eq 3 ] || fail "deleted lockfile: $(removed) removed"
s0=$(surf $js .scans)
ctl scan $js >/dev/null || fail "kobanctl scan"
wait_scan $js "$s0"
[ "$(removed)" -eq 3 ] || fail "removed again: $(removed)"
surf_json
[ "$(surf $js .items)" -eq $NBIG ] || fail "items after the deletion"

# 6. A tree deleted at once: held back (logged, shown), then confirmed by
#    the scan 3 s later: 40,000 removed, once.
s0=$(surf $js .scans)
t0=$(date +%s)
rm -r "$H/src/big"
wait_scan $js "$s0"
grep -q "$js: removal of $NBIG of $NBIG items held back" "$T/log" ||
    fail "the mass removal was not held back"
surf_json
surf $js .message | grep -q "held back" ||
    fail "the held removal is not shown: $(surf $js .message)"
[ "$(removed)" -eq 3 ] || fail "held removal removed $(removed)"
[ "$(surf $js .items)" -eq $NBIG ] || fail "held removal changed the count"
i=0
until [ "$(removed)" -eq $((NBIG + 3)) ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "not confirmed: $(removed) removed"
	sleep 0.1
done
[ $(($(date +%s) - t0)) -ge 3 ] || fail "confirmed before confirmSeconds"
grep -q "$js: the removal of $NBIG of $NBIG items is confirmed" "$T/log" ||
    fail "no confirmation logged"
s0=$(surf $js .scans)
ctl scan $js >/dev/null || fail "kobanctl scan"
wait_scan $js "$s0"
[ "$(removed)" -eq $((NBIG + 3)) ] || fail "removed twice: $(removed)"
surf_json
[ "$(surf $js .items)" -eq 0 ] || fail "items left: $(surf $js .items)"
echo ok
