# After a completed mutual handshake the network child's memory holds no
# copy of the device key's private scalar; the parent's does, which
# shows the scan would find one.  The peer sends its certificate as DER
# (PROTOCOL.md 4.3), the other tests as PEM.  Between rounds net and
# dns are stopped, said so, and started again by the next request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server -D
fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
net=$(child_pid net)
printf '%s\n' "$tok" | ctl enroll >/dev/null 2>&1 || fail "enrollment"
wait_for "check-in ok .*auth=certificate"
grep -q "sync: signed the TLS handshake" "$T/log" ||
    fail "no handshake with the certificate"
[ "$(child_pid net)" = "$net" ] || fail "net was restarted"
key=$T/state/identity/key.pem
"$MEMSCAN" "$key" "$net" >"$T/scan.net" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "net: memscan said $rc: $(cat "$T/scan.net")"
"$MEMSCAN" "$key" "$DPID" >"$T/scan.parent" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "parent: memscan said $rc: $(cat "$T/scan.parent")"

# Between rounds (TRANSPORT_IDLE_MS, 10 s without a request) net and dns
# are stopped: show status says why, the log says so, and it is no crash.
# The next request starts both again; the new net, after its own
# handshake, holds no key either.
dns=$(child_pid dns)
wait_gone 20 "$net" "$dns" ||
    fail "net or dns still running 20 s after the round"
ctl -j show status >"$T/s.json" || fail "show status -j"
ctl show status >"$T/s.txt" || fail "show status"
why="not started: idle: no request to Fleet for 10 s; started for the next one"
for n in net dns; do
	[ "$(jq -r ".processes[] | select(.name == \"$n\") |
	    \"\(.running) \(.pid) \(.restarts) \(.absent)\"" "$T/s.json")" = \
	    "false 0 0 $why" ] || fail "$n when idle: $(jq -c ".processes[] |
	    select(.name == \"$n\")" "$T/s.json")"
	grep -q "^$n *- *$why$" "$T/s.txt" ||
	    fail "$n when idle, text: $(grep "^$n" "$T/s.txt")"
done
grep -q "net (pid $net) stopped" "$T/log" || fail "net's stop not logged"
grep -q "restarting net\|restarting dns" "$T/log" &&
    fail "an idle stop was taken for a crash"
ctl check-in >/dev/null 2>&1 || fail "check-in with net and dns stopped"
net2=$(child_pid net)
[ -n "$net2" ] && [ "$net2" != null ] && [ "$net2" -gt 0 ] &&
    [ "$net2" != "$net" ] || fail "net after the check-in: '$net2'"
[ "$(grep -c "sync: signed the TLS handshake" "$T/log")" -ge 2 ] ||
    fail "no handshake by the new net"
"$MEMSCAN" "$key" "$net2" >"$T/scan.net2" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "new net: memscan said $rc: $(cat "$T/scan.net2")"
echo ok
