#!/bin/sh
# Run every end-to-end test in regress/e2e/ (t_*.sh).  Each test starts
# real processes; $B names the build directory.  Ends with one closing
# line: "e2e: N passed, N failed".
: "${B:?B must name the build directory}"
export B
dir=$(dirname "$0")/e2e
passed=0
failed=0
for t in "$dir"/t_*.sh; do
	name=$(basename "$t" .sh)
	log=$(mktemp)
	if sh "$t" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "e2e $name: ok"
	else
		failed=$((failed + 1))
		echo "e2e $name: FAILED"
		sed "s|^|    |" "$log" | tail -n 60
	fi
	rm -f "$log"
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
