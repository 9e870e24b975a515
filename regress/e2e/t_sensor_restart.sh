#!/bin/sh
# A restart trusts the stored fingerprints, and still finds what changed
# while kobangd was stopped (sensor.c sensor_trust_fingerprints): three
# lockfiles baselined; kobangd stopped; one rewritten in place with its
# size and modification time put back (only its change time tells), one
# replaced by another file of the same size and modification time (inode
# and change time tell), one left alone.  At start the two changed are
# read and their changes found; the one left alone is not read.  Then a
# restart under another configuration reads every file.
. "$(dirname "$0")/lib.sh"

U=kobrest1
H=$T/home/$U
test_user $U
mkdir -p "$H/src/a" "$H/src/b" "$H/src/c"
lock() {	# dir version: a lockfile whose size does not depend on version
	cat >"$H/src/$1/package-lock.json" <<EOJ
{"lockfileVersion": 3, "packages": {"": {"name": "$1"},
 "node_modules/left-pad": {"version": "$2"},
 "node_modules/zod": {"version": "3.25.0"}}}
EOJ
}
lock a 1.3.0
lock b 1.3.0
lock c 1.3.0
chown -R $U:$U "$H"
chmod 700 "$H"
conf() {	# the debounce in ms
	cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U]
  stateDirectory: $T/state
  controlSocket: $SOCK
watch:
  debounceMilliseconds: $1
  projectRoots: ["~/src"]
claude:
  enabled: false
EOC
	chmod 600 "$T/kobangd.yaml"
}
conf 100

# The log line of the first javascriptPackages scan since (re)start.
scanline() {
	i=0
	while ! grep -q "javascriptPackages \(scan\|baseline\):" "$T/log"; do
		sleep 0.1
		i=$((i + 1))
		[ $i -lt 300 ] || fail "no javascriptPackages scan within 30 s"
	done
	grep "javascriptPackages \(scan\|baseline\):" "$T/log" | head -n 1
}
stop() {
	kill "$DPID"
	i=0
	while kill -0 "$DPID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
		[ $i -lt 100 ] || fail "kobangd did not stop"
	done
	DPID=
}

start_daemon -f "$T/kobangd.yaml"
line=$(scanline)
echo "$line" | grep -q "baseline: 3 files read" || fail "baseline: $line"
stop

A=$H/src/a/package-lock.json
Bf=$H/src/b/package-lock.json
# a: rewritten in place, same size, modification time put back.
touch -r "$A" "$T/a.ref"
ino_a=$(stat -c %i "$A")
sed 's/"1.3.0"/"1.4.0"/' "$A" >"$T/a.new"
cat "$T/a.new" >"$A"
touch -r "$T/a.ref" "$A"
[ "$(stat -c %i "$A")" = "$ino_a" ] || fail "a lost its inode"
# b: replaced by another file (a new inode), same size and mtime.
touch -r "$Bf" "$T/b.ref"
sed 's/"1.3.0"/"1.5.0"/' "$Bf" >"$T/b.new"
chown $U:$U "$T/b.new"
touch -r "$T/b.ref" "$T/b.new"
mv "$T/b.new" "$Bf"
[ "$(stat -c %s "$Bf")" = "$(stat -c %s "$H/src/c/package-lock.json")" ] ||
    fail "b changed size"
[ "$(stat -c %Y "$Bf")" = "$(stat -c %Y "$T/b.ref")" ] || fail "b mtime"

mv "$T/log" "$T/log.1"
start_daemon -f "$T/kobangd.yaml"
line=$(scanline)
echo "restart: $line"
echo "$line" | grep -q "scan: 2 files read, 1 unchanged" ||
    fail "restart did not trust the fingerprints as it should: $line"
n=$(ctl -j show events | jq '[.[] | select(.name == "left-pad")] | length')
[ "$n" -eq 4 ] || { ctl show events; fail "$n left-pad events, expected 4"; }
for v in 1.4.0 1.5.0; do
	ctl -j show inventory javascriptPackages | jq -e --arg v $v \
	    '[.[] | select(.name == "left-pad" and .version == $v)] |
	    length == 1' >/dev/null || fail "left-pad $v not in the inventory"
done
stop

# Another configuration: nothing is trusted.
conf 150
mv "$T/log" "$T/log.2"
start_daemon -f "$T/kobangd.yaml"
line=$(scanline)
echo "after a configuration change: $line"
echo "$line" | grep -q "scan: 3 files read, 0 unchanged" ||
    fail "a restart under another configuration trusted fingerprints: $line"
echo "ok"
