# kobanctl fails loudly and in bounded time when the daemon misbehaves.
. "$(dirname "$0")/lib.sh"

PEER=$B/regress/ctl_peer
S=$T/peer.sock

# Start the fake daemon in mode $1 and wait until it listens.
start_peer() {
	rm -f "$T/peer.out" "$S"
	"$PEER" "$1" "$S" >"$T/peer.out" &
	pp=$!
	i=0
	until grep -q ready "$T/peer.out" 2>/dev/null; do
		[ $i -lt 100 ] || fail "ctl_peer did not start"
		sleep 0.05
		i=$((i + 1))
	done
}

# No daemon at all.
out=$("$KOBANCTL" -s "$T/none.sock" show status 2>&1)
[ $? -eq 1 ] || fail "missing socket did not exit 1"
case "$out" in *"is kobangd running"*) ;; *) fail "no hint: $out" ;; esac

# A daemon that never answers: the timeout fires.
start_peer silent
start=$(date +%s)
out=$("$KOBANCTL" -t 1 -s "$S" show status 2>&1)
rc=$?
end=$(date +%s)
kill $pp 2>/dev/null; wait $pp 2>/dev/null
[ $rc -eq 1 ] || fail "silent peer: exit $rc"
[ $((end - start)) -le 3 ] || fail "silent peer: took $((end - start)) s"
case "$out" in *"no reply"*) ;; *) fail "silent peer: $out" ;; esac

# A daemon that hangs up: EOF is an error, not an empty answer.
start_peer close
out=$("$KOBANCTL" -s "$S" show status 2>&1)
rc=$?
kill $pp 2>/dev/null; wait $pp 2>/dev/null
[ $rc -eq 1 ] || fail "closing peer: exit $rc"
case "$out" in *"closed the connection"*) ;; *) fail "closing peer: $out" ;; esac

# A reply of the wrong size is refused.
start_peer short
out=$("$KOBANCTL" -s "$S" show status 2>&1)
rc=$?
kill $pp 2>/dev/null; wait $pp 2>/dev/null
[ $rc -eq 1 ] || fail "short reply: exit $rc"
case "$out" in *"something else"*|*"malformed"*) ;; *) fail "short reply: $out" ;; esac

echo ok
