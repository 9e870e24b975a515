#!/bin/sh
# Rescans in proportion to the change (sensor.c struct ssurf: last walk,
# dirty files): a lockfile written in place, or replaced by a rename, is
# read alone, without a walk (its scan reads 1 file and skips none); one
# touched or saved with the same bytes is hashed, not parsed, and nothing
# is stored (SCAN_F_CONTENT); a
# lockfile created in a new project, one deleted, and a project directory
# removed are found by a walk; the inventory after all of it equals what
# a full rescan (kobanctl scan) finds, and that rescan changes nothing.
. "$(dirname "$0")/lib.sh"

U=kobtarg1
H=$T/home/$U
test_user $U
lock() {	# dir name version; an existing file is written in place
	new=
	[ -d "$H/src/$1" ] || { mkdir -p "$H/src/$1"; new=1; }
	cat >"$H/src/$1/package-lock.json" <<EOJ
{"lockfileVersion": 3, "packages": {"": {"name": "$1"},
 "node_modules/$2": {"version": "$3"},
 "node_modules/zod": {"version": "3.25.0"}}}
EOJ
	[ -z "$new" ] || chown -R $U:$U "$H/src/$1"
}
for p in p1 p2 p3 p4 p5; do
	lock $p left-pad 1.3.0
done
chown -R $U:$U "$H"
chmod 700 "$H"
cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U]
  stateDirectory: $T/state
  controlSocket: $SOCK
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
claude:
  enabled: false
EOC
chmod 600 "$T/kobangd.yaml"

# Wait for the next javascriptPackages scan line after line $1 of the log.
next_scan() {
	i=0
	while :; do
		l=$(tail -n +"$(($1 + 1))" "$T/log" |
		    grep "javascriptPackages \(scan\|baseline\):" | head -n 1)
		[ -n "$l" ] && break
		sleep 0.05
		i=$((i + 1))
		[ $i -lt 400 ] || fail "no javascriptPackages scan within 20 s"
	done
	echo "$l"
}
mark() { wc -l <"$T/log"; }
has() {	# name version: in the inventory exactly once
	ctl -j show inventory javascriptPackages | jq -e --arg n "$1" \
	    --arg v "$2" '[.[] | select(.name == $n and .version == $v)] |
	    length == 1' >/dev/null || fail "$1 $2 not in the inventory"
}

start_daemon -f "$T/kobangd.yaml"
l=$(next_scan 0)
echo "$l" | grep -q "baseline: 5 files read" || fail "baseline: $l"

# Written in place: read alone.
m=$(mark)
lock p2 left-pad 1.4.0
l=$(next_scan "$m")
echo "written in place: $l"
echo "$l" | grep -q "scan: 1 files read, 0 unchanged" ||
    fail "a lockfile written in place was not read alone: $l"
has left-pad 1.4.0

# Touched, and saved with the same bytes: hashed, not parsed, nothing
# stored (its content hash came back with its last read).
committed() {
	ctl -j show surfaces | jq -r '.[] | select(.surface ==
	    "javascriptPackages") | .committedMs'
}
for how in touch same; do
	c0=$(committed)
	m=$(mark)
	case $how in
	touch)	touch "$H/src/p2/package-lock.json" ;;
	same)	cp "$H/src/p2/package-lock.json" "$T/same"
		cat "$T/same" >"$H/src/p2/package-lock.json" ;;
	esac
	l=$(next_scan "$m")
	echo "$how, unchanged: $l"
	echo "$l" | grep -q "scan: 1 files read, content as before; nothing stored" ||
	    fail "$how: an unchanged lockfile was parsed or stored: $l"
	[ "$(committed)" = "$c0" ] || fail "$how: a commit for nothing"
done
has left-pad 1.4.0

# Replaced by a rename (an editor's save): read alone.
m=$(mark)
sed 's/"1.3.0"/"1.5.0"/' "$H/src/p3/package-lock.json" >"$H/src/p3/.tmp"
chown $U:$U "$H/src/p3/.tmp"
mv "$H/src/p3/.tmp" "$H/src/p3/package-lock.json"
l=$(next_scan "$m")
echo "replaced by a rename: $l"
echo "$l" | grep -q "scan: 1 files read, 0 unchanged" ||
    fail "a lockfile replaced by a rename was not read alone: $l"
has left-pad 1.5.0

# A new project: a walk finds it.
m=$(mark)
lock p6 is-odd 3.0.1
l=$(next_scan "$m")
echo "new project: $l"
echo "$l" | grep -q "unchanged" || fail "scan line: $l"
has is-odd 3.0.1

# A lockfile deleted, a project removed: their items go.
m=$(mark)
rm "$H/src/p4/package-lock.json"
rm -r "$H/src/p5"
i=0
until [ "$(ctl -j show inventory javascriptPackages | jq '[.[] |
    select(.path | test("/p[45]/"))] | length')" -eq 0 ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -lt 200 ] || fail "the items of p4 and p5 stayed"
done

# Written in place once more after the walks: still read alone.
m=$(mark)
lock p1 left-pad 2.0.0
l=$(next_scan "$m")
echo "written in place after walks: $l"
echo "$l" | grep -q "scan: 1 files read, 0 unchanged" ||
    fail "not read alone after walks: $l"
has left-pad 2.0.0

# What the targeted scans left is what a full read finds.
ctl -j show inventory javascriptPackages | jq -S 'map({name, version,
    path})' >"$T/before.json"
m=$(mark)
ctl scan javascriptPackages >/dev/null || fail "scan"
l=$(next_scan "$m")
echo "full rescan: $l"
echo "$l" | grep -q "scan: 4 files read, 0 unchanged.* 0 changes" ||
    fail "a full rescan found what the targeted scans missed: $l"
ctl -j show inventory javascriptPackages | jq -S 'map({name, version,
    path})' >"$T/after.json"
cmp -s "$T/before.json" "$T/after.json" || fail "inventory differs"
[ "$(jq length "$T/after.json")" -eq 8 ] || fail "expected 8 items"
echo ok
