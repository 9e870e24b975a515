#!/bin/sh
# A 40,000-package lockfile touched while the sensor reads it, as an
# editor's save, npm install or a checkout do: ROUNDS forced scans, each
# with the file touched every 20 ms for 0.6 s, then a quiet second.
# Prints how many reads the touches hit and what came of them: change
# events (removed, added), findings and outbox rows.  The figures of a
# build before "a file that cannot be read keeps what it had" are in the
# closing note of that change; now every count but the reads must be 0.
# Needs root and $B; leaves nothing behind (its own user, removed).
set -u
: "${B:?}"
[ "$(id -u)" -eq 0 ] || { echo "touch_read bench: needs root; skipped"; exit 0; }
ROUNDS=${ROUNDS:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/kobangd-bench.XXXXXX)
chmod 755 "$T"
SOCK=$T/kobangd.sock
U=kobbtouch
H=$T/home/$U
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
	userdel $U 2>/dev/null
	groupdel $U 2>/dev/null
}
trap cleanup EXIT INT TERM
ctl() { "$B/kobanctl" -s "$SOCK" -t 120 "$@"; }
getent passwd $U >/dev/null || useradd -M -d "$H" -s /bin/sh -U $U
usermod -d "$H" $U >/dev/null 2>&1
mkdir -p "$H/src/big"
python3 "$HERE/../e2e/gen_lock.py" 40000 "$H/src/big/package-lock.json"
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
persistence:
  maxStoredEvents: 1000000
  maxStoredFindings: 1000000
sync:
  enabled: true
  deviceID: 6F1C2B9E-0D4A-4E7B-9C55-1A2B3C4D5E6F
  tenantID: bench
EOC
chmod 600 "$T/kobangd.yaml"
"$B/kobangd" -d -v -f "$T/kobangd.yaml" -s "$SOCK" >"$T/log" 2>&1 &
DPID=$!
items() {
	ctl -j show surfaces 2>/dev/null | jq -r '.[] | select(.surface ==
	    "javascriptPackages") | .items'
}
i=0
until [ "$(items)" = 40000 ]; do
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "touch_read: no baseline"; exit 1; }
	sleep 0.1
done
ob0=$("$B/regress/outbox_dump" "$T/state" | wc -l)
n=0
while [ $n -lt "$ROUNDS" ]; do
	ctl scan javascriptPackages >/dev/null
	k=0
	while [ $k -lt 30 ]; do
		touch "$H/src/big/package-lock.json"
		sleep 0.02
		k=$((k + 1))
	done
	sleep 1
	n=$((n + 1))
done
sleep 3
ctl -j show events >"$T/ev.json"
hit_new=$(grep -c "file changed while read; reading again\|kept changing while" "$T/log")
# Before the change no read was taken again: count the scans with an issue.
hit_old=$(grep -c "javascriptPackages scan: .* [1-9][0-9]* issues," "$T/log")
echo "touch_read: $ROUNDS rounds on a 40,000-package lockfile"
echo "  reads the touches hit:     $((hit_new + hit_old))"
echo "  removed events:            $(jq '[.[] | select(.kind == "removed")] | length' "$T/ev.json")"
echo "  added events:              $(jq '[.[] | select(.kind == "added")] | length' "$T/ev.json")"
echo "  findings:                  $(ctl -j show findings | jq length)"
echo "  outbox rows after baseline: $(($("$B/regress/outbox_dump" "$T/state" | wc -l) - ob0))"
echo "  items at the end:          $(items)"
