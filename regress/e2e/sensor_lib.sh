# Helpers for the sensor's end-to-end tests (t_sensor*.sh): a fake
# machine under $T with two real users whose homes live there.  Sourced
# after lib.sh.

GOLDEN=$(cd "$(dirname "$0")" && pwd)/golden
U1=kobtest1
U2=kobtest2
H1=$T/home/$U1
H2=$T/home/$U2

# Two real users, their homes moved under $T (0700, owned by them).
make_users() {
	for u in $U1 $U2; do
		test_user $u
	done
}

# Hand each home to its user, 0700 (after the files are written).
own_homes() {
	chown -R $U1:$U1 "$H1"
	chown -R $U2:$U2 "$H2"
	chmod 700 "$H1" "$H2"
}

# The configuration: users, roots, state and socket under $T; a short
# debounce.  $1: extra lines of the kobangd section; extra top-level YAML
# comes on stdin.
write_config() {
	{
		cat <<-EOC
		kobangd:
		  users: [$U1, $U2]
		  stateDirectory: $T/state
		  controlSocket: $SOCK
		${1:-}
		watch:
		  debounceMilliseconds: 100
		  projectRoots: ["~/src"]
		EOC
		cat
	} >"$T/kobangd.yaml"
	chmod 600 "$T/kobangd.yaml"
}

start_sensor() {
	start_daemon -f "$T/kobangd.yaml"
	wait_ready
}

# Scans of a surface since start (from show surfaces).
scans_of() {
	ctl -j show surfaces | jq -r ".[] | select(.surface == \"$1\") | .scans"
}

# Wait (at most $3 seconds, default 10) until surface $1 has had more
# than $2 scans.
wait_scans() {
	i=0
	lim=$(( ${3:-10} * 20 ))
	while [ $i -lt $lim ]; do
		n=$(scans_of "$1" 2>/dev/null)
		[ -n "$n" ] && [ "$n" -gt "$2" ] && return 0
		kill -0 "$DPID" 2>/dev/null || fail "kobangd exited"
		sleep 0.05
		i=$((i + 1))
	done
	fail "no scan of $1 after $2 within ${3:-10} s"
}

# Paths made independent of the scratch directory.
norm() {
	sed -e "s|$T|\$T|g"
}

# Compare stdin with a golden file; UPDATE=1 rewrites it.
# Compare stdin with golden/$1.  In a pipeline this runs in a subshell,
# so callers must add "|| fail ...": a fail here alone would only end
# the subshell.
golden() {
	norm >"$T/got.$1"
	if [ -n "${UPDATE:-}" ]; then
		cp "$T/got.$1" "$GOLDEN/$1"
		return 0
	fi
	diff -u "$GOLDEN/$1" "$T/got.$1" || fail "output differs from golden/$1"
}
