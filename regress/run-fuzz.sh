#!/bin/sh
# Run one libFuzzer harness for a fixed time over its seed corpus.
# New inputs go to a scratch directory, never into the committed corpus.
# usage: run-fuzz.sh harness corpus-dir seconds
# FUZZ_SEED fixes libFuzzer's seed, so that a short run in make regress
# walks the same mutations every time; make fuzz leaves it random.
bin=$1
corpus=$2
secs=$3
name=$(basename "$bin")
[ -d "$corpus" ] || { echo "$name: no corpus at $corpus"; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
out=$("$bin" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$scratch" "$corpus" 2>&1)
rc=$?
runs=$(printf '%s\n' "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
if [ $rc -ne 0 ]; then
	printf '%s\n' "$out" | tail -n 40
	echo "fuzz $name: FAILED after ${runs:-?} runs"
	exit 1
fi
echo "fuzz $name: ${runs:-?} runs in ${secs}s, no crash"
