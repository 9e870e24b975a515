# A token the server never issued, from the root-only token file: a
# clear refusal, the agent keeps running, nothing stored.  A token file
# others may read is refused before anything is sent, and only root may
# enroll.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=tok-$(openssl rand -hex 16)
fleet_start server
printf '%s\n' "$tok" >"$T/token"
chmod 644 "$T/token"
fleet_conf "https://127.0.0.1:$PORT" "" "  enrollmentTokenFile: $T/token"
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "token file $T/token: must be a regular file of root's with mode 0600" \
    10 "$T/log"
grep -q '^enroll' "$T/peer.log" && fail "a loose token file was used"
kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=

chmod 600 "$T/token"
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "enroll refused: unknown token"
wait_for "sync: enrollment failed: the server refused the enrollment token (HTTP 401)" \
    10 "$T/log"
enroll_fails "tok-$(openssl rand -hex 8)" "HTTP 401"
not_enrolled "$tok"
# Enrolling is root's business.
uid=$(id -u _kobang)
if echo tok-x | setpriv --reuid="$uid" --regid="$uid" --clear-groups \
    "$KOBANCTL" -s "$SOCK" enroll >/dev/null 2>"$T/err"; then
	fail "a user enrolled"
fi
grep -q "root only" "$T/err" || fail "non-root enroll: $(cat "$T/err")"
echo ok
