# 50 MB responses, framed by the end of the connection, by
# Content-Length and by chunks: each is refused at the 4 MiB cap, the
# network child's memory stays small and it does not crash.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
for m in huge hugecl hugechunked; do
	echo "$(fleet_token 600)" >"$T/tok.$m"
done
for m in huge hugecl hugechunked; do
	tok=$(cut -d' ' -f1 "$T/tok.$m")
	[ -n "$PEER" ] && kill "$PEER" && wait "$PEER" 2>/dev/null
	fleet_start server -m "$m"
	fleet_conf "https://127.0.0.1:$PORT"
	[ -n "$DPID" ] && kill "$DPID" && wait "$DPID" 2>/dev/null
	DPID=
	start_daemon -f "$T/kobangd.yaml"
	wait_ready
	net=$(child_pid net)
	enroll_fails "$tok" "HTTP error: response body too large"
	[ "$(child_pid net)" = "$net" ] || fail "$m: net restarted"
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$net/status")
	[ -n "$hwm" ] && [ "$hwm" -lt 49152 ] ||
	    fail "$m: net peaked at ${hwm:-?} kB"
	echo "$m: net peaked at $hwm kB"
	not_enrolled "$tok"
done
echo ok
