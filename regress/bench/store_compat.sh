#!/bin/sh
# A store schema change seen from outside (issue 14): kobanctl show
# inventory, text and -j, from the old daemon, from the new one on the
# old one's database (migrated) and from the new one afresh, on
# regress/corpus plus a generated npm tree, compared byte for byte, with
# the database sizes.  Usage: store_compat.sh OLD-BUILD NEW-BUILD, e.g. a
# build of main and this tree's build/.
# Needs root; prints what it found, exits 1 if any output differs.
set -u
[ $# -eq 2 ] || { echo "usage: $0 OLD-BUILD NEW-BUILD" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "store_compat: needs root; skipped"; exit 0; }
OLD=$1 NEW=$2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/kobst-same.XXXXXX)
chmod 755 "$T"
U=kobst1
H=$T/home/$U
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	userdel $U 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
useradd -M -d "$H" -s /bin/sh -U $U || exit 1
mkdir -p "$H/src"
cp -R "$HERE/../corpus" "$H/src/corpus"
python3 "$HERE/gen_tree.py" "$H/src/gen" 20 60 >/dev/null
chown -R $U:$U "$H"; chmod 700 "$H"
cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U]
  stateDirectory: $T/state
  controlSocket: $T/sock
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
EOC
chmod 600 "$T/kobangd.yaml"
run() { # build tag
	"$1/kobangd" -d -f "$T/kobangd.yaml" >"$T/log.$2" 2>&1 &
	DPID=$!
	i=0
	while :; do
		n=$("$1/kobanctl" -s "$T/sock" -j show surfaces 2>/dev/null |
		    jq '[.[] | select(.scans > 0)] | length' 2>/dev/null)
		[ "${n:-0}" -ge 8 ] && break
		sleep 0.2; i=$((i + 1))
		[ $i -lt 1500 ] || { echo "$2: no baseline"; tail "$T/log.$2"; exit 1; }
	done
	sleep 2
	"$1/kobanctl" -s "$T/sock" show inventory >"$T/inv.$2.txt"
	"$1/kobanctl" -s "$T/sock" -j show inventory >"$T/inv.$2.json"
	kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
	echo "$2: $(wc -l <"$T/inv.$2.txt") lines, $(wc -c <"$T/inv.$2.json") JSON bytes, db $(stat -c %s "$T/state/kobangd.db") bytes"
}
run "$OLD" old
run "$NEW" migrated
grep -i "migrated" "$T/log.migrated"
rm -rf "$T/state"
run "$NEW" fresh
rc=0
for t in migrated fresh; do
	cmp "$T/inv.old.txt" "$T/inv.$t.txt" && cmp "$T/inv.old.json" "$T/inv.$t.json" &&
	    echo "$t: text and -j identical to the old daemon's" || rc=1
done
exit $rc
