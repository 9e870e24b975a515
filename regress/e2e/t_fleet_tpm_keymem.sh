# The TPM counterpart of t_fleet_keymem: after a completed mutual
# handshake signed by a key in a TPM (swtpm, started here), the key's
# scalar cannot be looked for in memory (no one knows it), so instead:
# no file of the identity directory, nor of the whole state directory,
# is a private key OpenSSL can load (PEM or DER; a control key shows the
# check finds one), and the TPM itself refuses to hand the key out
# (TPM2_Duplicate with the duplication role's policy), while it does
# hand out a key made to allow it, so the refusal is the key's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"
. "$(dirname "$0")/tpm.sh"

fleet_pki
fleet_token_file
fleet_start server -D
tpm_start
tpm_conf tpm </dev/null
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok .*auth=certificate" 30
grep -q "sync: signed the TLS handshake" "$T/log" ||
    fail "no handshake with the certificate"
[ "$(identity .keyStore.store)" = tpm ] || fail "not the TPM store"

# 0: OpenSSL loads it as a private key, in PEM or DER.
loads_private() {
	openssl pkey -in "$1" -noout 2>/dev/null ||
	    openssl pkey -inform DER -in "$1" -noout 2>/dev/null
}
loads_private "$PKI/ca.key" || fail "the check does not find a key"
n=0
for f in $(find "$T/state" -type f); do
	loads_private "$f" && fail "$f is a private key OpenSSL can load"
	n=$((n + 1))
done
[ -f "$T/state/identity/key.tpm" ] && [ -f "$T/state/identity/state.json" ] ||
    fail "the identity is not there"
[ $n -ge 3 ] || fail "only $n files checked"

"$TPMKEY" export "$TCTI" "$T/state/identity/key.tpm" >"$T/export.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "tpmkey export said $rc: $(cat "$T/export.out")"
grep -q "fixedTPM yes, fixedParent yes, sensitiveDataOrigin yes" \
    "$T/export.out" || fail "attributes: $(cat "$T/export.out")"
grep -q "the TPM refuses to duplicate the key" "$T/export.out" ||
    fail "export: $(cat "$T/export.out")"
"$TPMKEY" control "$TCTI" >"$T/control.out" 2>&1 ||
    fail "the control key was not handed out: $(cat "$T/control.out")"
grep -q "the TPM handed out the key" "$T/control.out" ||
    fail "control: $(cat "$T/control.out")"
[ "$(sed -n 's/^spki //p' "$T/export.out")" = "$(identity .keyFingerprint)" ] ||
    fail "the TPM's key is not the device key"
echo ok
