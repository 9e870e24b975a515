# The daemon refuses a bad configuration with file, line and column;
# -n checks without starting; a group-writable file is refused; the
# control group may read status.
. "$(dirname "$0")/lib.sh"

cat >"$T/bad.yaml" <<'YAML'
rules:
  - id: x
    surface: homebrew
    match: fieldContains
YAML
chmod 644 "$T/bad.yaml"

out=$("$KOBANGD" -n -f "$T/bad.yaml" 2>&1)
[ $? -eq 1 ] || fail "-n accepted a bad file"
case "$out" in
*"$T/bad.yaml:4:12: rules[0].match: unknown match kind \"fieldContains\""*) ;;
*) fail "-n message: $out" ;;
esac

"$KOBANGD" -d -s "$SOCK" -f "$T/bad.yaml" >"$T/bad.log" 2>&1
[ $? -ne 0 ] || fail "kobangd started on a bad file"
grep -q "bad.yaml:4:12" "$T/bad.log" || fail "start message lacks the line"
[ ! -e "$SOCK" ] || fail "socket created by a refused start"

"$KOBANGD" -n -f etc/kobangd.yaml >/dev/null 2>&1 || fail "-n refused the default file"

cp etc/kobangd.yaml "$T/ww.yaml"
chmod 666 "$T/ww.yaml"
out=$("$KOBANGD" -n -f "$T/ww.yaml" 2>&1)
[ $? -eq 1 ] || fail "-n accepted a world-writable file"

"$KOBANGD" -f "$T/none.yaml" -d -s "$SOCK" >"$T/none.log" 2>&1
[ $? -ne 0 ] || fail "kobangd started with a missing -f file"

# A control group: its members may read status, others may not.
getent group kobangtest >/dev/null || groupadd kobangtest
cat >"$T/group.yaml" <<YAML
kobangd:
  controlGroup: kobangtest
  controlSocket: $SOCK
YAML
chmod 644 "$T/group.yaml"
start_daemon -f "$T/group.yaml"
wait_ready
uid=$(id -u _kobang)
gid=$(getent group kobangtest | cut -d: -f3)
setpriv --reuid="$uid" --regid="$uid" --groups="$gid" \
    "$KOBANCTL" -s "$SOCK" show status >/dev/null 2>&1 ||
    fail "control group member refused"
setpriv --reuid="$uid" --regid="$uid" --clear-groups \
    "$KOBANCTL" -s "$SOCK" show status >/dev/null 2>&1 &&
    fail "non-member allowed"
echo ok
