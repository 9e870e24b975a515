# Sync is off unless configured: no identity directory, no TCP socket in
# any kobangd process, and kobanctl enroll says why it cannot.
. "$(dirname "$0")/lib.sh"

cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  controlSocket: $SOCK
  users: []
YAML
chmod 644 "$T/kobangd.yaml"
start_daemon -f "$T/kobangd.yaml"
wait_ready
grep -q "sync: disabled, local-only sensor" "$T/log" || fail "not said"
[ "$(ctl -j show identity | jq .sync)" = false ] || fail "sync on"
if echo tok-x | ctl enroll >/dev/null 2>"$T/err"; then
	fail "enroll accepted"
fi
grep -q "sync is not enabled and configured" "$T/err" ||
    fail "enroll said: $(cat "$T/err")"
[ ! -e "$T/state/identity" ] || fail "identity directory made"
inodes=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk 'NR > 1 { print $10 }')
for p in $DPID $(child_pid net) $(child_pid scan) $(child_pid dns); do
	for l in $(ls -l "/proc/$p/fd" 2>/dev/null |
	    sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p'); do
		for i in $inodes; do
			[ "$l" = "$i" ] && fail "process $p holds a TCP socket"
		done
	done
done
echo ok
