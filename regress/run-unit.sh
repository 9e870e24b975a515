#!/bin/sh
# Run every Criterion suite given on the command line; fail if any fails.
# Ends with one closing line: "unit: N passed, N failed".
passed=0
failed=0
status=0
for t in "$@"; do
	name=$(basename "$t")
	out=$("$t" --jobs=2 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E \
	    'Synthesis|FAIL|Assertion|Crash|runtime error|Sanitizer|ERROR' | \
	    sed "s|^|$name: |"
	counts=$(printf '%s\n' "$out" | awk -F'|' '/Synthesis/ {
		for (i = 1; i <= NF; i++) {
			n = $i; gsub(/[^0-9]/, "", n)
			if ($i ~ /Passing/) p = n
			if ($i ~ /Failing/ || $i ~ /Crashing/) f += n
		}
	} END { printf "%d %d\n", p, f }')
	p=${counts% *}
	f=${counts#* }
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "$name: exited $rc"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ $rc -ne 0 ] && status=1
done
echo "unit: $passed passed, $failed failed"
exit $status
