# A Fleet certificate from the right CA for another host name: refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start wrongname
fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
enroll_fails "$tok" "TLS error: .*name .*127.0.0.1.* not present"
grep -q '^enroll' "$T/peer.log" && fail "the request reached the server"
not_enrolled "$tok"
echo ok
