#!/bin/sh
# Run every end-to-end test in regress/e2e/ (t_*.sh), or those named as
# arguments.  Each test starts real processes; $B names the build
# directory.  With SAN_LOGS set (a sanitizer build), each daemon's log is
# kept there and a test whose log holds a sanitizer report fails.  Ends
# with one closing line: "e2e: N passed, N failed".  Each test's line
# gives its wall time: what to look at first when CI's budget runs short.
: "${B:?B must name the build directory}"
export B
dir=$(dirname "$0")/e2e
passed=0
failed=0
if [ $# -eq 0 ]; then
	set -- "$dir"/t_*.sh
else
	for n in "$@"; do
		shift
		set -- "$@" "$dir/$n.sh"
	done
fi
if [ -n "${SAN_LOGS:-}" ]; then
	mkdir -p "$SAN_LOGS"
	export E2E_LOGS=$SAN_LOGS
fi
for t in "$@"; do
	name=$(basename "$t" .sh)
	log=$(mktemp)
	start=$(date +%s)
	[ -n "${SAN_LOGS:-}" ] && rm -f "$SAN_LOGS/$name.log"
	if sh "$t" >"$log" 2>&1 && { [ -z "${SAN_LOGS:-}" ] ||
	    ! grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" \
	    "$SAN_LOGS/$name.log" 2>/dev/null; }; then
		passed=$((passed + 1))
		echo "e2e $name: ok ($(($(date +%s) - start)) s)"
	else
		failed=$((failed + 1))
		echo "e2e $name: FAILED ($(($(date +%s) - start)) s)"
		sed "s|^|    |" "$log" | tail -n 60
		[ -n "${SAN_LOGS:-}" ] && grep -A 30 "ERROR: \|runtime error:" \
		    "$SAN_LOGS/$name.log" 2>/dev/null | sed "s|^|    |" | head -n 60
	fi
	rm -f "$log"
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
