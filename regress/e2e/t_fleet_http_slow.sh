# A server that trickles its answer a byte a second: the request's
# 30-second deadline ends it, and the agent carries on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server -m slow
fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
t0=$(date +%s)
enroll_fails "$tok" "timeout error: timed out waiting for the response"
t1=$(date +%s)
[ $((t1 - t0)) -ge 28 ] && [ $((t1 - t0)) -le 45 ] ||
    fail "gave up after $((t1 - t0)) s, not about 30"
not_enrolled "$tok"
echo ok
