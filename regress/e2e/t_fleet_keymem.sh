# After a completed mutual handshake the network child's memory holds no
# copy of the device key's private scalar; the parent's does, which
# shows the scan would find one.  The peer sends its certificate as DER
# (PROTOCOL.md 4.3), the other tests as PEM.
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
echo ok
