# A descriptor the launcher left open (no close-on-exec, as a shell or a
# service manager may) reaches the parent but no child: every child is
# started with only its channel and the standard descriptors
# (closefrom() before exec, privsep/proc.c).
. "$(dirname "$0")/lib.sh"

echo "the launcher's secret" >"$T/launcher-secret"
# Descriptor 7 stays open across the exec of kobangd, like a shell's.
exec 7<"$T/launcher-secret"
sync_idle_conf
start_daemon -f "$T/kobangd.yaml"
exec 7<&-
SYNC=on wait_ready

# It did reach the parent: otherwise the test proves nothing.
found=
for f in /proc/"$DPID"/fd/*; do
	[ "$(readlink "$f")" = "$T/launcher-secret" ] && found=$f
done
[ -n "$found" ] || fail "the launcher's descriptor is not open in the parent"

for name in net scan dns; do
	pid=$(child_pid "$name")
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "$name: no pid"
	[ -d /proc/"$pid"/fd ] || fail "$name: /proc/$pid/fd missing"
	n=0
	for f in /proc/"$pid"/fd/*; do
		n=$((n + 1))
		[ "$(readlink "$f")" = "$T/launcher-secret" ] &&
		    fail "$name (pid $pid) inherited the launcher's" \
		    "descriptor as $(basename "$f")"
	done
	[ $n -ge 4 ] || fail "$name: only $n descriptors listed"
done
echo "ok: the launcher's descriptor is in the parent only"
