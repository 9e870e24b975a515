# End to end against the Fleet test peer: enrollment with a token from a
# root-only file, the identity stored (modes, the key made on this
# machine), check-in with the client certificate whose key the peer
# confirms is the device's, the token nowhere on disk or in the logs, a
# restart that reuses the identity, and keep-alive reuse of the
# connection with one signature per handshake.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server
printf '%s\n' "$tok" >"$T/token"
chmod 600 "$T/token"
# The sensor token is configured too: it must never travel once the
# certificate exists.
fleet_conf "https://localhost:$PORT" "  sensorToken: dev-sensor-token" \
    "  enrollmentTokenFile: $T/token"

start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20

spki=$(sed -n 's/^enrolled .*spki=//p' "$T/peer.log")
[ -n "$spki" ] || fail "the peer did not enroll anyone"
[ "$spki" = "$(key_spki)" ] ||
    fail "the enrolled key is not the one on disk"
grep -q "check-in ok device=device-1 spki=$spki auth=certificate token-header=absent" \
    "$T/peer.log" || fail "check-in not made with the device's certificate"
[ "$(identity .enrolled)" = true ] || fail "not enrolled"
[ "$(identity .tenantId)" = tenant-test ] || fail "tenant"
[ "$(identity .deviceId)" = device-1 ] || fail "device"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "fingerprint"
[ "$(identity .auth)" = certificate ] || fail "auth mode"
identity .certificate.subject | grep -q 'CN=device-1' || fail "subject"
identity .certificate.issuer | grep -q 'kobangd test Fleet CA' ||
    fail "issuer"
ctl show identity | grep -q "^key: *$spki" || fail "human identity"

[ "$(stat -c %a "$T/state/identity")" = 700 ] || fail "identity dir mode"
[ "$(stat -c %a "$T/state/identity/key.pem")" = 600 ] || fail "key mode"
[ "$(stat -c %a "$T/state/identity/state.json")" = 600 ] ||
    fail "state mode"
ls -A "$T/state/identity" | grep -q '^\.' && fail "temporary file left"
no_token_anywhere "$tok"
no_token_anywhere dev-sensor-token
grep -q "sync: signed the TLS handshake of connection" "$T/log" ||
    fail "signature not logged"

# Restart: the identity is reused, nothing enrolls again.
kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: check-in accepted" 20 "$T/log"
[ "$(grep -c '^enrolled ' "$T/peer.log")" -eq 1 ] || fail "enrolled twice"
[ "$(grep -c 'check-in ok .*auth=certificate' "$T/peer.log")" -eq 2 ] ||
    fail "no check-in after the restart"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "key changed"

# Two more check-ins ride the kept-alive connection: one handshake, one
# signature.
ctl check-in >/dev/null || fail "kobanctl check-in"
ctl check-in >/dev/null || fail "kobanctl check-in"
c2=$(sed -n 's/^check-in ok .*conn=//p' "$T/peer.log" | sed -n 2p)
c3=$(sed -n 's/^check-in ok .*conn=//p' "$T/peer.log" | sed -n 3p)
c4=$(sed -n 's/^check-in ok .*conn=//p' "$T/peer.log" | sed -n 4p)
[ -n "$c4" ] || fail "check-ins missing"
[ "$c2" = "$c3" ] && [ "$c3" = "$c4" ] ||
    fail "connection not reused ($c2 $c3 $c4)"
[ "$(grep -c 'sync: signed the TLS handshake' "$T/log")" -eq 1 ] ||
    fail "more than one signature for one connection"
grep -q 'token-header=present' "$T/peer.log" &&
    fail "the sensor token travelled with the certificate"
no_token_anywhere "$tok"
echo ok
