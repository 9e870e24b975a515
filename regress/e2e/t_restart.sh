# A killed child is noticed, logged and restarted; a killed parent takes
# its children down within a second.
. "$(dirname "$0")/lib.sh"

# Sync on: net and dns run only then.
sync_idle_conf
start_daemon -f "$T/kobangd.yaml"
SYNC=on wait_ready

for name in net scan dns; do
	old=$(child_pid "$name")
	kill -9 "$old"
	i=0
	new=$old
	while [ $i -lt 100 ]; do
		new=$(child_pid "$name")
		if [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$old" ] &&
		    ctl -j show status | jq -e ".processes[] |
		    select(.name == \"$name\") | .uid != null" >/dev/null; then
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	[ "$new" != "$old" ] && [ "$new" != 0 ] ||
	    fail "$name did not come back"
	grep -q "$name (pid $old) killed by signal 9" "$T/log" ||
	    fail "$name death not logged"
	r=$(ctl -j show status | jq ".processes[] | select(.name == \"$name\") | .restarts")
	[ "$r" -eq 1 ] || fail "$name: restarts $r, expected 1"
done

# Killing the parent takes every child down within a second.
pids="$(child_pid net) $(child_pid scan) $(child_pid dns)"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
sleep 1
for p in $pids; do
	# A zombie waiting for init to reap it counts as gone.
	if [ -r "/proc/$p/status" ] &&
	    ! grep -q '^State:.*Z' "/proc/$p/status"; then
		fail "child $p outlived its parent by a second"
	fi
done
DPID=
echo ok
