# A busy Fleet (503 with Retry-After: 120): the failure is reported and
# the next attempt waits at least as long as the server asked, although
# the configured backoff would come back sooner.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server -m busy
fleet_conf "https://127.0.0.1:$PORT"
sed -i 's/retryBaseSeconds: 60/retryBaseSeconds: 1/' "$T/kobangd.yaml"
start_daemon -f "$T/kobangd.yaml"
wait_ready
enroll_fails "$tok" "HTTP status 503 (next attempt in 1[12][0-9] s)"
[ "$(identity .enrollment)" = retrying ] || fail "not retrying"
r=$(identity .retryIn)
[ "$r" -ge 115 ] && [ "$r" -le 120 ] || fail "retry in $r s"
not_enrolled "$tok"
echo ok
