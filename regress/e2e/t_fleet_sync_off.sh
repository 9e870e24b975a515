# Sync is off unless configured: no identity directory, no TCP socket in
# any kobangd process, and kobanctl enroll says why it cannot.  Neither
# net nor dns runs (show status says why, human and JSON); a reload that
# turns sync on starts both, sandboxed; one that turns it off stops
# them, and they are not restarted.
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
for p in $DPID $(child_pid scan); do
	for l in $(ls -l "/proc/$p/fd" 2>/dev/null |
	    sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p'); do
		for i in $inodes; do
			[ "$l" = "$i" ] && fail "process $p holds a TCP socket"
		done
	done
done

# net and dns: not started, and why.
absent() {	# name
	ctl -j show status >"$T/s.json" || fail "show status -j"
	ctl show status >"$T/s.txt" || fail "show status"
	[ "$(jq -r ".processes[] | select(.name == \"$1\") |
	    \"\(.running) \(.pid) \(.absent)\"" "$T/s.json")" = \
	    "false 0 not started: sync is off" ] ||
	    fail "$1 in JSON: $(jq -c ".processes[] |
	    select(.name == \"$1\")" "$T/s.json")"
	awk -v n="$1" '$1 == n' "$T/s.txt" |
	    grep -q "^$1 *- *not started: sync is off$" ||
	    fail "$1 in text: $(awk -v n="$1" '$1 == n' "$T/s.txt")"
}
absent net
absent dns
[ "$(jq '[.processes[] | select(.running)] | length' "$T/s.json")" -eq 2 ] ||
    fail "not parent and scan alone: $(cat "$T/s.json")"
[ "$(pgrep -c -P "$DPID")" -eq 1 ] || fail "the parent has $(pgrep -c -P "$DPID") children"

# Sync on by a reload: net and dns start and say hello, sandboxed.
sync_idle_yaml >>"$T/kobangd.yaml"
ctl reload >/dev/null || fail "reload (sync on) refused"
SYNC=on wait_ready
for n in net dns; do
	[ "$(jq -r ".processes[] | select(.name == \"$n\") |
	    \"\(.absent) \(.sandbox.seccomp) \(.sandbox.noNewPrivs)\"" \
	    "$T/status.json")" = "null true true" ] ||
	    fail "$n after sync on: $(jq -c ".processes[] |
	    select(.name == \"$n\")" "$T/status.json")"
done
net=$(child_pid net)
dns=$(child_pid dns)

# Sync off again: both stopped, reported absent, not restarted.
sed -i '/^sync:/,$d' "$T/kobangd.yaml"
ctl reload >/dev/null || fail "reload (sync off) refused"
wait_gone 5 "$net" "$dns" || fail "net or dns still running after sync off"
sleep 1.5
absent net
absent dns
grep -q "net (pid $net) stopped" "$T/log" || fail "net's stop not logged"
grep -q "dns (pid $dns) stopped" "$T/log" || fail "dns's stop not logged"
grep -q "restarting net\|restarting dns\|net (pid $net) killed\|dns (pid $dns) killed" \
    "$T/log" && fail "a stopped child was taken for a crash"
[ "$(jq -r '.processes[] | select(.name == "net") | .restarts' \
    "$T/s.json")" = 0 ] || fail "the stop counted as a restart"
echo ok
