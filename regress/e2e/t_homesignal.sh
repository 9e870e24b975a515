#!/bin/sh
# The opt-in home signal scan (SURFACES.md 9) end to end: with
# watch.homeSignalScan enabled (root "~": each monitored user's home),
# a .cursorrules and a requirements.txt outside the configured project
# roots are watched: changing one rescans cursorConfig (and only the
# surfaces it maps to), the other pythonPackages; a file in a pruned
# directory is not watched.  A budget too small for the home marks the
# enabled surfaces' watch health degraded.  Without the setting the
# same change rescans nothing, until a reload turns it on.  With
# eventPathFiltering false the whole home is watched, directories
# created later included.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

# Users of its own: the other tests move kobtest1/2's homes into their
# scratch directories while they run, and this one reads the password
# database again at every start and reload.
U1=kobhstest1
U2=kobhstest2
H1=$T/home/$U1
H2=$T/home/$U2
make_users
mkdir -p "$H1/src" "$H1/work/app" "$H1/Documents/old" "$H2/src"
echo "be brief" >"$H1/work/app/.cursorrules"
echo "requests==2.32.3" >"$H1/work/app/requirements.txt"
echo "old rules" >"$H1/Documents/old/.cursorrules"
own_homes

stop_sensor() {
	kill "$DPID"
	i=0
	while kill -0 "$DPID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -0 "$DPID" 2>/dev/null && fail "kobangd did not stop"
	DPID=
}

# Start with the given homeSignalScan lines (stdin, inside watch:) and
# wait until the first scans are done (and the home signal scan, if on).
start_with() {
	write_config
	start_sensor
	for s in cursorConfig pythonPackages codexConfig claudeConfig; do
		wait_scans $s 0 15
	done
	if [ -n "${1:-}" ]; then
		i=0
		until grep -q "home signal scan: .* watched" "$T/log"; do
			[ $i -lt 100 ] || fail "no home signal scan"
			sleep 0.1; i=$((i + 1))
		done
	fi
	# Let the start's own scans drain.
	sleep 0.5
}

# Append to a file as its owner would; the change is what is watched.
change() {
	echo "# $(date +%s%N)" >>"$1"
}

# No scan of $1 beyond $2 within 1.5 s.
no_scan() {
	sleep 1.5
	[ "$(scans_of "$1")" -eq "$2" ] ||
	    fail "$1 was rescanned ($2 -> $(scans_of "$1"))"
}

watch_json() {
	ctl -j show surfaces |
	    jq -r ".[] | select(.surface == \"$1\") | .watch.$2"
}

# 1. Enabled, event path filtering (the default).
start_with on <<'EOY'
  homeSignalScan:
    enabled: true
EOY
grep -q "home signal scan: 2 signal files watched" "$T/log" ||
    fail "expected the two signal files outside Documents: $(grep 'home signal' "$T/log")"
[ "$(watch_json cursorConfig degraded)" = false ] ||
    fail "cursorConfig watch degraded: $(watch_json cursorConfig message)"
c=$(scans_of cursorConfig)
p=$(scans_of pythonPackages)
change "$H1/work/app/.cursorrules"
wait_scans cursorConfig "$c" 10
no_scan pythonPackages "$p"
c=$(scans_of cursorConfig)
change "$H1/work/app/requirements.txt"
wait_scans pythonPackages "$p" 10
no_scan cursorConfig "$c"
# Pruned: Documents is not searched.
change "$H1/Documents/old/.cursorrules"
no_scan cursorConfig "$c"
# The scan read nothing new: the file outside the roots is no item.
ctl -j show inventory cursorConfig | jq -e 'length == 0' >/dev/null ||
    fail "a home signal file became inventory"
stop_sensor

# 2. A directory budget of one: an issue, every enabled surface's watch
# health degraded (shown by kobanctl show surfaces).
start_with on <<'EOY'
  homeSignalScan:
    enabled: true
    initialScanBudget:
      maxDirectoriesVisited: 1
EOY
for s in cursorConfig pythonPackages claudeConfig opencodeConfig; do
	[ "$(watch_json $s degraded)" = true ] ||
	    fail "$s watch health not degraded"
	watch_json $s message | grep -q "^home signal scan: .*limit reached" ||
	    fail "$s watch message: $(watch_json $s message)"
done
ctl show surfaces | grep -q "watch: home signal scan" ||
    fail "show surfaces does not say why"
stop_sensor

# 3. Off: the same change rescans nothing; then a reload turns it on.
start_with <<'EOY'
EOY
grep -q "home signal scan" "$T/log" && fail "the scan ran while disabled"
[ "$(watch_json cursorConfig degraded)" = false ] ||
    fail "cursorConfig watch degraded: $(watch_json cursorConfig message)"
c=$(scans_of cursorConfig)
change "$H1/work/app/.cursorrules"
no_scan cursorConfig "$c"
# Turned on by a reload: the engine starts again, the scan with it.
write_config <<'EOY'
  homeSignalScan:
    enabled: true
EOY
kill -HUP "$DPID"
i=0
until grep -q "home signal scan: 2 signal files watched" "$T/log"; do
	[ $i -lt 100 ] || fail "no home signal scan after the reload"
	sleep 0.1; i=$((i + 1))
done
sleep 1
c=$(scans_of cursorConfig)
change "$H1/work/app/.cursorrules"
wait_scans cursorConfig "$c" 10
stop_sensor

# 4. eventPathFiltering false: the whole home, new directories too.
start_with on <<'EOY'
  homeSignalScan:
    enabled: true
    eventPathFiltering: false
EOY
grep -q "home signal scan: [0-9]* directories watched" "$T/log" ||
    fail "no whole-root watch: $(grep 'home signal' "$T/log")"
c=$(scans_of cursorConfig)
p=$(scans_of pythonPackages)
su -s /bin/sh $U1 -c "mkdir -p '$H1/new/a/b'"
wait_scans cursorConfig "$c" 10
wait_scans pythonPackages "$p" 10
sleep 1
c=$(scans_of cursorConfig)
su -s /bin/sh $U1 -c "echo x >'$H1/new/a/b/notes.txt'"
wait_scans cursorConfig "$c" 10
stop_sensor
echo "ok"
