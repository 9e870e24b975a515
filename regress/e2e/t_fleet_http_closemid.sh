# The server closes the connection in the middle of the response body:
# an HTTP error, nothing stored, the agent keeps running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server -m closemid
fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
enroll_fails "$tok" "HTTP error: connection closed mid-response"
wait_for "fault closemid sent"
not_enrolled "$tok"
echo ok
