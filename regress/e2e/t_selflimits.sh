# Self-limits (kobangd/selflimits.c, RESOURCE LIMITS in kobangd.8):
# every process's rlimits as the kernel shows them in /proc/PID/limits,
# the memory watch's figures in show status, a scan child over a tiny
# cap (-m scan=1) killed with a warning naming it, its size and the cap,
# restarted with a new pid and counted while net and dns go on, and a
# shutdown in the middle of a scan without a fatal message from a child.
. "$(dirname "$0")/lib.sh"

# kobtest4 belongs to this test alone: the other tests move the homes of
# kobtest1 and kobtest2.
U=kobtest4
H=$T/home/$U
test_user $U
mkdir -p "$H/src/big"
# A package-lock.json of about 8 MB: scanning it takes a while.
python3 "$(dirname "$0")/gen_lock.py" 40000 "$H/src/big/package-lock.json" ||
    fail "generator"
chown -R $U:$U "$H"
chmod 700 "$H"
cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U]
  stateDirectory: $T/state
  controlSocket: $SOCK
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
EOC
# Sync on, so that net and dns run (and are limited): wait_ready
# waits for them.
sync_idle_yaml >>"$T/kobangd.yaml"
SYNC=on
chmod 600 "$T/kobangd.yaml"

# 1. -m is checked before anything starts.
for bad in scan parent=5 scan=x scan=65537 scan=-1 nosuch=1 =1; do
	out=$("$KOBANGD" -d -s "$SOCK" -m "$bad" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "-m $bad: exit $rc ($out)"
	case "$out" in
	"kobangd: -m "*) ;;
	*) fail "-m $bad: $out" ;;
	esac
done
[ -e "$SOCK" ] && fail "a refused -m left a socket"

# soft and hard limit of resource $2 ("Max core file size") of pid $1
lim() {
	awk -v n="$2" 'index($0, n) == 1 {
	    s = substr($0, 27, 20); h = substr($0, 48, 20)
	    gsub(/ /, "", s); gsub(/ /, "", h); print s, h }' "/proc/$1/limits"
}
want_lim() {	# pid name resource value
	got=$(lim "$1" "$3")
	[ "$got" = "$4 $4" ] || fail "$2: $3 is '$got', expected $4 (soft and hard)"
}
status() {
	ctl -j show status >"$T/st.json" || fail "show status"
}
jproc() {	# name jq-path
	jq -r ".processes[] | select(.name == \"$1\") | $2" "$T/st.json"
}

# 2. Default caps but net's, raised: its address space follows (2 x cap).
#    Standard error through a pipe, as under a service manager, so that
#    the children's file size limit applies.
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/log" &
"$KOBANGD" -d -v -f "$T/kobangd.yaml" -s "$SOCK" -m net=200 \
    >"$T/fifo" 2>&1 &
DPID=$!
wait_ready

want_lim "$DPID" parent "Max core file size" 0
# The parent must fork its children and may use the memory it needs.
[ "$(lim "$DPID" "Max processes")" != "0 0" ] || fail "parent cannot fork"
want_lim "$DPID" parent "Max address space" unlimited
status
for name in net scan dns; do
	pid=$(jproc $name .pid)
	want_lim "$pid" $name "Max core file size" 0
	want_lim "$pid" $name "Max processes" 0
	want_lim "$pid" $name "Max file size" 0
done
want_lim "$(jproc net .pid)" net "Max open files" 32
want_lim "$(jproc scan .pid)" scan "Max open files" 64
want_lim "$(jproc dns .pid)" dns "Max open files" 32
want_lim "$(jproc net .pid)" net "Max address space" $((400 * 1048576))
want_lim "$(jproc scan .pid)" scan "Max address space" $((512 * 1048576))
want_lim "$(jproc dns .pid)" dns "Max address space" $((128 * 1048576))
# The child was handed the cap it sized itself by.
tr '\0' ' ' <"/proc/$(jproc net .pid)/cmdline" | grep -q -- "-m net=200 " ||
    fail "net was not handed its cap"
tr '\0' ' ' <"/proc/$(jproc scan .pid)/cmdline" | grep -q -- "-m" &&
    fail "scan was handed a cap nobody set"

# The watch's figures: caps, a first sample within 2 s, no restarts.
[ "$(jproc net .memory.capKB)" = 204800 ] || fail "net cap $(jproc net .memory.capKB)"
[ "$(jproc scan .memory.capKB)" = 262144 ] || fail "scan cap"
[ "$(jproc dns .memory.capKB)" = 32768 ] || fail "dns cap"
[ "$(jproc parent .memory.capKB)" = null ] || fail "the parent has a cap"
[ "$(jproc parent .memory.rssKB)" -gt 0 ] || fail "no parent RSS"
i=0
until status && [ "$(jq '[.processes[] | select(.memory.rssKB != null)] |
    length' "$T/st.json")" -eq 4 ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "no RSS sample of every child after 5 s"
	sleep 0.1
done
for name in net scan dns; do
	pid=$(jproc $name .pid)
	rss=$(jproc $name .memory.rssKB)
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
	[ "$rss" -gt 500 ] && [ "$rss" -le "$hwm" ] ||
	    fail "$name: RSS $rss kB, the kernel's peak $hwm kB"
	[ "$(jproc $name .memory.restarts)" = 0 ] || fail "$name restarted"
done
ctl show status >"$T/st.txt" || fail "show status"
head -n 5 "$T/st.txt" | grep -q "rss *memcap *memrestarts" ||
    fail "human header: $(head -n 5 "$T/st.txt")"
awk '$1 == "net"' "$T/st.txt" | grep -q " 200.0M *0$" ||
    fail "human net line: $(awk '$1 == "net"' "$T/st.txt")"
awk '$1 == "parent"' "$T/st.txt" | grep -q " - *-$" ||
    fail "human parent line: $(awk '$1 == "parent"' "$T/st.txt")"

# 3. Shutdown in the middle of a scan: the children leave quietly.
i=0
until [ "$(ctl -j show surfaces | jq -r '.[] |
    select(.surface == "javascriptPackages") | .items')" -ge 40000 ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "no baseline of the big lockfile"
	sleep 0.1
done
touch "$H/src/big/package-lock.json"
ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
sleep 0.3
kill "$DPID"
i=0
while kill -0 "$DPID" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "kobangd did not stop"
	sleep 0.1
done
wait
grep -q "terminating" "$T/log" || fail "no orderly shutdown"
grep -E "fatal|Broken pipe|IMSG_SCAN_FILE" "$T/log" &&
    fail "a child complained at shutdown"

# 4. A cap below scan's idle size: killed at the watch's first look,
#    restarted with a new pid, counted; net and dns are left alone.
start_daemon -f "$T/kobangd.yaml" -m scan=1
wait_ready
status
net0=$(jproc net .pid)
dns0=$(jproc dns .pid)
i=0
until grep -q "scan (pid [0-9]*): resident memory [0-9]* kB over its cap of 1024 kB; restarting it" "$T/log"; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "scan not killed over its cap within 10 s"
	sleep 0.1
done
scan0=$(sed -n 's/.*scan (pid \([0-9]*\)): resident memory.*/\1/p' "$T/log" |
    head -n 1)
# SIGKILL, or the hang-up of its channel, closed first, when it is faster.
i=0
until grep -E -q "scan \(pid $scan0\) (killed by signal 9|exited with status 0)" \
    "$T/log"; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "scan $scan0 not reported gone"
	sleep 0.1
done
# The watch's size is the kernel's, not made up: above the cap.
rss=$(sed -n "s/.*scan (pid $scan0): resident memory \([0-9]*\) kB.*/\1/p" \
    "$T/log")
[ "$rss" -gt 1024 ] || fail "killed at $rss kB"
i=0
until status && [ "$(jproc scan .running)" = true ] &&
    [ "$(jproc scan .pid)" != "$scan0" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "scan not back with a new pid within 10 s"
	sleep 0.1
done
[ "$(jproc scan .memory.restarts)" -ge 1 ] || fail "memory restart not counted"
[ "$(jproc scan .restarts)" -ge "$(jproc scan .memory.restarts)" ] ||
    fail "memory restarts are not among the restarts"
[ "$(jproc scan .memory.capKB)" = 1024 ] || fail "scan cap not 1 MB"
[ "$(jproc scan .memory.rssKB)" -gt 1024 ] || fail "last RSS not kept"
# The new child sized its address space by the table, not the tiny cap.
want_lim "$(jproc scan .pid)" scan "Max address space" $((512 * 1048576))
[ "$(jproc net .pid)" = "$net0" ] && [ "$(jproc dns .pid)" = "$dns0" ] ||
    fail "net or dns restarted"
[ "$(jproc net .memory.restarts)" = 0 ] &&
    [ "$(jproc dns .memory.restarts)" = 0 ] || fail "net or dns counted"
ctl show status | awk '$1 == "scan"' | grep -q "  1.0M *[1-9][0-9]*$" ||
    fail "human scan line: $(ctl show status | awk '$1 == "scan"')"
grep -q "net (pid $net0): resident\|dns (pid $dns0): resident" "$T/log" &&
    fail "net or dns killed"

# 5. The daemon keeps working: back with scan's default cap, the data of
#    the first run is there and a new scan commits.
kill "$DPID"
wait "$DPID"
start_daemon -f "$T/kobangd.yaml"
wait_ready
c0=$(ctl -j show surfaces | jq -r '.[] | select(.surface ==
    "javascriptPackages") | .scans')
touch "$H/src/big/package-lock.json"
ctl scan javascriptPackages >/dev/null || fail "kobanctl scan"
i=0
until [ "$(ctl -j show surfaces | jq -r '.[] | select(.surface ==
    "javascriptPackages") | .scans')" -gt "$c0" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "no scan after the restart"
	sleep 0.1
done
[ "$(ctl -j show inventory javascriptPackages | jq length)" -ge 40000 ] ||
    fail "inventory lost"
status
[ "$(jproc scan .memory.restarts)" = 0 ] || fail "scan killed at its default cap"
grep -q "resident memory" "$T/log" && fail "a child over its default cap"

echo ok
