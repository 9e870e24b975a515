#!/bin/sh
# make install DESTDIR=... PREFIX=/usr: the exact tree (every file and
# directory, owner, group and mode), installed files equal to their
# sources, the service file pointing at the installed binary, a working
# installed daemon and configuration, no user created under DESTDIR, and
# a second install that leaves a changed configuration alone.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
R=$T/root
U=_kobang_t_install	# must not be created: DESTDIR is set
getent passwd "$U" >/dev/null && fail "user $U exists before the test"

# Leading directories install creates (usr, var/lib) follow the umask.
umask 022

# The binaries are built already (regress-e2e depends on them); -o all
# keeps this from rebuilding them.
inst() {
	make -s -C "$top" -o all install B="$B" DESTDIR="$R" PREFIX=/usr \
	    SERVICE=systemd KOBANG_USER="$U" >"$T/install.log" 2>&1 ||
	    { cat "$T/install.log"; fail "make install failed"; }
}
inst

cat >"$T/expected" <<'EOT'
root root 755 .
root root 755 ./etc
root root 755 ./etc/koban
root root 600 ./etc/koban/kobangd.yaml
root root 755 ./usr
root root 755 ./usr/lib
root root 755 ./usr/lib/systemd
root root 755 ./usr/lib/systemd/system
root root 644 ./usr/lib/systemd/system/kobangd.service
root root 755 ./usr/libexec
root root 755 ./usr/libexec/kobangd
root root 555 ./usr/libexec/kobangd/kobangd-dns
root root 555 ./usr/libexec/kobangd/kobangd-net
root root 555 ./usr/libexec/kobangd/kobangd-scan
root root 755 ./usr/sbin
root root 555 ./usr/sbin/kobanctl
root root 555 ./usr/sbin/kobangd
root root 755 ./usr/share
root root 755 ./usr/share/kobangd
root root 444 ./usr/share/kobangd/kobangd.yaml
root root 755 ./usr/share/man
root root 755 ./usr/share/man/man5
root root 444 ./usr/share/man/man5/kobangd.yaml.5
root root 755 ./usr/share/man/man8
root root 444 ./usr/share/man/man8/kobanctl.8
root root 444 ./usr/share/man/man8/kobangd.8
root root 755 ./var
root root 755 ./var/lib
root root 700 ./var/lib/koban
EOT
tree() {
	(cd "$R" && find . | LC_ALL=C sort | xargs stat -c '%U %G %a %n')
}
tree >"$T/tree"
diff -u "$T/expected" "$T/tree" || fail "installed tree differs"

# Contents: what was built and what is in the source tree.
cmp -s "$B/kobangd" "$R/usr/sbin/kobangd" || fail "kobangd differs"
cmp -s "$B/kobanctl" "$R/usr/sbin/kobanctl" || fail "kobanctl differs"
for c in net scan dns; do
	cmp -s "$B/kobangd-$c" "$R/usr/libexec/kobangd/kobangd-$c" ||
	    fail "kobangd-$c differs"
done
for p in kobangd/kobangd.8:man8 kobanctl/kobanctl.8:man8 \
    kobangd/kobangd.yaml.5:man5; do
	src=${p%%:*}
	cmp -s "$top/$src" "$R/usr/share/man/${p##*:}/$(basename "$src")" ||
	    fail "$src installed differently"
done
cmp -s "$top/etc/kobangd.yaml" "$R/etc/koban/kobangd.yaml" ||
    fail "configuration differs from etc/kobangd.yaml"
cmp -s "$top/etc/kobangd.yaml" "$R/usr/share/kobangd/kobangd.yaml" ||
    fail "shipped default differs from etc/kobangd.yaml"
grep -qx 'ExecStart=/usr/sbin/kobangd -d' \
    "$R/usr/lib/systemd/system/kobangd.service" ||
    fail "the unit does not start /usr/sbin/kobangd"
sed 's|/usr/sbin/kobangd|/usr/local/sbin/kobangd|' \
    "$R/usr/lib/systemd/system/kobangd.service" |
    cmp -s - "$top/etc/kobangd.service" ||
    fail "the unit differs from etc/kobangd.service beyond SBINDIR"

# The installed daemon accepts the installed configuration, with the
# installer's owner and mode (it refuses group/world-writable files).
"$R/usr/sbin/kobangd" -n -f "$R/etc/koban/kobangd.yaml" 2>"$T/check" ||
    { cat "$T/check"; fail "installed configuration refused"; }
"$R/usr/sbin/kobanctl" config check "$R/etc/koban/kobangd.yaml" \
    >/dev/null 2>&1 || fail "kobanctl config check refuses it"

getent passwd "$U" >/dev/null && { userdel "$U" 2>/dev/null;
    fail "make install with DESTDIR created user $U"; }

# A second install keeps a changed configuration (and its mode) and
# restores what is not the operator's.
echo "# changed by the operator" >>"$R/etc/koban/kobangd.yaml"
chmod 640 "$R/etc/koban/kobangd.yaml"
cp "$R/etc/koban/kobangd.yaml" "$T/changed"
echo garbage >"$R/usr/share/man/man8/kobangd.8"
inst
cmp -s "$T/changed" "$R/etc/koban/kobangd.yaml" ||
    fail "second install overwrote the configuration"
grep -q 'left as it is' "$T/install.log" ||
    fail "second install did not say it kept the configuration"
[ "$(stat -c %a "$R/etc/koban/kobangd.yaml")" = 640 ] ||
    fail "second install changed the configuration's mode"
cmp -s "$top/kobangd/kobangd.8" "$R/usr/share/man/man8/kobangd.8" ||
    fail "second install did not replace the manual page"
sed 's|^root root 600 ./etc/koban/kobangd.yaml$|root root 640 ./etc/koban/kobangd.yaml|' \
    "$T/expected" >"$T/expected2"
tree >"$T/tree2"
diff -u "$T/expected2" "$T/tree2" || fail "second install changed the tree"

# A state directory left too open is closed again.
chmod 755 "$R/var/lib/koban"
inst
[ "$(stat -c %a "$R/var/lib/koban")" = 700 ] ||
    fail "install left the state directory open"
echo "ok: $(wc -l <"$T/expected") paths, owners and modes"
