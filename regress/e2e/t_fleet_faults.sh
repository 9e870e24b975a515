#!/bin/sh
# The Fleet peer's fault modes against an enrolled daemon with events
# to send, one fault per change of a lockfile:
#  - 429 with Retry-After: N seconds, then as an HTTP date: the batch is
#    not sent again before N seconds (1 less for the date's whole
#    seconds), even when forced with kobanctl sync;
#  - a 200 answer leaving every event open with retryAfterSeconds N:
#    the events come again no sooner than N seconds later (and no
#    later than retryMaxSeconds when N is above it);
#  - a TCP reset mid-response and a response that never ends (the
#    daemon gives up after its request timeout): a failed round, a later
#    retry, the events held once, nothing lost;
#  - rejected events: poison, never sent again, counted and explained by
#    show sync, while the others are delivered;
#  - reduced batch limits in an answer: every later batch within them.
# Intervals come from the peer's monotonic request times.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"
. "$(dirname "$0")/fleet.sh"

make_users
fleet_pki
fleet_token_file
fleet_start server -o "$T/held.tsv" -M "$T/mode"

fleet_sync_conf <<YAML
  checkInIntervalSeconds: 3600
  retryBaseSeconds: 1
  retryMaxSeconds: 8
YAML

# Lockfile $1 (a project under ~/src) with $2 packages at version $3,
# scanned before returning.
outbox_total() {
	ctl -j show sync | jq '.outbox | .acked + .backlogEvents + .poison'
}

change() {
	o=$(outbox_total)
	mkdir -p "$H1/src/$1"
	fleet_lock_n "$2" "$3" >"$T/lock.tmp"
	own_homes
	chown $U1:$U1 "$T/lock.tmp"
	mv "$T/lock.tmp" "$H1/src/$1/package-lock.json"
	m=$(scans_of javascriptPackages)
	ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
	wait_scans javascriptPackages "$m"
	# A scan the watcher started before the move may have ended first
	# and taken the move's notice with it: ask again.
	i=0
	while [ "$(outbox_total)" -eq "$o" ]; do
		[ $i -lt 50 ] || fail "the change queued nothing"
		[ $((i % 10)) -eq 9 ] && ctl scan javascriptPackages >/dev/null
		sleep 0.2
		i=$((i + 1))
	done
}

drain() {
	i=0
	while [ "$(fleet_backlog)" -ne 0 ]; do
		[ $i -lt 60 ] || fail "the outbox did not drain: $(ctl show sync)"
		ctl sync >/dev/null 2>&1 || sleep 0.5
		i=$((i + 1))
	done
}

# Every event the peer holds once; every acked row is one it holds.
check_held() {
	n=$(wc -l <"$T/held.tsv")
	[ "$(cut -f3 "$T/held.tsv" | sort -u | wc -l)" -eq "$n" ] ||
	    fail "an event id held twice"
	[ "$(cut -f2 "$T/held.tsv" | sort -u | wc -l)" -eq "$n" ] ||
	    fail "a sequence held twice"
	s=$(ctl -j show sync)
	[ "$(echo "$s" | jq '.outbox.acked')" -eq "$n" ] ||
	    fail "acked rows and held events differ: $s"
	[ "$(echo "$s" | jq '.outbox.backlogEvents')" -eq 0 ] ||
	    fail "backlog left: $s"
}

# The sync requests since line $1 of the peer log, as "t events new dup
# mode first last" (the first word of the peer's mode for it, the
# batch's first and last local sequence).
syncs_since() {
	sed -n "$(($1 + 1)),\$p" "$T/peer.log" | awk '
	    /^request t=[0-9]* route=sync / {
		split($2, a, "="); t = a[2]
		m = substr($0, index($0, " mode=") + 6); sub(/ .*/, "", m)
	    }
	    /^sync ok / {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		split(v["seqs"], q, "-")
		print t, v["events"], v["new"], v["duplicate"], m, q[1], q[2]
	    }'
}

# The time (ms) of the first sync request after line $1 answered without
# a fault that carries local sequence $3, waiting up to $2 seconds.
next_sync_t() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		r=$(syncs_since "$1" | awk -v s="$3" '$5 == "none" &&
		    $6 <= s && s <= $7' | head -1)
		[ -n "$r" ] && { echo "${r%% *}"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	fail "sequence $3 not sent again within $2 s"
}

lines() {
	wc -l <"$T/peer.log"
}

own_homes
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 20
change a 3 1.0.0
drain
check_held

# 429 + Retry-After: N, as seconds and as an HTTP date.  The failed
# request's time is the last sync request logged; kobanctl sync keeps
# pushing while the rows wait, which must not bring them sooner.
retry_after_429() {	# mode, least interval in ms
	change a 3 "$3"
	echo "$1" >"$T/mode"
	l=$(lines)
	ctl sync >/dev/null 2>&1 && fail "$1: a 429 counted as a sync"
	grep -q "fault ${1%% *} sent" "$T/peer.log" || fail "$1: no fault"
	set -- "$1" "$2" "$3" $(syncs_since "$l" | tail -1)
	t1=$4 seq=$9
	rm -f "$T/mode"
	ctl -j show sync | jq -e '(.lastSync.ok | not) and
	    .outbox.pending > 0' >/dev/null || fail "$1: $(ctl show sync)"
	i=0
	while [ $i -lt 6 ]; do
		ctl sync >/dev/null 2>&1
		sleep 0.5
		i=$((i + 1))
	done
	t2=$(next_sync_t "$l" 15 "$seq")
	[ $((t2 - t1)) -ge "$2" ] ||
	    fail "$1: sent again after $((t2 - t1)) ms"
	[ $((t2 - t1)) -le $(($2 + 6000)) ] ||
	    fail "$1: sent again only after $((t2 - t1)) ms"
	drain
	check_held
	echo "$1: sent again after $((t2 - t1)) ms"
}
retry_after_429 "r429 3" 3000 1.0.1
retry_after_429 "r429date 4" 3000 1.0.2

# retryAfterSeconds in a 200 answer that took nothing; above
# retryMaxSeconds (8) it is cut to that.
retry_after_200() {	# seconds asked, least and most interval in ms, version
	change a 3 "$4"
	echo "retryafter $1" >"$T/mode"
	l=$(lines)
	ctl sync >/dev/null 2>&1 ||
	    fail "retryafter $1: an answer with open events is a sync"
	grep -q "fault retryafter $1: [1-9][0-9]* events left open" \
	    "$T/peer.log" || fail "retryafter $1: no fault"
	set -- "$1" "$2" "$3" $(syncs_since "$l" | tail -1)
	t1=$4 seq=$9
	rm -f "$T/mode"
	ctl -j show sync | jq -e '.lastSync.ok and .outbox.pending > 0' \
	    >/dev/null || fail "retryafter $1: $(ctl show sync)"
	ctl show sync | grep -q "server asked to wait" ||
	    fail "retryafter $1: not reported"
	i=0
	while [ $i -lt 4 ]; do
		ctl sync >/dev/null 2>&1
		sleep 0.5
		i=$((i + 1))
	done
	t2=$(next_sync_t "$l" 20 "$seq")
	[ $((t2 - t1)) -ge "$2" ] && [ $((t2 - t1)) -le "$3" ] ||
	    fail "retryAfterSeconds $1: sent again after $((t2 - t1)) ms"
	drain
	check_held
	echo "retryafter $1: sent again after $((t2 - t1)) ms"
}
retry_after_200 3 3000 9000 1.0.3
retry_after_200 100 8000 14000 1.0.31

# A reset mid-response and a response that never ends: the peer took
# the batch, the daemon could not know; the retry is acknowledged as
# duplicates and the peer holds each event once.
broken() {	# mode, version
	change a 3 "$2"
	echo "$1" >"$T/mode"
	l=$(lines)
	ctl sync >/dev/null 2>&1 && fail "$1: a broken answer counted"
	# While the mode lasts, a retry fails the same way.
	ctl -j show sync | jq -e '(.lastSync.ok | not) and
	    .lastSync.failuresInARow >= 1 and .outbox.pending > 0 and
	    .outbox.inFlight == 0' >/dev/null ||
	    fail "$1: not a failed round: $(ctl show sync)"
	rm -f "$T/mode"
	wait_for "fault $1 " 60
	drain
	syncs_since "$l" | awk '$5 == "none" && $4 > 0 { d = 1 }
	    END { exit !d }' || fail "$1: the batch was not sent again"
	check_held
	grep -q "	added	.*	pkg-1	$2\$" "$T/held.tsv" || fail "$1: $2 lost"
}
broken reset 1.0.4
grep -q "sync: upload failed" "$T/log" || fail "no failure logged"
start=$(date +%s)
broken endless 1.0.5
echo "endless: failed and delivered after $(($(date +%s) - start)) s"

# Rejected events: poison, reported, never sent again.
change b 2 1.0.0
echo reject >"$T/mode"
ctl sync >/dev/null 2>&1 || fail "an answer with rejections is a sync"
rm -f "$T/mode"
wait_for "fault reject: [1-9]"
nrej=$(sed -n 's/^fault reject: \([0-9]*\) .*/\1/p' "$T/peer.log" | tail -1)
s=$(ctl -j show sync)
echo "$s" | jq -e --argjson n "$nrej" '.outbox.poison == $n and
    .outbox.backlogEvents == 0 and .lastSync.ok' >/dev/null ||
    fail "rejected events not quarantined ($nrej): $s"
echo "$s" | jq -e '.outbox.lastPoisonReason | test("rejected")' \
    >/dev/null || fail "no reason for the rejection: $s"
l=$(lines)
change a 3 1.0.6
drain
syncs_since "$l" | awk '$4 > 0 { exit 1 }' || fail "duplicates after reject"
sed -n "$((l + 1)),\$p" "$T/peer.log" | grep -q "rejected=[1-9]" &&
    fail "a rejected event came again"
[ "$(ctl -j show sync | jq '.outbox.poison')" -eq "$nrej" ] ||
    fail "poison count changed"

# Reduced limits: once an answer said 2 events, no batch carries more.
echo "limits 100000 2" >"$T/mode"
change a 3 1.0.7
drain
[ "$(ctl -j show sync | jq .maxBatchEvents)" -eq 2 ] ||
    fail "limits not in force: $(ctl show sync)"
l=$(lines)
change a 7 1.0.8
drain
rm -f "$T/mode"
syncs_since "$l" | awk '$2 > 2 { exit 1 } END { exit NR < 3 }' ||
    fail "batches above the limit of 2: $(syncs_since "$l")"
check_held
grep -q "^sync refused\|^sync event .* rejected\|^check-in refused" \
    "$T/peer.log" && fail "the peer refused a request"
no_token_anywhere "$tok"
echo ok
