# Four processes start (sync on: net and dns run only then), sandbox
# themselves, and say so truthfully: the kernel's view in /proc agrees
# with kobanctl's, human and JSON agree.
. "$(dirname "$0")/lib.sh"

sync_idle_conf
start_daemon -f "$T/kobangd.yaml"
SYNC=on wait_ready

ctl -j show status >"$T/s.json" || fail "show status -j"
ctl show status >"$T/s.txt" || fail "show status"

[ "$(jq -r .version "$T/s.json")" != "" ] || fail "no version"
[ "$(jq -r .pid "$T/s.json")" = "$DPID" ] || fail "parent pid differs"

for name in net scan dns; do
	pid=$(jq -r ".processes[] | select(.name == \"$name\") | .pid" "$T/s.json")
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "$name: no pid"
	st=/proc/$pid/status
	[ -r "$st" ] || fail "$name: $st missing"
	# Its own image, beside the parent's in the build tree, linked
	# with its own libraries: no database, no TPM stack in any child.
	[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$B")/kobangd-$name" ] ||
	    fail "$name runs $(readlink "/proc/$pid/exe")"
	grep -q 'libsqlite3\|libtss2' "/proc/$pid/maps" &&
	    fail "$name maps libsqlite3 or libtss2"

	# Every uid (real, effective, saved, fs) is unprivileged.
	set -- $(sed -n 's/^Uid:[[:space:]]*//p' "$st")
	for u in "$@"; do
		[ "$u" -ne 0 ] || fail "$name: runs with uid 0 ($*)"
	done
	[ "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "$st")" = 1 ] ||
	    fail "$name: NoNewPrivs not set"
	[ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$st")" = 2 ] ||
	    fail "$name: no seccomp filter"
	# No supplementary groups but its own.
	groups=$(sed -n 's/^Groups:[[:space:]]*//p' "$st")
	gid=$(sed -n 's/^Gid:[[:space:]]*\([0-9]*\).*/\1/p' "$st")
	for g in $groups; do
		[ "$g" = "$gid" ] || fail "$name: keeps group $g"
	done

	# The child's own Landlock self-test: a denied open failed inside it.
	[ "$(jq -r ".processes[] | select(.name == \"$name\") |
	    .sandbox.landlockSelfTest" "$T/s.json")" = passed ] ||
	    fail "$name: landlock self-test did not pass"
	[ "$(jq -r ".processes[] | select(.name == \"$name\") |
	    .sandbox.landlockABI" "$T/s.json")" -ge 1 ] ||
	    fail "$name: no landlock ABI"

	# JSON and human output agree on pid and uid.
	juid=$(jq -r ".processes[] | select(.name == \"$name\") | .uid" "$T/s.json")
	line=$(awk -v n="$name" '$1 == n' "$T/s.txt")
	set -- $line
	[ "$2" = "$pid" ] && [ "$3" = "$juid" ] ||
	    fail "$name: human '$line' disagrees with JSON pid $pid uid $juid"
	[ "$juid" = "$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "$st")" ] ||
	    fail "$name: reported uid $juid is not the kernel's"
	case "$line" in
	*" yes "*"filter"*) ;;
	*) fail "$name: human output lacks the layers: $line" ;;
	esac
done

# Abbreviation: "s s" is "show status".
ctl s s >"$T/abbrev.txt" || fail "kobanctl s s"
[ "$(grep -c -E '^(parent|net|scan|dns) ' "$T/abbrev.txt")" -eq 4 ] ||
    fail "abbreviated command printed something else"

# A wrong command is a usage error with exit 2.
ctl show nonsense >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown command did not exit 2"

# An unprivileged caller is refused by the daemon (peer credentials).
if command -v setpriv >/dev/null; then
	uid=$(id -u _kobang)
	out=$(setpriv --reuid="$uid" --regid="$uid" --clear-groups \
	    "$KOBANCTL" -s "$SOCK" show status 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "unprivileged show status exited $rc: $out"
	case "$out" in
	*"permission denied"*) ;;
	*) fail "unprivileged caller not refused: $out" ;;
	esac
fi

# A second daemon on the same socket refuses to start (once the socket
# has answered its probes for 3 s: control.c, CONTROL_PROBE_TRIES).
"$KOBANGD" -d -s "$SOCK" >"$T/second.log" 2>&1 &
p2=$!
i=0
while kill -0 $p2 2>/dev/null && [ $i -lt 60 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 $p2 2>/dev/null; then
	kill -9 $p2
	fail "second kobangd kept running on a busy socket"
fi
grep -q "in use" "$T/second.log" || fail "second daemon gave no reason"
ctl show status >/dev/null || fail "first daemon disturbed by the second"

echo ok
