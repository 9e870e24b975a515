# An expired enrollment token from the configuration: the server refuses
# it, the agent says so clearly, keeps running, does not retry it, and
# the token appears nowhere under the state directory or in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token -60)
fleet_start server
fleet_conf "https://127.0.0.1:$PORT" "  enrollmentToken: $tok"
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "enroll refused: expired token"
i=0
while [ "$(identity .enrollment)" != refused ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(identity .enrollment)" = refused ] || fail "state $(identity .enrollment)"
identity .error | grep -q "refused the enrollment token (HTTP 401)" ||
    fail "error: $(identity .error)"
grep -q "sync: enrollment failed: the server refused the enrollment token" \
    "$T/log" || fail "no clear message in the log"
ctl show status >/dev/null || fail "the daemon stopped answering"
not_enrolled "$tok"
# Refused means refused: no second attempt with the same token.
sleep 2
[ "$(grep -c '^enroll refused' "$T/peer.log")" -eq 1 ] ||
    fail "the refused token was tried again"
echo ok
