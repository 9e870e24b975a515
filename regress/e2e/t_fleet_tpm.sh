# The device key inside a TPM 2.0 (kobangd.keyStore: tpm), against a
# software TPM this test starts (swtpm) and the Fleet test peer:
# enrollment (retried while the TPM is not there yet), check-in and sync with a key the TPM made and holds (the
# peer's certificate key is the TPM's own public key, no key.pem); a
# restart signs again with the same key; the TPM gone while running and
# at start (a clear error in the log, show identity and the check-in
# failure count, the daemon otherwise unharmed) and signing again once
# it is back; a corrupted, a truncated and a foreign blob (the TPM
# cleared) refused with what to do, never replaced by a new key even
# with a fresh token at hand; a key store change on the enrolled device
# refused with the re-enrollment it needs, at start and by a reload.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"
. "$(dirname "$0")/tpm.sh"

tpm_user kobtpm1
H=$T/home/kobtpm1
fleet_pki
fleet_token_file
spare=$(fleet_token 600)
fleet_start server -M "$T/mode"
tpm_conf tpm </dev/null
mkdir -p "$H/src/web"
fleet_lock_n 5 >"$H/src/web/package-lock.json"
chown -R kobtpm1:kobtpm1 "$H"
chmod 700 "$H"

# No TPM yet at the first enrollment: retried, the token kept.
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: enrollment failed: device key: cannot reach the TPM .*; \
next attempt in" 10 "$T/log"
[ "$(identity .enrollment)" = retrying ] || fail "enrollment not retried"
key=$T/state/identity/key.tpm
[ ! -e "$key" ] || fail "a blob without a TPM"
tpm_start
wait_for "check-in ok .*auth=certificate" 30
[ -f "$key" ] || fail "no key.tpm"
[ ! -e "$T/state/identity/key.pem" ] || fail "a key file was made"
[ "$(stat -c %a "$key")" = 600 ] || fail "key.tpm mode"

# The enrolled key is the one the TPM holds, by the TPM's own account.
"$TPMKEY" export "$TCTI" "$key" >"$T/export.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "tpmkey export said $rc: $(cat "$T/export.out")"
tpmspki=$(sed -n 's/^spki //p' "$T/export.out")
spki=$(sed -n 's/^enrolled .*spki=//p' "$T/peer.log")
[ -n "$spki" ] && [ "$spki" = "$tpmspki" ] ||
    fail "the enrolled key ($spki) is not the TPM's ($tpmspki)"
grep -q "check-in ok device=device-1 spki=$spki auth=certificate" \
    "$T/peer.log" || fail "check-in not made with the TPM key"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "fingerprint"
[ "$(identity .keyStore.store)" = tpm ] || fail "store: $(identity .keyStore)"
identity .keyStore.where |
    grep -q "^tpm $T/state/identity/key.tpm, loaded as handle 0x80" ||
    fail "where: $(identity .keyStore.where)"
[ "$(identity .keyStore.error)" = null ] || fail "key error"
ctl show identity | grep -q "^key store: *tpm .*key.tpm, loaded as handle" ||
    fail "human show identity: $(ctl show identity)"
grep -q "sync: signed the TLS handshake of connection" "$T/log" ||
    fail "no handshake signed"

# Sync: the inventory of the lockfile reaches the peer over the TPM key.
i=0
while [ "$(ctl -j show sync | jq '.outbox.backlogEvents')" -ne 0 ] ||
    ! grep -q "^sync ok device=device-1 events=[1-9]" "$T/peer.log"; do
	[ $i -lt 30 ] || fail "no sync: $(ctl show sync)"
	ctl sync >/dev/null 2>&1
	sleep 0.5
	i=$((i + 1))
done
grep -q "^sync ok device=device-1 events=[1-9]" "$T/peer.log" ||
    fail "no sync reached the peer"

# Restart: the same key, a new handshake signed by the TPM.
stop_daemon
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: check-in accepted" 20 "$T/log"
grep -q "sync: signed the TLS handshake" "$T/log" ||
    fail "no signature after the restart"
[ "$(grep -c '^enrolled ' "$T/peer.log")" -eq 1 ] || fail "enrolled twice"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "key changed"

# The TPM goes away while the daemon runs.  Every answer now closes its
# connection, so each check-in needs a new handshake and a signature.
echo close >"$T/mode"
ctl check-in >/dev/null || fail "check-in before the TPM went away"
net=$(child_pid net)
tpm_stop
ctl check-in >"$T/ci.out" 2>&1 && fail "a check-in without the TPM succeeded"
grep -q "the device key did not sign the handshake: cannot reach the TPM" \
    "$T/ci.out" || fail "check-in error: $(cat "$T/ci.out")"
grep -q "sync: cannot sign for connection [0-9]* with the tpm key: \
cannot reach the TPM" "$T/log" || fail "no clear error in the log"
wait_key_error "cannot reach the TPM through \"$TCTI\""
[ "$(identity .checkIn.ok)" = false ] || fail "check-in ok"
[ "$(identity .checkIn.failuresInRow)" -eq 1 ] || fail "failure count"
ctl check-in >/dev/null 2>&1 && fail "second check-in succeeded"
[ "$(identity .checkIn.failuresInRow)" -eq 2 ] || fail "failure count 2"
ctl show identity | grep -q "^key trouble: *since .*cannot reach the TPM" ||
    fail "human show identity: $(ctl show identity)"
ctl show identity | grep -q "^failures: *2 check-ins in a row" ||
    fail "human failure count"
# Nothing else broke: the identity, the children, the sensor.
[ "$(identity .enrolled)" = true ] || fail "enrollment lost"
[ "$(child_pid net)" = "$net" ] || fail "net was restarted"
ctl scan >/dev/null || fail "kobanctl scan"
kill -0 "$DPID" || fail "the daemon died"

# Back: the next handshake is signed by the same key.
tpm_start
ctl check-in >/dev/null || fail "no check-in once the TPM was back"
grep -q "sync: the tpm key signs again" "$T/log" || fail "no recovery logged"
[ "$(identity .keyStore.error)" = null ] || fail "error stays"
[ "$(identity .checkIn.failuresInRow)" -eq 0 ] || fail "count not reset"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "key changed"

# The TPM absent at start: enrolled still (the public key is in the
# blob), the trouble said at once, signatures from when it is back.
stop_daemon
tpm_stop
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: device key: cannot reach the TPM" 10 "$T/log"
wait_for "sync: check-in failed: the device key did not sign" 20 "$T/log"
[ "$(identity .enrolled)" = true ] || fail "not enrolled without the TPM"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "key without the TPM"
tpm_start
ctl check-in >/dev/null || fail "no check-in once the TPM was started"

# Blobs the TPM refuses.  A fresh token is at hand each time: the
# daemon must still make no new key and enroll no second time.
stop_daemon
printf '%s\n' "$spare" >"$T/token"
cp -p "$key" "$T/key.good"
refused() {	# expected message
	sum=$(sha256sum <"$key")
	start_daemon -f "$T/kobangd.yaml"
	wait_ready
	wait_for "sync: device key unusable: .*$1" 10 "$T/log"
	wait_for "sync: enrollment impossible: device key: " 10 "$T/log"
	[ "$(identity .enrolled)" = false ] || fail "enrolled with a bad blob"
	identity .keyStore.error | grep -q -- "$1" ||
	    fail "key error $(identity .keyStore.error)"
	[ "$(sha256sum <"$key")" = "$sum" ] || fail "key.tpm was replaced"
	[ ! -e "$T/state/identity/key.pem" ] || fail "a key file was made"
	[ "$(grep -c '^enrolled ' "$T/peer.log")" -eq 1 ] ||
	    fail "enrolled a second key"
	stop_daemon
}
# One bit of the wrapped private part (the blob's last bytes).
len=$(stat -c %s "$key")
b=$(od -An -tu1 -j $((len - 5)) -N1 "$key" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 1)))" |
    dd of="$key" bs=1 seek=$((len - 5)) conv=notrunc 2>/dev/null
cmp -s "$key" "$T/key.good" && fail "the blob did not change"
refused "the TPM refuses the key blob .*key.tpm (.*): it was made by \
another TPM, or this TPM was cleared since; the key is gone and the device \
must re-enroll"
head -c 100 "$T/key.good" >"$key"
refused "key.tpm: truncated or malformed TPM key blob; the device must re-enroll"
# The TPM cleared: a new owner seed, the same socket.
cp -p "$T/key.good" "$key"
tpm_stop
tpm_start "$T/tpm-cleared"
refused "this TPM was cleared since"
# The old TPM again: the same blob is good, nothing was lost meanwhile.
tpm_stop
tpm_start
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: check-in accepted" 20 "$T/log"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "key changed"

# A key store change on the enrolled device: refused, saying what to do.
stop_daemon
tpm_conf file </dev/null
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "sync: device key refused: kobangd.keyStore is file but the \
device is enrolled with a tpm key, which cannot move: set it back to tpm, \
or re-enroll" 10 "$T/log"
[ "$(identity .enrollment)" = refused ] || fail "enrollment state"
identity .error | grep -q "re-enroll (stop kobangd, move $T/state/identity away" ||
    fail "identity error: $(identity .error)"
[ "$(identity .keyStore.store)" = file ] || fail "shown store"
printf '%s\n' "$spare" | ctl enroll >"$T/enroll.out" 2>&1 &&
    fail "an enrollment was accepted"
grep -q "cannot move" "$T/enroll.out" || fail "enroll: $(cat "$T/enroll.out")"
[ ! -e "$T/state/identity/key.pem" ] || fail "a key file was made"
[ "$(grep -c '^enrolled ' "$T/peer.log")" -eq 1 ] || fail "enrolled again"
cmp -s "$key" "$T/key.good" || fail "key.tpm changed"

# Set back by a reload, the same key works again; changed by a reload,
# refused again without restarting.
tpm_conf tpm </dev/null
ctl reload >/dev/null || fail "reload to tpm refused"
wait_for "sync: enrolled as device device-1" 10 "$T/log"
# This daemon started refused: its first accepted check-in is this one.
wait_for "sync: check-in accepted" 20 "$T/log"
[ "$(identity .keyFingerprint)" = "$spki" ] || fail "key changed"
tpm_conf file </dev/null
ctl reload >/dev/null || fail "reload to file refused"
i=0
while [ "$(grep -c 'sync: device key refused' "$T/log")" -lt 2 ]; do
	[ $i -lt 100 ] || fail "the reload to file was not refused"
	sleep 0.1
	i=$((i + 1))
done
[ "$(identity .enrollment)" = refused ] || fail "enrollment state"
[ ! -e "$T/state/identity/key.pem" ] || fail "a key file was made"
[ "$(grep -c '^enrolled ' "$T/peer.log")" -eq 1 ] || fail "enrolled again"
echo ok
