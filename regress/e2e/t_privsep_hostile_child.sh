#!/bin/sh
# The real parent against children that attack it (regress/tools/
# kobangd_hostile.c: a child image whose scan, net and dns children speak
# the real protocol maliciously, put beside a copy of the real kobangd
# as its kobangd-scan, -net and -dns).  Each run starts that kobangd on a
# tree of bait files with a list of attacks, and checks from
# the outside what the parent did: the child killed and restarted, the
# file quarantined with an issue that names it, nothing of the bait in
# the inventory or the state database, the parent's peak RSS bounded,
# no descriptor kept, and the parent still answering.  Every attack
# must leave its "sent" line in the hostile child's log (written as its
# bytes go out; "closed" if the parent hung up first, "accepted" if it
# took a flood whole): an attack that never ran fails the test.
. "$(dirname "$0")/lib.sh"

U=kobhost1
test_user $U
H=$T/home/$U
BREW=$T/brew
# The real kobangd, and the hostile image beside it as each child's
# (the parent starts the images beside its own binary); the side files
# (.mode, .log, .go-ROLE) beside them.
IMG=$T/img
mkdir -m 755 "$IMG" || fail "mkdir"
cp "$B/kobangd" "$IMG/kobangd" || fail "no kobangd"
for c in net scan dns; do
	cp "$B/regress/kobangd_hostile" "$IMG/kobangd-$c" ||
	    fail "no hostile image"
done
HOSTILE=$IMG/kobangd_hostile
KOBANGD=$IMG/kobangd
MODE=$HOSTILE.mode
MARK=$HOSTILE.log
# The parent's peak RSS (VmHWM) while it is attacked.  Its peak on this
# tree is about 10 MB (31 MB under AddressSanitizer); the flood, taken
# whole, costs it over 300 MB.
HWM_MAX_KB=65536
SECRET=KOBHOST_BAIT_4c1e9a

# A failure shows what the hostile children said they did.
fail() {
	echo "FAIL: $*"
	[ -f "$MARK" ] && { echo "--- hostile log"; cat "$MARK"; }
	[ -f "$T/log" ] && { echo "--- daemon log"; grep -v \
	    'control: connection from' "$T/log" | tail -n 30; }
	exit 1
}

# The tree: a lockfile of 0 bytes to flood, honest files, and a Python
# project whose requirements file is made to include its neighbours.
mkdir -p "$H/src/flood" "$H/src/app" "$H/src/other" "$H/src/py/.git" \
    "$H/src/py/deploy" "$H/src/py/sub/.hidden" "$H/.codex/rules" \
    "$BREW/Cellar/git/2.47.1" "$H/src/fdbait"
: >"$H/src/flood/package-lock.json"
echo '{"packages":{"node_modules/leftpad":{"version":"1.0.0"}}}' \
    >"$H/src/app/package-lock.json"
echo '{"packages":{"node_modules/rightpad":{"version":"2.0.0"}}}' \
    >"$H/src/other/package-lock.json"
echo 'requests==2.31.0' >"$H/src/py/requirements.txt"
echo 'honestpkg==1.0' >"$H/src/py/base.txt"
echo "API_KEY=$SECRET-env" >"$H/src/py/.env"
printf '[remote "origin"]\n\turl = https://%s-git@example.invalid/x\n' \
    "$SECRET" >"$H/src/py/.git/config"
echo "$SECRET-key" >"$H/src/py/deploy/id_ed25519"
echo "$SECRET-hidden" >"$H/src/py/sub/.hidden/x.txt"
echo "$SECRET-outside" >"$H/src/outside.txt"
ln -s .env "$H/src/py/link.txt"
# A link to a directory whose name is the one asked for.
mkdir -p "$H/src/py/.git/requirements"
echo "$SECRET-dirlink" >"$H/src/py/.git/requirements/base2.txt"
ln -s .git/requirements "$H/src/py/requirements"
mkfifo "$H/src/py/pipe.txt"
{ echo "$SECRET-huge"; head -c 2097152 /dev/zero | tr '\0' 'a'; } \
    >"$H/src/py/huge.txt"
echo 'prefix_rule(pattern=["git", "push"], decision="prompt")' \
    >"$H/.codex/rules/default.rules"
cat >"$BREW/Cellar/git/2.47.1/INSTALL_RECEIPT.json" <<'EOJ'
{"homebrew_version":"4.4.9","installed_as_dependency":false,"installed_on_request":true,"source":{"tap":"homebrew/core"}}
EOJ
chown -R $U:$U "$H" "$BREW"
chmod 700 "$H"

RUN=0
# start_run NAME [ARG...]: a fresh state directory and configuration,
# the attacks on stdin (lines of the mode file), the hostile daemon
# started (with ARGs).
start_run() {
	RUN=$((RUN + 1))
	RUNNAME=$1
	STATE=$T/state-$1
	shift
	cat >"$MODE"
	rm -f "$MARK" "$HOSTILE".go-*
	# Children named in $GATES wait for a byte on their FIFO.
	for g in ${GATES:-}; do
		mkfifo "$HOSTILE.go-$g" || fail "mkfifo"
	done
	cat >"$T/kobangd.yaml" <<-EOC
	kobangd:
	  users: [$U]
	  stateDirectory: $STATE
	  controlSocket: $SOCK
	watch:
	  debounceMilliseconds: 100
	  projectRoots: ["~/src"]
	homebrew:
	  prefixes: ["$BREW"]
	EOC
	# net and dns run only while sync is on: on, nothing listening.
	sync_idle_yaml >>"$T/kobangd.yaml"
	SYNC=on
	chmod 600 "$T/kobangd.yaml"
	start_daemon -f "$T/kobangd.yaml" "$@"
	wait_ready
}

stop_run() {
	kill "$DPID" 2>/dev/null
	i=0
	while kill -0 "$DPID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
	# Every run's log ends up in $T/log (E2E_LOGS, sanitizer reports).
	cat "$T/log" >>"$T/log.runs"
	rm -f "$T/log"
}

# Scans of a surface since start.
scans_of() {
	ctl -j show surfaces | jq -r ".[] | select(.surface == \"$1\") | .scans"
}

# try_for SECONDS CMD...: until CMD succeeds; 1 if it never did.
try_for() {
	lim=$(($1 * 10))
	shift
	i=0
	while ! "$@" 2>/dev/null; do
		kill -0 "$DPID" 2>/dev/null || fail "$RUNNAME: kobangd exited"
		[ $i -ge $lim ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}
# wait_for SECONDS WHAT CMD...: the same, failing the test.
wait_for() {
	n=$1
	what=$2
	shift 2
	try_for "$n" "$@" || fail "$RUNNAME: $what not within $n s"
}

# The child's own word that attack "ROLE NAME TARGET" went out (a
# flood the parent took whole says "accepted").
sent() {
	grep -q "^\(sent\|closed\|accepted\) $1[ :]" "$MARK"
}

# A child restarted at least $2 times, and running again with its hello.
restarted() {
	ctl -j show status | jq -e --arg n "$1" --argjson r "$2" \
	    '.processes[] | select(.name == $n) |
	    .restarts >= $r and .running and .uid != null' >/dev/null
}

# The surfaces of the tree have each finished a scan.
settled() {
	ctl -j show surfaces | jq -e '[.[] |
	    select(.surface == "javascriptPackages" or
	    .surface == "pythonPackages" or .surface == "codexConfig" or
	    .surface == "homebrew") | .scans >= 1] | all' >/dev/null
}

restarts() {
	ctl -j show status | jq --arg n "$1" \
	    '.processes[] | select(.name == $n) | .restarts'
}

# Open a child's gate; a FIFO without a reader would block: 5 s at most.
gate() {
	timeout 5 sh -c "echo go >'$HOSTILE.go-$1'" ||
	    fail "$RUNNAME: the $1 child is not at its gate"
}

# issue PATH-SUFFIX TEXT: an issue on that file whose reason says TEXT.
issue() {
	ctl -j show surfaces >"$T/surfaces.json" || fail "show surfaces"
	jq -e --arg p "$1" --arg r "$2" '[.[] | .issueList[] |
	    select((.path | endswith($p)) and (.reason | test($r; "i")))] |
	    length >= 1' "$T/surfaces.json" >/dev/null
}
need_issue() {
	try_for 10 issue "$1" "$2" ||
	    fail "$RUNNAME: no issue for $1 matching \"$2\": $(jq -c \
	    '[.[] | .issueList[]]' "$T/surfaces.json")"
}

# The parent survived, answers, and its peak RSS stayed bounded.
parent_ok() {
	kill -0 "$DPID" 2>/dev/null || fail "$RUNNAME: the parent died"
	ctl -j show status >"$T/status.json" ||
	    fail "$RUNNAME: show status does not answer"
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
	echo "$RUNNAME: parent VmHWM $hwm kB (bound $HWM_MAX_KB kB)"
	[ "$hwm" -lt "$HWM_MAX_KB" ] ||
	    fail "$RUNNAME: parent VmHWM $hwm kB over $HWM_MAX_KB kB"
}

# Nothing of the bait anywhere the parent keeps or shows.
no_bait() {
	ctl -j show inventory >"$T/inv.json" || fail "show inventory"
	ctl -j show events >"$T/events.json" || fail "show events"
	for f in "$T/inv.json" "$T/events.json" "$STATE"/*; do
		grep -aq "$SECRET" "$f" &&
		    fail "$RUNNAME: bait reached $(basename "$f")"
	done
	grep -aq 'root:' "$T/inv.json" && fail "$RUNNAME: /etc/shadow leaked"
	return 0
}

fdcount() {
	ls "/proc/$DPID/fd" | wc -l
}

# 1. A flood of valid items for a file of 0 bytes (a million, 50 MB),
# after an answer for a file never sent.
start_run flood <<EOM
scan unsolicited -
scan flood /src/flood/package-lock.json 1000000 24
EOM
wait_for 20 "the flood" sent "scan flood /src/flood/package-lock.json"
sent "scan unsolicited -" || fail "unsolicited answer not sent"
# Over, one way or the other: the child killed, or all of it taken.
flood_over() {
	restarted scan 2 || grep -q "^accepted scan flood" "$MARK"
}
wait_for 60 "the end of the flood" flood_over
parent_ok
restarted scan 2 || fail "flood: the scan child was not killed"
need_issue /src/flood/package-lock.json \
    "more items for this file than its 0 bytes allow.*not read until it changes"
wait_for 20 "scans after the flood" settled
ctl -j show inventory javascriptPackages >"$T/inv.json"
jq -e '[.[] | .name] | index("leftpad")' "$T/inv.json" >/dev/null ||
    fail "flood: the honest lockfile is missing"
jq -e '[.[] | select(.name | startswith("flood"))] | length == 0' \
    "$T/inv.json" >/dev/null || fail "flood: flooded items were kept"
grep -q "more items for this file than its 0 bytes allow" "$T/log" ||
    fail "flood: the refusal is not logged"
stop_run

# 2. Includes of files a requirements file has no business with; any
# file the parent hands over for them is echoed back as items.
start_run include <<EOM
scan include /src/py/requirements.txt .env .git/config deploy/id_ed25519 link.txt pipe.txt huge.txt sub/.hidden/x.txt ../outside.txt /etc/shadow ../../../../../../../../etc/shadow requirements/base2.txt base.txt
EOM
wait_for 20 "the includes" sent "scan include /src/py/requirements.txt"
wait_for 20 "base.txt handed over" grep -q "^echoed .*/src/py/base.txt:" \
    "$MARK"
py_done() {
	[ "$(ctl -j show surfaces | jq '.[] |
	    select(.surface == "pythonPackages") | .scans')" -ge 1 ]
}
wait_for 20 "the end of the Python scan" py_done
# The parent handed over base.txt and nothing else.
[ "$(grep -c '^echoed ' "$MARK")" -eq 1 ] ||
    fail "include: the parent handed over $(grep '^echoed ' "$MARK")"
no_bait
need_issue /src/py/.env "hidden"
need_issue /src/py/.git/config "hidden"
need_issue /src/py/sub/.hidden/x.txt "hidden"
need_issue /src/py/deploy/id_ed25519 "not a requirements file name"
need_issue /src/py/link.txt "symbolic link to another file"
need_issue /src/py/requirements/base2.txt "symbolic link in its path"
need_issue /src/py/pipe.txt "FIFO, not read"
need_issue /src/py/huge.txt "larger than 1 MiB"
ctl -j show inventory pythonPackages >"$T/inv.json"
jq -e '[.[] | .name] | index("honestpkg==1.0")' "$T/inv.json" >/dev/null ||
    fail "include: the honest include is missing"
[ "$(restarts scan)" -eq 0 ] || fail "include: the scan child was restarted"
parent_ok
stop_run

# 3. Answers that drop the one item of a hashed file and of a Homebrew
# receipt, and an item of a kind the parser cannot make.
start_run drop <<EOM
scan drop /.codex/rules/default.rules
scan drop /brew/Cellar/git
scan wrongkind /src/other/package-lock.json
EOM
# Surfaces are scanned in order: homebrew, ..., codexConfig, ...,
# javascriptPackages; each attack must cost its child its life.
wait_for 30 "the receipt drop" sent "scan drop /brew/Cellar/git"
wait_for 10 "the child killed for a receipt without its item" \
    restarted scan 1
wait_for 30 "the rule drop" sent "scan drop /.codex/rules/default.rules"
wait_for 10 "the child killed for a hashed file without its item" \
    restarted scan 2
wait_for 30 "the wrong kind" sent "scan wrongkind /src/other/package-lock.json"
wait_for 10 "the child killed for an item of the wrong kind" \
    restarted scan 3
need_issue /.codex/rules/default.rules "broke the protocol.*not read until"
need_issue /brew/Cellar/git/2.47.1/INSTALL_RECEIPT.json "broke the protocol.*not read until"
need_issue /src/other/package-lock.json "broke the protocol.*not read until"
parent_ok
stop_run

# 4. Malformed messages: an answer for a file not the oldest, a
# fixed-size message one byte long, a header over the channel's
# maximum; net and dns answer questions never asked.
start_run proto <<EOM
scan reorder /src/app/package-lock.json
scan badsize /src/other/package-lock.json
scan oversize /.codex/rules/default.rules
net answer -
dns answer -
EOM
wait_for 30 "the oversize" sent "scan oversize /.codex/rules/default.rules"
wait_for 10 "the child killed for an oversized header" restarted scan 1
wait_for 30 "the reorder" sent "scan reorder /src/app/package-lock.json"
wait_for 30 "the bad size" sent "scan badsize /src/other/package-lock.json"
wait_for 10 "the child killed for each malformed answer" restarted scan 3
sent "net answer -" || fail "net's answer not sent"
sent "dns answer -" || fail "dns's answer not sent"
wait_for 10 "net killed for an answer never asked for" restarted net 1
wait_for 10 "dns killed for an answer never asked for" restarted dns 1
need_issue /src/app/package-lock.json "broke the protocol.*not read until"
need_issue /src/other/package-lock.json "broke the protocol.*not read until"
grep -q "scan (pid [0-9]*): malformed message" "$T/log" ||
    fail "proto: the oversized header was not refused as malformed"
parent_ok
stop_run

# 5. Descriptor floods from each child, after the parent's count is
# taken: one message with as many as the kernel lets a child have in
# flight, then 64 messages with one each.
GATES="net dns" start_run fds <<EOM
scan fds /src/fdbait/package-lock.json
net fds -
dns fds -
EOM
wait_for 20 "the first scans" settled
sleep 0.5
before=$(fdcount)
echo '{"packages":{"node_modules/fd":{"version":"1.0.0"}}}' \
    >"$H/src/fdbait/package-lock.json"
chown $U:$U "$H/src/fdbait/package-lock.json"
gate net
gate dns
wait_for 20 "scan's descriptors" sent "scan fds /src/fdbait/package-lock.json"
wait_for 20 "net's descriptors" sent "net fds -"
wait_for 20 "dns's descriptors" sent "dns fds -"
wait_for 20 "scan restarted" restarted scan 1
wait_for 20 "net restarted" restarted net 1
wait_for 20 "dns restarted" restarted dns 1
# The parent refuses them in imsgbuf_read, before any decoder: the
# file is not quarantined, and the next child reads it honestly.
for c in scan net dns; do
	grep -q "$c (pid [0-9]*): read failed" "$T/log" ||
	    fail "fds: $c's descriptors were not refused"
done
has_fd() {
	ctl -j show inventory javascriptPackages | jq -e \
	    '[.[] | .name] | index("fd")' >/dev/null
}
wait_for 20 "the rescan after the attack" has_fd
sleep 0.5
after=$(fdcount)
echo "fds: parent descriptors $before before, $after after"
[ "$after" -eq "$before" ] ||
    fail "fds: the parent holds $before descriptors before, $after after"
parent_ok
stop_run

# 6. Memory past the scan child's cap (32 MB here), with no message at
# all: the parent's memory watch must kill it.
start_run hog -m scan=32 <<EOM
scan hog /src/app/package-lock.json 96
EOM
wait_for 20 "the hog" sent "scan hog /src/app/package-lock.json"
mem_killed() {
	ctl -j show status | jq -e '.processes[] | select(.name == "scan") |
	    .memory.restarts >= 1 and .restarts >= 1 and .running and
	    .uid != null' >/dev/null
}
wait_for 10 "the child killed over its memory cap" mem_killed
grep -q "scan (pid [0-9]*): resident memory [0-9]* kB over its cap of 32768 kB" \
    "$T/log" || fail "hog: the memory kill is not logged"
parent_ok
stop_run

mv "$T/log.runs" "$T/log"
echo ok
