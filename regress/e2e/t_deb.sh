#!/bin/sh
# The Debian package on this machine: "make deb" in a fresh clone of the
# committed tree, lintian clean (and lintian shown to be looking); then
# installed with apt-get: files, owners, modes, the conffile, the state
# directory, kobangd -n and the daemon from the installed paths enrolling
# with the Fleet test peer; an upgrade to the same package with a bumped
# version and a changed shipped configuration keeps the operator's
# configuration (the new one beside it as .dpkg-dist), the state and the
# identity; remove keeps configuration and state; purge removes them.
# The user: the package creates _kobang only when it is missing, marked,
# and purge removes only a user so marked.  That is checked with the
# package's own maintainer scripts, the user name changed (kobdebu,
# kobdebx), so that the _kobang the other tests share is never touched.
#
# It installs into the real system paths, so it refuses to run over a
# kobangd package or its programs already there; /etc/koban and
# /var/lib/koban, if present (tests that run kobangd on its defaults,
# such as t_status, leave /var/lib/koban behind), are moved aside and put
# back.  Its EXIT trap purges the package and removes what it made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
MARK="kobangd (created by the kobangd package)"
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -y -q -o DPkg::Lock::Timeout=300"
OURS=0		# 1 once the package may be on the machine
MADE_X=0	# 1 once kobdebx was made here

for c in dpkg-buildpackage dh lintian git; do
	command -v $c >/dev/null || fail "$c is not installed (make deps)"
done
st=$(dpkg-query -W -f='${Status}' kobangd 2>/dev/null)
case "$st" in
""|*not-installed) ;;
*) fail "a kobangd package is on this machine ($st); not replacing it" ;;
esac
for f in /usr/sbin/kobangd /usr/sbin/kobanctl /usr/libexec/kobangd \
    /lib/systemd/system/kobangd.service /usr/share/kobangd; do
	[ -e "$f" ] && fail "$f exists already; not replacing it"
done
for u in kobdebu kobdebx; do
	getent passwd $u >/dev/null && fail "user $u exists before the test"
done
getent passwd _kobang >/dev/null ||
    fail "_kobang is missing: run make user (it is not created here)"
kobang_before=$(getent passwd _kobang)

# A broken postrm could remove the shared _kobang: put it back as it was
# (same uid and gid) and say so.
kobang_back() {
	getent passwd _kobang >/dev/null && return 0
	gid=$(echo "$kobang_before" | cut -d: -f4)
	getent group _kobang >/dev/null || groupadd -g "$gid" _kobang
	useradd --system -u "$(echo "$kobang_before" | cut -d: -f3)" \
	    -g "$gid" --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin _kobang
	echo "_kobang was removed; put back"
	return 1
}

deb_cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill "$DPID"
		wait "$DPID" 2>/dev/null
	fi
	DPID=
	if [ $OURS -eq 1 ] && dpkg-query -W kobangd >/dev/null 2>&1; then
		$APT purge kobangd >/dev/null 2>&1 ||
		    dpkg --purge kobangd >/dev/null 2>&1
	fi
	for u in kobdebu kobdebx; do
		if [ $u = kobdebu ] || [ $MADE_X -eq 1 ]; then
			getent passwd $u >/dev/null && userdel $u 2>/dev/null
			getent group $u >/dev/null && groupdel $u 2>/dev/null
		fi
	done
	kobang_back
	for d in etc/koban var/lib/koban; do
		[ -e "$T/saved/$d" ] || continue
		rm -rf "/$d"
		mv "$T/saved/$d" "/$d"
	done
	fleet_cleanup
}
trap deb_cleanup EXIT

for d in etc/koban var/lib/koban; do
	if [ -e "/$d" ]; then
		mkdir -p "$T/saved/$(dirname $d)"
		mv "/$d" "$T/saved/$d" || fail "cannot move /$d aside"
	fi
done

# owner group mode of a path
perm() {
	stat -c '%U %G %a' "$1" 2>/dev/null
}

expect_perm() {	# path "owner group mode"
	[ "$(perm "$1")" = "$2" ] || fail "$1: $(perm "$1"), expected $2"
}

status() {
	dpkg-query -W -f='${Status} ${Version}' kobangd 2>/dev/null
}

# Where systemd runs, the package's scripts start the service: it must
# be running after install and upgrade, and is stopped for the test's own
# daemon (same state directory).  Elsewhere they must do nothing.
systemd_check() {	# what (install, upgrade)
	if [ -d /run/systemd/system ]; then
		systemctl is-enabled --quiet kobangd ||
		    fail "not enabled after $1"
		systemctl is-active --quiet kobangd ||
		    fail "not running after $1"
		systemctl stop kobangd || fail "systemctl stop"
	elif pgrep -f '^/usr/sbin/kobangd' >/dev/null; then
		fail "a kobangd started without systemd after $1"
	fi
}

# 1. Build on a fresh clone (of the committed tree), then lintian.
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
    fail "$top is not a git checkout: the package is built from a clone"
git clone -q "$top" "$T/src" || fail "git clone"
make -C "$T/src" B=build deb >"$T/deb.log" 2>&1 ||
    { tail -n 30 "$T/deb.log"; fail "make deb"; }
ver=$(sed -n 's/^VERSION =[[:space:]]*//p' "$T/src/Makefile")
arch=$(dpkg --print-architecture)
DEB=$T/src/build/kobangd_${ver}_$arch.deb
[ -f "$DEB" ] || fail "no $DEB: $(ls "$T/src/build")"
lintian --fail-on error,warning "$DEB" >"$T/lintian.out" 2>&1 ||
    fail "lintian: $(cat "$T/lintian.out")"
grep -q '^[EW]:' "$T/lintian.out" && fail "lintian: $(cat "$T/lintian.out")"
# The overrides hide what they say, and lintian does look.
lintian --no-override "$DEB" 2>&1 | grep -q "W: kobangd: non-standard-file-perm" ||
    fail "lintian without overrides did not report the 0600 conffile"

# 2. Install.
OURS=1
$APT install "$DEB" >"$T/apt.log" 2>&1 ||
    { cat "$T/apt.log"; fail "apt-get install"; }
case "$(status)" in
"install ok installed $ver") ;;
*) fail "after install: $(status)" ;;
esac
expect_perm /usr/sbin/kobangd "root root 755"
expect_perm /usr/sbin/kobanctl "root root 755"
for c in net scan dns; do
	expect_perm /usr/libexec/kobangd/kobangd-$c "root root 755"
done
expect_perm /etc/koban "root root 755"
expect_perm /etc/koban/kobangd.yaml "root root 600"
expect_perm /var/lib/koban "root root 700"
expect_perm /lib/systemd/system/kobangd.service "root root 644"
expect_perm /usr/share/kobangd/kobangd.yaml "root root 644"
for m in man8/kobangd.8 man8/kobanctl.8 man5/kobangd.yaml.5; do
	expect_perm /usr/share/man/$m.gz "root root 644"
done
cmp -s /etc/koban/kobangd.yaml "$top/etc/kobangd.yaml" ||
    fail "the installed configuration is not etc/kobangd.yaml"
dpkg-query -W -f='${Conffiles}\n' kobangd | grep -q "^ /etc/koban/kobangd.yaml " ||
    fail "/etc/koban/kobangd.yaml is not a conffile"
grep -q '^ExecStart=/usr/sbin/kobangd -d$' /lib/systemd/system/kobangd.service ||
    fail "the unit does not start /usr/sbin/kobangd"
[ "$(getent passwd _kobang)" = "$kobang_before" ] ||
    fail "the package changed the existing _kobang"
systemd_check install
# Enabled and started where systemd runs, restarted once on upgrade, not
# stopped before it: debhelper's snippets, which do nothing here.
pi=$(dpkg-query --control-path kobangd postinst)
grep -q "deb-systemd-helper enable 'kobangd.service'" "$pi" ||
    fail "the postinst does not enable the service"
grep -q "_dh_action=restart" "$pi" || fail "no restart on upgrade"
grep -B1 "deb-systemd-invoke stop" "$(dpkg-query --control-path kobangd \
    prerm)" | grep -q '\[ "$1" = remove \]' ||
    fail "the prerm stops the service on upgrade too"
/usr/sbin/kobangd -n >"$T/n.out" 2>&1 || fail "kobangd -n: $(cat "$T/n.out")"
grep -q "configuration OK" "$T/n.out" || fail "kobangd -n said $(cat "$T/n.out")"
/usr/sbin/kobanctl config check /etc/koban/kobangd.yaml >/dev/null ||
    fail "kobanctl config check of the installed configuration"

# 3. The installed daemon, on the installed paths (state /var/lib/koban,
# /etc/koban/kobangd.yaml changed by the operator), enrolls.
KOBANGD=/usr/sbin/kobangd
KOBANCTL=/usr/sbin/kobanctl
fleet_pki
fleet_token_file
fleet_start server
cat >/etc/koban/kobangd.yaml <<YAML
# The operator's.
kobangd:
  controlSocket: $SOCK
  fleetCAFile: $PKI/ca.pem
  enrollmentTokenFile: $T/token
  users: []
sync:
  enabled: true
  endpoint: https://localhost:$PORT
YAML
chmod 600 /etc/koban/kobangd.yaml
cp /etc/koban/kobangd.yaml "$T/operator.yaml"
start_daemon
wait_ready
# Each child is the packaged image of its role.
for c in net scan dns; do
	[ "$(readlink "/proc/$(child_pid $c)/exe")" = \
	    /usr/libexec/kobangd/kobangd-$c ] ||
	    fail "$c runs $(readlink "/proc/$(child_pid $c)/exe")"
done
wait_for "check-in ok .*auth=certificate" 20
ctl show status | grep -q "configuration /etc/koban/kobangd.yaml" ||
    fail "the daemon did not read /etc/koban/kobangd.yaml"
expect_perm /var/lib/koban/identity "root root 700"
expect_perm /var/lib/koban/identity/key.pem "root root 600"
expect_perm /var/lib/koban/kobangd.db "root root 600"
keysum=$(sha256sum /var/lib/koban/identity/key.pem | cut -d' ' -f1)
statesum=$(sha256sum /var/lib/koban/identity/state.json | cut -d' ' -f1)
kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=

# 4. Upgrade: the same package, version bumped, its shipped configuration
# changed; the operator's is kept, the new one set beside it.
up=$ver+t1
echo "# Changed in $up." >>"$T/src/etc/kobangd.yaml"
make -C "$T/src" B=build deb DEB_VERSION="$up" >"$T/deb2.log" 2>&1 ||
    { tail -n 30 "$T/deb2.log"; fail "make deb DEB_VERSION=$up"; }
DEB2=$T/src/build/kobangd_${up}_$arch.deb
$APT -o Dpkg::Options::=--force-confold install "$DEB2" >"$T/apt2.log" 2>&1 ||
    { cat "$T/apt2.log"; fail "apt-get install (upgrade)"; }
case "$(status)" in
"install ok installed $up") ;;
*) fail "after the upgrade: $(status)" ;;
esac
systemd_check upgrade
cmp -s /etc/koban/kobangd.yaml "$T/operator.yaml" ||
    fail "the upgrade overwrote the operator's configuration"
cmp -s /etc/koban/kobangd.yaml.dpkg-dist "$T/src/etc/kobangd.yaml" ||
    fail "no .dpkg-dist with the new shipped configuration"
grep -q "Changed in $up" /usr/share/kobangd/kobangd.yaml ||
    fail "the shipped default was not updated"
[ "$(sha256sum /var/lib/koban/identity/key.pem | cut -d' ' -f1)" = "$keysum" ] ||
    fail "the upgrade changed the device key"
[ "$(sha256sum /var/lib/koban/identity/state.json | cut -d' ' -f1)" = "$statesum" ] ||
    fail "the upgrade changed the identity"
rm /etc/koban/kobangd.yaml.dpkg-dist
start_daemon
wait_ready
wait_for "sync: check-in accepted" 20 "$T/log"
[ "$(grep -c '^enrolled ' "$T/peer.log")" -eq 1 ] ||
    fail "enrolled again after the upgrade"
[ "$(ctl -j show identity | jq -r .deviceId)" = device-1 ] ||
    fail "the identity is not the enrolled one"
kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=

# 5. remove keeps the configuration and the state.
$APT remove kobangd >"$T/apt3.log" 2>&1 ||
    { cat "$T/apt3.log"; fail "apt-get remove"; }
case "$(status)" in
"deinstall ok config-files $up") ;;
*) fail "after remove: $(status)" ;;
esac
for f in /usr/sbin/kobangd /usr/sbin/kobanctl /usr/share/kobangd \
    /usr/libexec/kobangd /lib/systemd/system/kobangd.service; do
	[ -e "$f" ] && fail "$f left after remove"
done
cmp -s /etc/koban/kobangd.yaml "$T/operator.yaml" ||
    fail "remove touched the configuration"
[ "$(sha256sum /var/lib/koban/identity/key.pem | cut -d' ' -f1)" = "$keysum" ] ||
    fail "remove touched the identity"
[ -f /var/lib/koban/kobangd.db ] || fail "remove deleted the state database"

# 6. purge removes them; the _kobang that was there stays.
$APT purge kobangd >"$T/apt4.log" 2>&1 ||
    { kobang_back; cat "$T/apt4.log"; fail "apt-get purge"; }
kobang_back || fail "purge removed the _kobang it did not create"
[ -z "$(dpkg-query -W -f='${Status}' kobangd 2>/dev/null | grep -v not-installed)" ] ||
    fail "after purge: $(status)"
for f in /etc/koban /var/lib/koban; do
	[ -e "$f" ] && fail "$f left after purge"
done
[ "$(getent passwd _kobang)" = "$kobang_before" ] ||
    fail "purge removed or changed the _kobang it did not create"

# 7. The user, by the package's own scripts with another name: created
# (marked) when missing and removed by purge; one that was there already
# is left alone.
user_deb() {	# user -> $T/u-user.deb
	rm -rf "$T/re"
	dpkg-deb -R "$DEB" "$T/re" || fail "dpkg-deb -R"
	grep -q '^KUSER=_kobang$' "$T/re/DEBIAN/postinst" &&
	    grep -q '^KUSER=_kobang$' "$T/re/DEBIAN/postrm" ||
	    fail "the maintainer scripts do not name _kobang as expected"
	sed -i "s/^KUSER=_kobang\$/KUSER=$1/" "$T/re/DEBIAN/postinst" \
	    "$T/re/DEBIAN/postrm"
	dpkg-deb --root-owner-group -b "$T/re" "$T/u-$1.deb" >/dev/null ||
	    fail "dpkg-deb -b"
}
user_deb kobdebu
$APT install "$T/u-kobdebu.deb" >"$T/apt5.log" 2>&1 ||
    { cat "$T/apt5.log"; fail "apt-get install (kobdebu)"; }
line=$(getent passwd kobdebu) || fail "the package did not create its user"
[ "$(echo "$line" | cut -d: -f5)" = "$MARK" ] || fail "user not marked: $line"
[ "$(echo "$line" | cut -d: -f7)" = /usr/sbin/nologin ] ||
    fail "user has a shell: $line"
[ "$(echo "$line" | cut -d: -f3)" -lt 1000 ] || fail "not a system user: $line"
getent group kobdebu >/dev/null || fail "no group kobdebu"
expect_perm /var/lib/koban "root root 700"
$APT purge kobangd >"$T/apt6.log" 2>&1 ||
    { cat "$T/apt6.log"; fail "apt-get purge (kobdebu)"; }
getent passwd kobdebu >/dev/null && fail "purge left the user it created"
getent group kobdebu >/dev/null && fail "purge left the group it created"

useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --user-group kobdebx || fail "useradd kobdebx"
MADE_X=1
before=$(getent passwd kobdebx)
user_deb kobdebx
$APT install "$T/u-kobdebx.deb" >"$T/apt7.log" 2>&1 ||
    { cat "$T/apt7.log"; fail "apt-get install (kobdebx)"; }
[ "$(getent passwd kobdebx)" = "$before" ] ||
    fail "the package changed an existing user"
$APT purge kobangd >"$T/apt8.log" 2>&1 ||
    { cat "$T/apt8.log"; fail "apt-get purge (kobdebx)"; }
[ "$(getent passwd kobdebx)" = "$before" ] ||
    fail "purge removed a user the package did not create"
[ "$(getent passwd _kobang)" = "$kobang_before" ] || fail "_kobang changed"
echo ok
