# A Fleet whose certificate comes from a CA the agent was not given: the
# handshake fails verification, nothing is sent, the agent keeps running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start unknown
fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
enroll_fails "$tok" "TLS error: .*certificate verif"
grep -q '^enroll' "$T/peer.log" && fail "the request reached the server"
[ "$(identity .enrollment)" = retrying ] || fail "not scheduled for retry"
not_enrolled "$tok"
echo ok
