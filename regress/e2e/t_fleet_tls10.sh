# A server that speaks TLS 1.0 only (openssl s_server at security level
# 0, with a certificate the agent would otherwise trust): the agent,
# TLS 1.2 at least, refuses it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
openssl s_server -accept 127.0.0.1:0 -cert "$PKI/server.pem" \
    -key "$PKI/server.key" -tls1 -cipher 'DEFAULT:@SECLEVEL=0' -www \
    >"$T/peer.log" 2>&1 </dev/null &
PEER=$!
i=0
while [ -z "$PORT" ] && [ $i -lt 50 ]; do
	PORT=$(sed -n 's/^ACCEPT 127.0.0.1://p' "$T/peer.log")
	sleep 0.1
	i=$((i + 1))
done
[ -n "$PORT" ] || fail "s_server did not start"
# The server really does TLS 1.0 with a client that allows it.
echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1 \
    -cipher 'DEFAULT:@SECLEVEL=0' -CAfile "$PKI/ca.pem" 2>/dev/null |
    grep -q 'Protocol *: TLSv1$' || fail "s_server does not speak TLS 1.0"

fleet_conf "https://127.0.0.1:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
enroll_fails "$tok" "TLS error: "
identity .error | grep -qi "version\|protocol" ||
    fail "the error does not name the protocol: $(identity .error)"
not_enrolled "$tok"
echo ok
