#!/bin/sh
# A monitored user who can no longer be looked up (a directory service
# that is down, a user removed behind the daemon's back) makes the scan
# fail: nothing is committed, the surface is degraded, and that user's
# items are not reported as removed.  Before, the user was skipped and
# every one of their items came out as a removal (the sensor bench once
# reported 5,000 events for a one-package change this way).
#
# kobtest3 belongs to this test alone: the other tests move the homes
# of kobtest1 and kobtest2, which must not happen to it mid-run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

U=kobtest3
H=$T/home/$U
trap 'userdel $U 2>/dev/null; cleanup' EXIT

if getent passwd $U >/dev/null; then
	userdel $U || fail "cannot remove a stale $U"
fi
useradd -M -d "$H" -s /bin/sh -U $U || fail "cannot create $U"
uid=$(id -u $U)
gid=$(id -g $U)
mkdir -p "$H/src/a" "$H/src/b"
for p in a b; do
	cat >"$H/src/$p/package-lock.json" <<EOJ
{"name": "$p", "lockfileVersion": 3, "packages": {"": {"name": "$p"},
 "node_modules/left-$p": {"version": "1.0.0"},
 "node_modules/right-$p": {"version": "2.0.0"}}}
EOJ
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
start_sensor
wait_scans javascriptPackages 0
n0=$(ctl -j show inventory javascriptPackages | jq length)
[ "$n0" -eq 4 ] || fail "baseline has $n0 items, not 4"

js_surface() {
	ctl -j show surfaces | jq -r ".[] | select(.surface ==
	    \"javascriptPackages\") | $1"
}

# The user disappears from the password database.
userdel $U || fail "cannot remove $U"
s=$(scans_of javascriptPackages)
ctl scan javascriptPackages >/dev/null || fail "scan refused"
wait_scans javascriptPackages "$s"
[ "$(ctl -j show events | jq length)" -eq 0 ] ||
    fail "an unresolvable user's items were reported as changes:" \
    "$(ctl -j show events | jq -c '.[0]')"
[ "$(ctl -j show inventory javascriptPackages | jq length)" -eq "$n0" ] ||
    fail "the inventory changed"
[ "$(js_surface .health)" = degraded ] ||
    fail "surface not degraded: $(js_surface .health)"
js_surface .message | grep -q "$U" ||
    fail "the health message does not name $U: $(js_surface .message)"

# Back with the same uid: the next scan is clean and finds no change.
groupadd -g "$gid" $U 2>/dev/null
useradd -M -d "$H" -s /bin/sh -u "$uid" -g "$gid" $U ||
    fail "cannot recreate $U"
s=$(scans_of javascriptPackages)
ctl scan javascriptPackages >/dev/null || fail "scan refused"
wait_scans javascriptPackages "$s"
[ "$(ctl -j show events | jq length)" -eq 0 ] ||
    fail "changes after the user came back"
[ "$(js_surface .health)" = ok ] ||
    fail "surface not ok: $(js_surface .health) $(js_surface .message)"
echo "ok"
