#!/bin/sh
# The sensor on a generated tree of 1,000 npm projects (about 300,000
# package entries): full-scan wall time, lockfile bytes and items per
# second, peak and idle RSS of every process, the time from one lockfile
# change to its committed diff (after the debounce); and the reference
# points users know on the same lockfiles: jq, Python's json.load and,
# when npm is installed, npm ls.  Prints figures and the targets; it
# asserts nothing about time.  Needs root (a real test user owns the
# tree) and $B.
set -u
: "${B:?}"
[ "$(id -u)" -eq 0 ] || { echo "sensor bench: needs root; skipped"; exit 0; }
PROJECTS=${PROJECTS:-1000}
ENTRIES=${ENTRIES:-300}
DEBOUNCE=100
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/kobangd-bench.XXXXXX)
chmod 755 "$T"
SOCK=$T/kobangd.sock
# Its own user: the end-to-end tests move the homes of kobtest1 and
# kobtest2 (usermod -d), and a home moved under a running bench made
# every item of the tree read as removed (5,000 events, the retention
# cap, for a one-package change).
U=kobbench
H=$T/home/$U
DPID=
BAD=0
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ctl() { "$B/kobanctl" -s "$SOCK" -t 120 "$@"; }
ms() { date +%s%3N; }
surf() {
	ctl -j show surfaces | jq -r ".[] | select(.surface ==
	    \"javascriptPackages\") | .$1"
}

getent passwd $U >/dev/null || useradd -M -d "$H" -s /bin/sh -U $U
usermod -d "$H" $U 2>/dev/null
mkdir -p "$H/src"
echo "generating $PROJECTS projects x $ENTRIES entries..."
python3 "$HERE/gen_tree.py" "$H/src" "$PROJECTS" "$ENTRIES" >/dev/null ||
    exit 1
chown -R $U:$U "$H"
chmod 700 "$H"
LOCKS=$(find "$H/src" -name package-lock.json | sort)
NLOCKS=$(echo "$LOCKS" | wc -l)
BYTES=$(echo "$LOCKS" | xargs cat | wc -c)
ITEMS=$((PROJECTS * ENTRIES))
echo "tree: $NLOCKS lockfiles, $BYTES bytes, $ITEMS package entries"
# Warm the page cache so every measurement reads from memory.
echo "$LOCKS" | xargs cat >/dev/null

cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U]
  stateDirectory: $T/state
  controlSocket: $SOCK
watch:
  debounceMilliseconds: $DEBOUNCE
  maxScanWallClockSeconds: 600
  projectRoots: ["~/src"]
claude:
  enabled: false
EOC
chmod 600 "$T/kobangd.yaml"
t0=$(ms)
"$B/kobangd" -d -f "$T/kobangd.yaml" >"$T/log" 2>&1 &
DPID=$!
i=0
worst=0
# Each wait is a kobanctl query: how long the parent keeps one waiting
# while it takes in a baseline (kobanctl and jq start-up included).
while :; do
	q0=$(ms)
	v=$(surf scans 2>/dev/null)
	q1=$(ms)
	[ $((q1 - q0)) -gt $worst ] && worst=$((q1 - q0))
	[ "$v" = 1 ] && break
	sleep 0.05
	i=$((i + 1))
	[ $i -lt 6000 ] || { echo "no baseline within 300 s"; tail "$T/log"; exit 1; }
done
t1=$(ms)
base_dur=$(surf durationMs)
n=$(surf items)
echo "baseline: $n items committed; scan $base_dur ms, start to commit $((t1 - t0)) ms"
echo "kobanctl during the baseline: slowest answer $worst ms of $((i + 1)) queries"

pids() {
	echo "parent $DPID"
	# Those running: net and dns are not started while sync is off.
	ctl -j show status | jq -r '.processes[] | select(.name != "parent"
	    and .running) | "\(.name) \(.pid)"'
}
rss() {
	# rss FIELD: per process and the sum, in kB
	sum=0
	pids >"$T/pids"
	while read -r name pid; do
		v=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status")
		printf "  %-7s %8s kB\n" "$name" "$v"
		sum=$((sum + v))
	done <"$T/pids"
	printf "  %-7s %8s kB\n" "total" "$sum"
	RSS_SUM=$sum
}

# A full rescan of the unchanged tree: discovery, parsing, diff, commit.
c0=$(surf committedMs)
s0=$(ms)
ctl scan javascriptPackages >/dev/null
until [ "$(surf committedMs)" != "$c0" ]; do sleep 0.01; done
s1=$(ms)
dur=$(surf durationMs)
echo "full rescan: $((s1 - s0)) ms wall (scan $dur ms)"
awk -v b="$BYTES" -v i="$ITEMS" -v d="$dur" 'BEGIN {
	printf "  lockfile ingestion: %.0f MB/s (%.0f MB/s per core of 2)\n",
	    b / 1e6 / (d / 1000), b / 1e6 / (d / 1000) / 2
	printf "  items: %.0f per second\n", i / (d / 1000) }'
echo "peak RSS (VmHWM):"
rss VmHWM
PEAK=$RSS_SUM

# One lockfile changes: time to its committed diff, minus the debounce.
one=$(echo "$LOCKS" | head -n 1)
python3 - "$one" <<'EOP'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
k = [k for k in d["packages"] if k][0]
d["packages"][k]["version"] += "-bench"
json.dump(d, open(p + ".new", "w"), indent=2)
EOP
chown $U:$U "$one.new"
c0=$(surf committedMs)
w0=$(ms)
mv "$one.new" "$one"
until [ "$(surf committedMs)" != "$c0" ]; do sleep 0.005; done
c1=$(surf committedMs)
nev=$(ctl -j show events | jq length)
echo "change to committed diff: $((c1 - w0 - DEBOUNCE)) ms after the" \
    "${DEBOUNCE} ms debounce ($nev events)"
# The version bump is one removal and one addition, nothing else.
if [ "$nev" -ne 2 ]; then
	echo "WRONG: $nev events for a one-package change, expected 2:"
	ctl -j show events | jq -c 'group_by(.kind) | map({kind: .[0].kind,
	    n: length})'
	BAD=1
fi
sleep 1
echo "idle RSS (VmRSS) after the scans:"
rss VmRSS
IDLE=$RSS_SUM

echo "reference points on the same $NLOCKS lockfiles:"
r0=$(ms)
echo "$LOCKS" | xargs jq -r '.packages | to_entries[] | select(.key != "")
    | "\(.key) \(.value.version)"' | wc -l >/dev/null
r1=$(ms)
echo "  jq (name and version): $((r1 - r0)) ms"
r0=$(ms)
echo "$LOCKS" | python3 -c 'import json, sys
n = 0
for p in sys.stdin.read().split():
    with open(p) as f:
        n += len(json.load(f)["packages"])
'
r1=$(ms)
echo "  python3 json.load: $((r1 - r0)) ms"
if command -v npm >/dev/null 2>&1; then
	# npm ls takes seconds per lockfile: three projects, extrapolated.
	r0=$(ms)
	for d in $(echo "$LOCKS" | head -n 3); do
		(cd "$(dirname "$d")" && npm ls --all --json \
		    --package-lock-only >/dev/null 2>&1)
	done
	r1=$(ms)
	echo "  npm ls --all --json --package-lock-only: $(((r1 - r0) / 3))" \
	    "ms per lockfile (3 measured), about $(((r1 - r0) / 3 * NLOCKS / 1000))" \
	    "s for the tree"
else
	echo "  npm ls: npm is not installed; skipped"
fi

echo "targets: ingestion >= 400 MB/s per core; whole tree <= 3000 ms;"
echo "  peak RSS all processes <= 65536 kB (measured $PEAK);"
echo "  idle RSS all processes <= 16384 kB (measured $IDLE);"
echo "  change to committed diff <= 50 ms after the debounce"
exit $BAD
