#!/bin/sh
# Crash test (issue #7).  An enrolled daemon syncs to the test peer
# while a driver keeps changing a user's lockfiles (every scan commits
# inventory events; new packages also raise findings) and a killer
# SIGKILLs, at random moments, the parent or one of net, scan and dns,
# CRASH_KILLS times (default 200; `make crash` runs more), restarting
# the daemon whenever the parent died.  Then the changes stop, the
# daemon drains its outbox, and every event the database ever committed
# must be held by the peer exactly once, with the event id and the
# local sequence the database gave it.
#
# CRASH_KEEP=dir copies the scratch directory there at the end.
# CRASH_SEED replays the kill schedule (targets and pauses; the timing
# of the processes themselves cannot be replayed).  Each event the store
# commits is an outbox row that is never deleted (PROTOCOL.md 8.3, 9.2:
# acked rows are kept) and sequences are gapless per device, so the
# final outbox, read with outbox_dump, is the record of every commit.
#
# A child killed twice within a minute is restarted after 2, 4, ... s
# (privsep/proc.c), so each child is killed at most once per life of
# the parent, which then comes back after 1 s; the parent itself is
# killed often enough that the daemon restarts many times.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

# Users of its own: the daemon reads the password database again at
# every start, and other tests move kobtest1/2's homes while they run.
U1=kobcrash1
U2=kobcrash2
H1=$T/home/$U1
H2=$T/home/$U2
# The binaries are started a hundred times: copies, so that a rebuild
# in the shared build directory meanwhile cannot fail an exec (the child
# images too: kobangd runs those beside itself).
mkdir -p "$T/bin"
cp "$KOBANGD" "$B"/kobangd-net "$B"/kobangd-scan "$B"/kobangd-dns \
    "$KOBANCTL" "$B/regress/outbox_dump" "$T/bin/" ||
    fail "cannot copy the binaries"
KOBANGD=$T/bin/kobangd
KOBANCTL=$T/bin/kobanctl
OUTBOX_DUMP=$T/bin/outbox_dump
KILLS=${CRASH_KILLS:-200}
SEED=${CRASH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "CRASH_SEED=$SEED CRASH_KILLS=$KILLS"
DRIVER=

crash_cleanup() {
	if [ -n "$DRIVER" ]; then
		kill "$DRIVER" 2>/dev/null
		wait "$DRIVER" 2>/dev/null
	fi
	# CRASH_KEEP=dir: keep logs, dumps and database for a post-mortem.
	[ -n "${CRASH_KEEP:-}" ] && cp -a "$T" "$CRASH_KEEP"
	fleet_cleanup
}
trap crash_cleanup EXIT

make_users
fleet_pki
tok=$(fleet_token 600)
fleet_start server -o "$T/held.tsv"
printf '%s\n' "$tok" >"$T/token"
chmod 600 "$T/token"

cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  controlSocket: $SOCK
  fleetCAFile: $PKI/ca.pem
  enrollmentTokenFile: $T/token
  users: [$U1]
watch:
  debounceMilliseconds: 50
  projectRoots: ["~/src"]
sync:
  enabled: true
  endpoint: https://localhost:$PORT
  checkInIntervalSeconds: 1
  retryBaseSeconds: 1
  retryMaxSeconds: 2
YAML
chmod 600 "$T/kobangd.yaml"

# Every life of the daemon appends to one log.
start_kd() {
	"$KOBANGD" -d -v -s "$SOCK" -f "$T/kobangd.yaml" </dev/null \
	    >>"$T/log" 2>&1 &
	DPID=$!
	starts=$((starts + 1))
}

# Lockfile of project $1 at step $2: five dependencies whose versions
# move with the step, and every seventh step a new package that stays
# for 35 steps (added, with the new-package finding, then removed).
lockfile() {
	{
		printf '{"name": "%s", "lockfileVersion": 3, ' "$1"
		printf '"requires": true, "packages": {\n'
		printf ' "": {"name": "%s", "version": "1.0.0"}' "$1"
		for d in 0 1 2 3 4; do
			printf ',\n "node_modules/dep%s-%s": ' "$d" "$1"
			printf '{"version": "1.%d.%d"}' $(($2 / (d + 1))) "$d"
		done
		k=$(($2 - $2 % 7))
		while [ $k -ge 0 ] && [ $k -gt $(($2 - 35)) ]; do
			printf ',\n "node_modules/new%s-%s": ' "$k" "$1"
			printf '{"version": "0.0.%d"}' "$k"
			k=$((k - 7))
		done
		printf '}}\n'
	}
}

# One project's lockfile replaced whole (rename), owned by the user.
write_step() {
	lockfile "p$1" "$2" >"$H1/src/p$1/.lock.tmp"
	chown $U1:$U1 "$H1/src/p$1/.lock.tmp"
	mv "$H1/src/p$1/.lock.tmp" "$H1/src/p$1/package-lock.json"
}

mkdir -p "$H1/src/p0" "$H1/src/p1"
own_homes
write_step 0 0
write_step 1 0
starts=0
start_kd
wait_ready
wait_for "check-in ok .*auth=certificate" 20
wait_scans javascriptPackages 0 20

# The driver: a change every 80 ms, alternating projects, until told
# to stop.
(
	i=1
	while [ ! -e "$T/stop" ]; do
		write_step $((i % 2)) "$i"
		i=$((i + 1))
		sleep 0.08
	done
	echo "$i" >"$T/steps"
) &
DRIVER=$!

# The schedule: one line per kill, a number for the target and a pause
# in milliseconds (0-300).
awk -v seed="$SEED" -v n="$KILLS" 'BEGIN {
	srand(seed)
	for (i = 0; i < n; i++)
		printf "%d %d\n", int(rand() * 1000), int(rand() * 301)
}' >"$T/schedule"

# The running children of the parent: "name pid" lines.
children() {
	for p in $(cat "/proc/$DPID/task/$DPID/children" 2>/dev/null); do
		n=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" |
		    sed -n 's/.* -P \([a-z]*\) .*/\1/p')
		[ -n "$n" ] && echo "$n $p"
	done
}

t0=$(date +%s)
kills=0
pkills=0
ckills=0
killed=" "		# children killed in this life of the parent
while read -r r pause; do
	sleep "$(printf '0.%03d' "$pause")"
	kill -0 "$DPID" 2>/dev/null || {
		wait "$DPID"
		fail "kobangd exited by itself (status $?) after $kills kills"
	}
	# Children not yet killed in this life are candidates; the parent
	# is one in three (and the only one when no child is).
	children | while read -r n p; do
		case "$killed" in *" $n "*) continue ;; esac
		echo "$n $p"
	done >"$T/cand"
	nc=$(wc -l <"$T/cand")
	if [ "$nc" -eq 0 ] || [ $((r % 3)) -eq 0 ]; then
		kill -9 "$DPID"
		wait "$DPID" 2>/dev/null
		pkills=$((pkills + 1))
		killed=" "
		start_kd
	else
		set -- $(sed -n "$((r / 3 % nc + 1))p" "$T/cand")
		kill -9 "$2" 2>/dev/null
		killed="$killed$1 "
		ckills=$((ckills + 1))
	fi
	kills=$((kills + 1))
done <"$T/schedule"
t1=$(date +%s)
: >"$T/stop"
wait "$DRIVER"
DRIVER=
echo "$kills kills ($pkills parent, $ckills child) in $((t1 - t0)) s," \
    "$starts starts, $(cat "$T/steps") changes"
[ "$kills" -eq "$KILLS" ] || fail "$kills kills, not $KILLS"

# The last life goes on undisturbed (a child killed in it is back
# within a second): the last files scanned, then the outbox drained.
wait_ready
m=$(scans_of javascriptPackages)
ctl scan >/dev/null || fail "kobanctl scan"
wait_scans javascriptPackages "$m" 30
i=0
while :; do
	ctl -j show sync >"$T/sync.json" || fail "show sync"
	[ "$(jq '.outbox.backlogEvents + .outbox.inFlight' "$T/sync.json")" \
	    -eq 0 ] && break
	[ $i -lt 300 ] || fail "the outbox did not drain: $(ctl show sync)"
	ctl sync >/dev/null 2>&1
	sleep 0.2
	i=$((i + 1))
done
# Far under sync.outboxMaxBytes: nothing may have been dropped or pruned.
[ "$(jq '.outbox.poison + .outbox.dropped + (.outbox.prunedAcked // 0)' \
    "$T/sync.json")" -eq 0 ] ||
    fail "events poisoned, dropped or pruned: $(ctl show sync)"
ctl -j show inventory | jq -r '.[].id' | sort >"$T/inventory.txt"
kill "$DPID"
wait "$DPID" || fail "kobangd did not stop cleanly"
DPID=
t2=$(date +%s)

# What the database committed: every outbox row, payloads decoded and
# hashed again (outbox_dump fails otherwise), all acked.
"$OUTBOX_DUMP" "$T/state" >"$T/outbox.json" 2>"$T/outbox.err" ||
    fail "outbox_dump: $(head -5 "$T/outbox.err")"
jq -r '[.seq, .eventId, .state] | @tsv' "$T/outbox.json" | sort -n \
    >"$T/db.tsv"
n=$(wc -l <"$T/db.tsv")
[ "$n" -gt 0 ] || fail "no events committed"
[ "$(awk -F '\t' '$3 != "acked"' "$T/db.tsv" | wc -l)" -eq 0 ] ||
    fail "rows not acked: $(awk -F '\t' '$3 != "acked"' "$T/db.tsv" |
    head -5)"
# Gapless, from 1: no commit was lost from the record itself.
awk -F '\t' '$1 != NR { print "sequence " NR " missing"; exit 1 }' \
    "$T/db.tsv" || fail "the outbox has a gap"
[ "$(cut -f2 "$T/db.tsv" | sort -u | wc -l)" -eq "$n" ] ||
    fail "one event id on two rows"
[ "$(jq -s '[.[] | select(.isFinding)] | length' "$T/outbox.json")" -gt 0 ] ||
    fail "no findings in the stream"

# What the peer holds: each event once by id; the same (sequence, id)
# pairs as the database, so no event was lost, none held twice, and no
# re-sent event came with a new identity.
cut -f2,3 "$T/held.tsv" | sort -n >"$T/peer.tsv"
cut -f1,2 "$T/db.tsv" | diff -u - "$T/peer.tsv" >"$T/diff" ||
    fail "the peer does not hold what the database committed: \
$(head -20 "$T/diff")"
[ "$(cut -f2 "$T/peer.tsv" | sort -u | wc -l)" -eq "$n" ] ||
    fail "an event id held twice"
bad="came back changed\|came with a new event id\|rejected:\|refused"
! grep -q "$bad" "$T/peer.log" ||
    fail "the peer saw: $(grep "$bad" "$T/peer.log" | head -5)"

# Replayed in sequence order, the peer's inventory events are each
# possible (nothing added twice, nothing removed or modified that is
# not there) and end where the daemon's inventory is: no change was
# committed twice or lost between the snapshot and the outbox.
awk -F '\t' -v out="$T/replay.txt" '$1 == "item" {
	if ($5 == "added") {
		if ($6 in s) { print "seq " $2 ": " $6 " added twice"; bad = 1 }
		s[$6] = 1
	} else if (!($6 in s)) {
		print "seq " $2 ": " $6 " " $5 " but absent"; bad = 1
	} else if ($5 == "removed")
		delete s[$6]
} END { for (i in s) print i >out; exit bad }' "$T/held.tsv" \
    >"$T/replay.err" || fail "replay: $(head -5 "$T/replay.err")"
sort -o "$T/replay.txt" "$T/replay.txt"
cmp -s "$T/replay.txt" "$T/inventory.txt" || fail "the replayed events \
differ from the inventory: $(diff "$T/replay.txt" "$T/inventory.txt" |
    head -10)"

# Nothing in the logs of any life says the database failed.
! grep -i "database is locked\|moved aside\|quick_check\|malformed\|\
rollback failed\|cannot record\|cannot reschedule" "$T/log" >"$T/bad" ||
    fail "the daemon logged: $(head -5 "$T/bad")"
ls "$T/state" | grep -q corrupt && fail "a database was moved aside"

dup=$(sed -n 's/^sync ok .* duplicate=\([0-9]*\) .*/\1/p' "$T/peer.log" |
    awk '{ s += $1 } END { print s + 0 }')
syncs=$(grep -c '^sync ok' "$T/peer.log")
echo "$n events ($(jq -s '[.[] | select(.isFinding)] | length' \
    "$T/outbox.json") findings), $syncs syncs, $dup re-sent duplicates;" \
    "drained in $((t2 - t1)) s"
echo ok
