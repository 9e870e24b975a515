# A token used once cannot enroll again: the second "kobanctl enroll"
# fails with the server's refusal, the identity from the first stays,
# and the token is stored nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server
fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
printf '%s\n' "$tok" | ctl enroll >"$T/enroll.out" 2>&1 ||
    fail "first enrollment: $(cat "$T/enroll.out")"
grep -q "enrolled: tenant tenant-test, device device-1" "$T/enroll.out" ||
    fail "kobanctl said: $(cat "$T/enroll.out")"
enroll_fails "$tok" "refused the enrollment token (HTTP 401)"
grep -q "enroll refused: reused token" "$T/peer.log" ||
    fail "the peer did not see a reuse"
[ "$(identity .enrolled)" = true ] || fail "the first identity was lost"
[ "$(identity .deviceId)" = device-1 ] || fail "device changed"
no_token_anywhere "$tok"
echo ok
