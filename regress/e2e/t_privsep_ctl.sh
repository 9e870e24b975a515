# Local users hammering the control socket cannot lock root out: one
# user's 64 idle connections, seven more users holding 8 each after
# their hello, and a control-group member piling up requests it never
# reads.  Root's "show status" must answer within a second throughout;
# connections without a hello are closed at the hello deadline (5 s),
# and the unread replies do not grow the parent.  Users kobatk1..8 and
# group kobatkg are made here and removed on exit.
. "$(dirname "$0")/lib.sh"

FLOOD=$B/regress/ctl_flood
USERS="kobatk1 kobatk2 kobatk3 kobatk4 kobatk5 kobatk6 kobatk7 kobatk8"
FPIDS=

ctl_cleanup() {
	for p in $FPIDS; do
		kill "$p" 2>/dev/null
	done
	for u in $USERS; do
		userdel "$u" 2>/dev/null
	done
	groupdel kobatkg 2>/dev/null
	cleanup
}
trap ctl_cleanup EXIT

[ -x "$FLOOD" ] || fail "$FLOOD not built"
command -v setpriv >/dev/null || fail "setpriv missing (util-linux)"
for u in $USERS; do
	userdel "$u" 2>/dev/null
done
groupdel kobatkg 2>/dev/null
groupadd kobatkg || fail "groupadd kobatkg"
for u in $USERS; do
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group "$u" || fail "useradd $u"
done
usermod -a -G kobatkg kobatk8 || fail "usermod"

cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  controlGroup: kobatkg
  users: []
YAML
chmod 600 "$T/kobangd.yaml"
start_daemon -f "$T/kobangd.yaml"
wait_ready

# As user $1, in the background: ctl_flood with the rest.
flood() {
	u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups "$FLOOD" "$@" \
	    "$SOCK" >"$T/flood.$u" 2>&1 &
	FPIDS="$FPIDS $!"
}

# Root's show status, timed; fails the test beyond 1000 ms.
root_status() {
	t0=$(date +%s%N)
	ctl -t 3 show status >"$T/status.out" 2>&1 ||
	    fail "root's show status failed ($1): $(cat "$T/status.out")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	grep -q '^parent ' "$T/status.out" || fail "no status ($1)"
	echo "root show status ($1): $ms ms"
	[ "$ms" -lt 1000 ] || fail "root's show status took $ms ms ($1)"
}

connected() {
	i=0
	while ! grep -q '^connected' "$T/flood.$1" 2>/dev/null; do
		[ $i -lt 50 ] || fail "ctl_flood as $1 did not connect: \
$(cat "$T/flood.$1" 2>/dev/null)"
		sleep 0.1
		i=$((i + 1))
	done
}

# 1. Slots: 64 idle connections from one user, which leave room for
# another; then 8 each from seven more that say hello and then nothing
# (the non-root slots all taken, root's still free).
flood kobatk1 idle 64 8
connected kobatk1
grep -q '^connected [1-9]' "$T/flood.kobatk1" ||
    fail "kobatk1 got no connection at all"
# One user's flood leaves room for the others: a member of the control
# group still gets its status.
setpriv --reuid=kobatk8 --regid=kobatk8 --init-groups "$KOBANCTL" \
    -s "$SOCK" -t 3 show status >"$T/member.out" 2>&1 ||
    fail "kobatk8 was locked out by kobatk1: $(cat "$T/member.out")"
grep -q '^parent ' "$T/member.out" || fail "kobatk8: no status"
for u in kobatk2 kobatk3 kobatk4 kobatk5 kobatk6 kobatk7 kobatk8; do
	flood "$u" hello 8 8
done
for u in $USERS; do
	connected "$u"
done
sleep 0.5
root_status "under the flood"
sleep 5.5
root_status "after the hello deadline"
for p in $FPIDS; do
	wait "$p"
done
FPIDS=
set -- $(sed -n 's/^made //p' "$T/flood.kobatk1")
[ $# -eq 5 ] || fail "ctl_flood kobatk1: $(cat "$T/flood.kobatk1")"
echo "kobatk1: $1 idle connections made, $3 closed by the daemon"
[ "$3" -eq "$1" ] ||
    fail "only $3 of kobatk1's $1 idle connections were closed"

# 3 (runs meanwhile). Idle after the hello: closed after 30 s.
setpriv --reuid=kobatk2 --regid=kobatk2 --init-groups "$FLOOD" hello 2 33 \
    "$SOCK" >"$T/flood.idle" 2>&1 &
IDLE=$!
FPIDS=$IDLE

# 2. Replies nobody reads: the parent reads no more requests meanwhile,
# so it does not grow.
rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$DPID"/status
}
before=$(rss)
flood kobatk8 unread 4 5
connected kobatk8
sleep 1
root_status "while replies pile up"
wait "${FPIDS##* }"
after=$(rss)
set -- $(sed -n 's/^made //p' "$T/flood.kobatk8")
[ $# -eq 5 ] || fail "ctl_flood kobatk8: $(cat "$T/flood.kobatk8")"
echo "kobatk8: $5 requests sent unread; parent RSS $before kB -> $after kB"
[ "$5" -gt 0 ] || fail "no request was sent"
[ $((after - before)) -lt 8192 ] ||
    fail "the parent grew by $((after - before)) kB on unread replies"
kill -0 "$DPID" || fail "kobangd died"

wait "$IDLE"
FPIDS=
set -- $(sed -n 's/^made //p' "$T/flood.idle")
[ $# -eq 5 ] && [ "$1" -gt 0 ] ||
    fail "ctl_flood kobatk2: $(cat "$T/flood.idle")"
echo "kobatk2: $1 connections idle after their hello, $3 closed in 33 s"
[ "$3" -eq "$1" ] || fail "only $3 of $1 idle connections were closed"
echo ok
