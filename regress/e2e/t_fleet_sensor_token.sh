# The development sensor token: sent on check-in while there is no
# certificate (with the ids of the file, a reload's too), never on
# enroll, and never again once enrolled.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

fleet_pki
tok=$(fleet_token 600)
fleet_start server -T dev-sensor-token
fleet_conf "https://127.0.0.1:$PORT" "  sensorToken: dev-sensor-token
  tenantID: tenant-dev
  deviceID: dev-1"
start_daemon -f "$T/kobangd.yaml"
wait_ready
wait_for "check-in ok device=dev-1 auth=sensor-token"
[ "$(identity .auth)" = "sensor token" ] || fail "auth $(identity .auth)"
# The manual identity changed by reload: the next check-in says so.
fleet_conf "https://127.0.0.1:$PORT" "  sensorToken: dev-sensor-token
  tenantID: tenant-dev
  deviceID: dev-2"
ctl reload >/dev/null || fail "reload refused"
wait_for "check-in ok device=dev-2 auth=sensor-token"
printf '%s\n' "$tok" | ctl enroll >/dev/null 2>&1 || fail "enrollment"
wait_for "check-in ok device=device-1 .*auth=certificate"
grep -q "enroll carried a sensor token header" "$T/peer.log" &&
    fail "the sensor token went with enroll"
grep -q "auth=certificate token-header=present" "$T/peer.log" &&
    fail "sensor token and certificate together"
[ "$(identity .auth)" = certificate ] || fail "auth $(identity .auth)"
no_token_anywhere "$tok"
no_token_anywhere dev-sensor-token
echo ok
