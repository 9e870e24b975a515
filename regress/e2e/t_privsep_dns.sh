# The dns child resolves over the sockets the parent connected to the
# name servers of resolv.conf (KOBANGD_RESOLV_CONF names the test's),
# with c-ares, and makes none of its own: a real DNS server (dnsmasq) on
# 127.0.0.1:53 is the only place the Fleet name exists, and enrollment
# reaches the Fleet peer through it.  That dns can connect nowhere else
# is shown in the unit tests (sandbox::dns_reaches_only_its_servers).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

DNSMASQ=
dns_cleanup() {
	[ -n "$DNSMASQ" ] && kill "$DNSMASQ" 2>/dev/null
	fleet_cleanup
}
trap dns_cleanup EXIT

command -v dnsmasq >/dev/null || fail "dnsmasq is not installed (make deps)"
if ss -lnu 2>/dev/null | grep -q '127\.0\.0\.1:53 \|0\.0\.0\.0:53 \|\*:53 '; then
	fail "127.0.0.1:53 is taken: this test needs it for its DNS server"
fi

name=fleet.kobatk.test
fleet_pki
fleet_cert ca kobatk "/CN=$name" "subjectAltName=DNS:$name
extendedKeyUsage=serverAuth"
tok=$(fleet_token 600)
fleet_start kobatk

# The name exists only in this server; it answers nothing else.
dnsmasq -k --no-resolv --no-hosts \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 \
    --address=/$name/127.0.0.1 --user=nobody --group=nogroup \
    --pid-file="$T/dnsmasq.pid" --log-queries \
    --log-facility="$T/dnsmasq.log" >"$T/dnsmasq.out" 2>&1 &
DNSMASQ=$!
i=0
until [ -s "$T/dnsmasq.log" ] && grep -q "started" "$T/dnsmasq.log"; do
	kill -0 "$DNSMASQ" 2>/dev/null ||
	    fail "dnsmasq did not start: $(cat "$T/dnsmasq.out")"
	[ $i -lt 50 ] || fail "dnsmasq did not start in 5 s"
	sleep 0.1
	i=$((i + 1))
done

printf '# kobangd test\nnameserver 127.0.0.1\n' >"$T/resolv.conf"
export KOBANGD_RESOLV_CONF=$T/resolv.conf
fleet_conf "https://$name:$PORT"
start_daemon -f "$T/kobangd.yaml"
wait_ready
printf '%s\n' "$tok" | ctl enroll >"$T/enroll.out" 2>&1 ||
    fail "enroll: $(cat "$T/enroll.out")"
wait_for "check-in ok" 20
grep -q "query\[A\] $name from 127.0.0.1" "$T/dnsmasq.log" ||
    fail "the name was not asked of the test's server: $(cat "$T/dnsmasq.log")"
[ "$(identity .enrolled)" = true ] || fail "not enrolled"

# The dns child holds no socket it made: each it has is one the parent
# connected (UDP to 127.0.0.1:53) or its channel.
dnspid=$(child_pid dns)
inodes=$(for f in /proc/"$dnspid"/fd/*; do readlink "$f"; done |
    sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
for ino in $inodes; do
	# /proc/net/udp of the child's namespace: remote 0100007F:0035.
	if grep -q " $ino " /proc/"$dnspid"/net/udp /proc/"$dnspid"/net/udp6 \
	    2>/dev/null; then
		grep " $ino " /proc/"$dnspid"/net/udp |
		    grep -q ' 0100007F:0035 ' ||
		    fail "dns holds a UDP socket not connected to 127.0.0.1:53"
	fi
done
echo "dns child after the query: $(grep VmRSS /proc/"$dnspid"/status)"
echo "ok: resolved $name through the test's name server"
