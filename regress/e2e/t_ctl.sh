# kobanctl fails loudly and in bounded time when the daemon misbehaves.
. "$(dirname "$0")/lib.sh"

PEER=$B/regress/ctl_peer
S=$T/peer.sock

# No daemon at all.
out=$("$KOBANCTL" -s "$T/none.sock" show status 2>&1)
[ $? -eq 1 ] || fail "missing socket did not exit 1"
case "$out" in *"is kobangd running"*) ;; *) fail "no hint: $out" ;; esac

# A daemon that never answers: the timeout fires.
"$PEER" silent "$S" >"$T/peer.out" &
pp=$!
while ! grep -q ready "$T/peer.out" 2>/dev/null; do sleep 0.05; done
start=$(date +%s)
out=$("$KOBANCTL" -t 1 -s "$S" show status 2>&1)
rc=$?
end=$(date +%s)
kill $pp 2>/dev/null; wait $pp 2>/dev/null
[ $rc -eq 1 ] || fail "silent peer: exit $rc"
[ $((end - start)) -le 3 ] || fail "silent peer: took $((end - start)) s"
case "$out" in *"no reply"*) ;; *) fail "silent peer: $out" ;; esac

# A daemon that hangs up: EOF is an error, not an empty answer.
"$PEER" close "$S" >"$T/peer.out" &
pp=$!
while ! grep -q ready "$T/peer.out" 2>/dev/null; do sleep 0.05; done
out=$("$KOBANCTL" -s "$S" show status 2>&1)
rc=$?
wait $pp 2>/dev/null
[ $rc -eq 1 ] || fail "closing peer: exit $rc"
case "$out" in *"closed the connection"*) ;; *) fail "closing peer: $out" ;; esac

# A reply of the wrong size is refused.
"$PEER" short "$S" >"$T/peer.out" &
pp=$!
while ! grep -q ready "$T/peer.out" 2>/dev/null; do sleep 0.05; done
out=$("$KOBANCTL" -s "$S" show status 2>&1)
rc=$?
kill $pp 2>/dev/null; wait $pp 2>/dev/null
[ $rc -eq 1 ] || fail "short reply: exit $rc"
case "$out" in *"something else"*|*"malformed"*) ;; *) fail "short reply: $out" ;; esac

echo ok
