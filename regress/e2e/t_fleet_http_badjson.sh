# A 200 answer whose body is not JSON: refused by the strict decoder in
# the network child, nothing stored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server -m badjson
fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
enroll_fails "$tok" "response error: invalid JSON"
not_enrolled "$tok"
echo ok
