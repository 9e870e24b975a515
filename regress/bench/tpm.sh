#!/bin/sh
# The cost of the TPM key store, on a software TPM started here (swtpm;
# never the machine's TPM).  1. Signatures per second through kobangd's
# own signing path (keystore_sign, regress/tools/tpmkey bench), $SIGS of
# them (default 1000) with a TPM key and with a file key.  2. The mutual
# TLS handshake with the key in a file and in the TPM, as the Fleet
# test peer measures it (from accept to the client's Finished, the
# round trip to the parent for the signature included): $ROUNDS forced
# check-ins (default 20), each after the first on a new connection (peer
# mode close).
# Prints figures; asserts nothing about time.  Needs root and $B.
set -u
: "${B:?}"
[ "$(id -u)" -eq 0 ] || { echo "tpm bench: needs root; skipped"; exit 0; }
SIGS=${SIGS:-1000}
ROUNDS=${ROUNDS:-20}
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
. "$E2E/lib.sh"
. "$E2E/fleet.sh"
. "$E2E/tpm.sh"

tpm_start
mkdir -m 700 "$T/sigs"
"$TPMKEY" bench "$TCTI" "$T/sigs" "$SIGS" || fail "tpmkey bench"

fleet_pki
t1=$(fleet_token 600)
t2=$(fleet_token 600)
fleet_start server -M "$T/mode"
: >"$T/token"
chmod 600 "$T/token"

for store in file tpm; do
	[ $store = file ] && tok=$t1 || tok=$t2
	printf '%s\n' "$tok" >"$T/token"
	rm -rf "$T/state" "$T/mode"
	tpm_conf $store </dev/null
	start_daemon -f "$T/kobangd.yaml"
	wait_ready
	# Enrolled and the first check-in over (the log is this daemon's).
	wait_for "sync: check-in accepted" 30 "$T/log"
	[ "$(identity .keyStore.store)" = $store ] || fail "store"
	echo close >"$T/mode"
	from=$(wc -l <"$T/peer.log")
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		ctl check-in >/dev/null || fail "$store: check-in $r"
		r=$((r + 1))
	done
	stop_daemon
	sed -n "$((from + 1)),\$p" "$T/peer.log" |
	    sed -n 's/^connection [0-9]*: .*client certificate handshake_us=//p' |
	    sort -n | awk -v s=$store '
		{ v[NR] = $1; sum += $1 }
		END {
			if (NR == 0) { print s ": no handshake measured"; exit 1 }
			printf "handshake with a %s key: %d handshakes, " \
			    "median %.2f ms, mean %.2f ms, max %.2f ms\n", s,
			    NR, v[int((NR + 1) / 2)] / 1000, sum / NR / 1000,
			    v[NR] / 1000
		}' || fail "$store: no figures"
done
echo ok
