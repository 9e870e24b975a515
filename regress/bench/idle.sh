#!/bin/sh
# What kobangd weighs when it has nothing to do: the daemon on a small
# tree (one user, two lockfiles, a Claude settings file), once with sync
# off and once enrolled at the local Fleet test peer, each time left
# until every surface has been scanned and the sync loop is quiet (sync
# on: measured again once net and dns are stopped between rounds).  Per
# process: resident set (Rss) and proportional set (Pss, shared pages
# divided among the processes that map them) from
# /proc/PID/smaps_rollup, then the totals beside the targets of issue
# #14 (all processes: 12 MB with sync off, 18 MB with sync on) as
# ratios, and the libraries each child maps.  IDLE_DETAIL=1 adds each
# process's largest mappings.  Prints figures; asserts nothing.  Needs
# root and $B.
set -u
: "${B:?}"
[ "$(id -u)" -eq 0 ] || { echo "idle bench: needs root; skipped"; exit 0; }
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
. "$E2E/lib.sh"
. "$E2E/fleet.sh"
U=kobidle
H=$T/home/$U
test_user $U
# How long the daemon is left alone before it is measured (s).
SETTLE=${SETTLE:-3}

mkdir -p "$H/src/a" "$H/src/b" "$H/.claude"
fleet_lock_n 20 1.0.0 >"$H/src/a/package-lock.json"
fleet_lock_n 5 2.0.0 >"$H/src/b/package-lock.json"
printf '{"permissions":{"allow":["Bash(ls:*)"]}}\n' >"$H/.claude/settings.json"
chown -R $U:$U "$H"
chmod 700 "$H"

# Every enabled surface scanned at least once.
wait_scanned() {
	i=0
	while [ $i -lt 300 ]; do
		if ctl -j show surfaces >"$T/surfaces.json" 2>/dev/null &&
		    [ "$(jq '[.[] | select(.scans == 0 and
		    .health != "disabled")] | length' "$T/surfaces.json")" \
		    -eq 0 ]; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	fail "surfaces not scanned after 30 s"
}

# One line per kobangd process, then the totals against target $2 MB.
measure() {	# label target
	ctl -j show status >"$T/status.json" || fail "show status"
	echo "$1:"
	printf '  %-7s %7s %9s %9s\n' process pid "RSS kB" "PSS kB"
	jq -r '.processes[] | select(.pid != null and .pid > 0) |
	    "\(.name) \(.pid)"' "$T/status.json" | {
		rss=0 pss=0 n=0
		while read -r name pid; do
			r=$(awk '/^Rss:/ { print $2 }' "/proc/$pid/smaps_rollup")
			p=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")
			printf '  %-7s %7d %9d %9d\n' "$name" "$pid" "$r" "$p"
			rss=$((rss + r)) pss=$((pss + p)) n=$((n + 1))
		done
		printf '  %-7s %7s %9d %9d\n' total "$n" "$rss" "$pss"
		awk -v r=$rss -v p=$pss -v t=$2 'BEGIN {
		    printf "  total RSS %.1f MB = %.2f x the target %d MB; " \
			"PSS %.1f MB = %.2f x\n", r / 1024, r / 1024 / t, t,
			p / 1024, p / 1024 / t }'
	}
	# Which libraries each child maps: the image a child is.
	for p in $(jq -r '.processes[] | select(.name != "parent" and
	    .pid != null and .pid > 0) | .pid' "$T/status.json"); do
		printf '  %s maps: %s\n' "$(jq -r ".processes[] |
		    select(.pid == $p) | .name" "$T/status.json")" \
		    "$(awk '$6 ~ /\.so/ { n = $6; sub(/.*\//, "", n);
		    sub(/\.so.*/, "", n); if (!(n in s)) { s[n] = 1;
		    printf "%s ", n } }' "/proc/$p/maps")"
	done
	# IDLE_DETAIL=1: where each process's resident kilobytes are.
	[ -n "${IDLE_DETAIL:-}" ] || return 0
	for p in $(jq -r '.processes[] | select(.pid != null and .pid > 0) |
	    .pid' "$T/status.json"); do
		echo "  pid $p, resident kB by mapping:"
		awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6 == "" ? "[anon]" : $6
		    sub(/.*\//, "", n) } /^Rss:/ { r[n] += $2 }
		    END { for (n in r) if (r[n] > 0) print r[n], n }' \
		    "/proc/$p/smaps" | sort -rn | head -12 | sed 's/^/    /'
	done
}

stop_daemon() {
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

common_yaml() {
	cat <<YAML
kobangd:
  stateDirectory: $T/state$1
  controlSocket: $SOCK
  fleetCAFile: $PKI/ca.pem
  enrollmentTokenFile: $T/token
  users: [$U]
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
YAML
}

fleet_pki
tok=$(fleet_token 600)
printf '%s\n' "$tok" >"$T/token"
chmod 600 "$T/token"

# Sync off: a local-only sensor.
{ common_yaml off; printf 'sync:\n  enabled: false\n'; } >"$T/kobangd.yaml"
chmod 600 "$T/kobangd.yaml"
start_daemon -f "$T/kobangd.yaml"
SYNC=off wait_ready
wait_scanned
sleep "$SETTLE"
measure "sync off" 12
stop_daemon

# Sync on: enrolled at the peer, checking in once a minute.
fleet_start server
{ common_yaml on; cat <<YAML; } >"$T/kobangd.yaml"
sync:
  enabled: true
  endpoint: https://localhost:$PORT
  checkInIntervalSeconds: 60
YAML
chmod 600 "$T/kobangd.yaml"
start_daemon -f "$T/kobangd.yaml"
SYNC=on wait_ready
wait_for "check-in ok .*auth=certificate" 60
wait_scanned
i=0
while [ "$(fleet_backlog)" -ne 0 ]; do
	[ $i -lt 300 ] || fail "the outbox did not drain"
	sleep 0.1
	i=$((i + 1))
done
sleep "$SETTLE"
# Right after a round net and dns still run; TRANSPORT_IDLE_MS later
# they are stopped until the next one (the check-in a minute on).
measure "sync on, within a round's idle spell" 18
i=0
until ctl -j show status >"$T/status.json" 2>/dev/null &&
    [ "$(jq '[.processes[] | select((.name == "net" or .name == "dns")
    and (.absent // "" | startswith("not started: idle")))] | length' \
    "$T/status.json")" -eq 2 ]; do
	[ $i -lt 300 ] || fail "net and dns not stopped when idle"
	sleep 0.1
	i=$((i + 1))
done
measure "sync on, idle" 18
stop_daemon
