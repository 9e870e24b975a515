# The enrollment and sensor tokens of a configuration are never printed:
# kobanctl config canon, kobanctl config check, kobangd -n -vv and the
# daemon's own log (-d -vv) show that a token is set, never its value.
. "$(dirname "$0")/lib.sh"

ENROLL=kobatk-enroll-9f3c1e7d5b
SENSOR=kobatk-sensor-2a6e8c4f0d
cat >"$T/kobangd.yaml" <<YAML
kobangd:
  stateDirectory: $T/state
  users: []
sync:
  enabled: true
  endpoint: https://127.0.0.1:9
  enrollmentToken: $ENROLL
  sensorToken: $SENSOR
YAML
chmod 600 "$T/kobangd.yaml"

# $1: what printed it; the output in $T/out.
no_token() {
	# Not the output itself: it holds the token.
	grep -qF -e "$ENROLL" "$T/out" && fail "$1 printed the enrollment token"
	grep -qF -e "$SENSOR" "$T/out" && fail "$1 printed the sensor token"
	return 0
}

"$KOBANCTL" config canon "$T/kobangd.yaml" >"$T/out" 2>&1 ||
    fail "config canon: $(cat "$T/out")"
no_token "kobanctl config canon"
# It did print the sync section, with the tokens marked as set.
[ "$(jq -r .sync.enrollmentToken "$T/out")" = "(secret, not shown)" ] ||
    fail "config canon: no marker for the enrollment token"
[ "$(jq -r .sync.sensorToken "$T/out")" = "(secret, not shown)" ] ||
    fail "config canon: no marker for the sensor token"

"$KOBANCTL" config check "$T/kobangd.yaml" >"$T/out" 2>&1 ||
    fail "config check: $(cat "$T/out")"
no_token "kobanctl config check"

"$KOBANGD" -n -vv -f "$T/kobangd.yaml" >"$T/out" 2>&1 ||
    fail "kobangd -n -vv: $(cat "$T/out")"
no_token "kobangd -n -vv"
grep -q '"sensorToken":"(secret, not shown)"' "$T/out" ||
    fail "kobangd -n -vv did not print the configuration: $(cat "$T/out")"

# The daemon at its most verbose, trying to enroll with the token.
"$KOBANGD" -d -vv -s "$SOCK" -f "$T/kobangd.yaml" >"$T/log" 2>&1 &
DPID=$!
SYNC=on wait_ready
i=0
until grep -q "sync:" "$T/log" || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
# A reload that changes both tokens: logged as a change, not shown.
sed -i -e "s/$ENROLL/${ENROLL}x/" -e "s/$SENSOR/${SENSOR}x/" "$T/kobangd.yaml"
ctl reload >"$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
cp "$T/log" "$T/out"
cat "$T/reload.out" >>"$T/out"
no_token "kobangd -d -vv (its log) or kobanctl reload"
grep -rqF -e "$ENROLL" -e "$SENSOR" "$T/state" &&
    fail "a token is in the state directory"
echo ok
