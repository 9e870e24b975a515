#!/bin/sh
# Run every benchmark program given on the command line.  Benchmarks
# print figures; they assert nothing about time.
status=0
for b in "$@"; do
	echo "== $(basename "$b")"
	"$b" || status=1
done
# The sensor end to end on a generated tree (a shell script).
echo "== sensor.sh"
sh "$(dirname "$0")/bench/sensor.sh" || status=1
# What an honest scan child sends for the real-world corpus, against
# what the parent accepts for a file of that size.
echo "== accept_ratio.py"
python3 "$(dirname "$0")/bench/accept_ratio.py" "$(dirname "$0")/corpus" ||
    status=1
# The control socket while discovery walks 100,000 directories.
echo "== walk_status.sh"
sh "$(dirname "$0")/bench/walk_status.sh" || status=1
# A big lockfile touched while it is read (a shell script).
echo "== touch_read.sh"
sh "$(dirname "$0")/bench/touch_read.sh" || status=1
# Sync to the local Fleet test peer over mTLS (a shell script).
echo "== sync.sh"
sh "$(dirname "$0")/bench/sync.sh" || status=1
# The TPM key store on swtpm: signatures and handshakes (a shell script).
echo "== tpm.sh"
sh "$(dirname "$0")/bench/tpm.sh" || status=1
# What the daemon weighs idle, sync off and on (a shell script).
echo "== idle.sh"
sh "$(dirname "$0")/bench/idle.sh" || status=1
exit $status
