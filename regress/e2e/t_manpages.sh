#!/bin/sh
# The manual pages cover what the code knows: every configuration key the
# loader's schema table holds is an item of kobangd.yaml(5), every name of
# the rule vocabulary appears in it, every kobanctl command of the parser's
# table is an item of kobanctl(8), every kobangd option is in kobangd(8),
# what SIGHUP does matches the code, and mandoc -Tlint -Wstyle is silent
# on all three.  The lists come from the code (regress/tools/config_keys,
# kobanctl's and kobangd's usage), so a key or command added without
# documentation fails here.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
Y5=$top/kobangd/kobangd.yaml.5
D8=$top/kobangd/kobangd.8
C8=$top/kobanctl/kobanctl.8
KEYS=$B/regress/config_keys
for f in "$Y5" "$D8" "$C8" "$KEYS"; do
	[ -e "$f" ] || fail "$f missing"
done
command -v mandoc >/dev/null || fail "mandoc not installed"

# An item line ".It Ic KEY ..." or ".It Cm COMMAND ..." in a page.
has_item() {	# page macro text
	awk -v m="$2" -v t="$3" '
	    $1 == ".It" && $2 == m {
		s = $0; sub(/^\.It [A-Za-z]+ /, "", s)
		if (s == t || index(s, t " ") == 1) found = 1
	    }
	    END { exit !found }' "$1"
}

# 1. Configuration keys, from the schema table.
"$KEYS" >"$T/keys" || fail "config_keys failed"
n=$(wc -l <"$T/keys")
[ "$n" -ge 100 ] || fail "only $n configuration keys from the schema"
grep -qx 'kobangd.enrollmentTokenFile' "$T/keys" ||
    fail "config_keys does not walk the kobangd section"
missing=0
while read -r key; do
	if ! has_item "$Y5" Ic "$key"; then
		echo "kobangd.yaml.5: key $key not documented"
		missing=$((missing + 1))
	fi
done <"$T/keys"
[ "$missing" -eq 0 ] || fail "$missing configuration keys missing"

# 2. The rule vocabulary, from common/vocab.c.
"$KEYS" -v >"$T/vocab" || fail "config_keys -v failed"
[ "$(wc -l <"$T/vocab")" -ge 50 ] || fail "vocabulary too short"
while read -r class name; do
	grep -Fqw -- "$name" "$Y5" ||
	    { echo "kobangd.yaml.5: $class $name not documented"; missing=1; }
done <"$T/vocab"
[ "$missing" -eq 0 ] || fail "rule vocabulary incomplete"
# An example per match kind: a "match: KIND" line in a literal display.
for m in $(awk '$1 == "match" { print $2 }' "$T/vocab"); do
	grep -q "^  match: $m\$" "$Y5" ||
	    { echo "kobangd.yaml.5: no example of match $m"; missing=1; }
done
[ "$missing" -eq 0 ] || fail "match kinds without an example"

# 3. kobanctl commands, from its usage (the parser's token table).
"$KOBANCTL" >/dev/null 2>"$T/usage"
rc=$?
[ "$rc" -eq 2 ] || fail "kobanctl without a command exited $rc, not 2"
sed -n -E 's/^  ([a-z][a-z-]*( [a-z][a-z-]*)*)(  | \[| [A-Z]).*/\1/p' \
    "$T/usage" >"$T/commands"
n=$(wc -l <"$T/commands")
[ "$n" -ge 10 ] || fail "only $n commands in kobanctl's usage"
grep -qx 'show status' "$T/commands" || fail "usage not parsed"
grep -qx 'config check' "$T/commands" || fail "usage not parsed"
while read -r cmd; do
	if ! has_item "$C8" Cm "$cmd"; then
		echo "kobanctl.8: command \"$cmd\" not documented"
		missing=$((missing + 1))
	fi
done <"$T/commands"
[ "$missing" -eq 0 ] || fail "$missing kobanctl commands missing"
for o in j s t; do
	grep -q "^\.It Fl $o" "$C8" || fail "kobanctl.8: option -$o missing"
done

# 4. kobangd options, from its usage line.
"$KOBANGD" -Z >/dev/null 2>"$T/dusage"
opts=$(sed -n 's/^usage: [^ ]* //p' "$T/dusage" |
    sed -e 's/\[-\([a-zA-Z]*\)\]/\1/g' -e 's/\[-\([a-zA-Z]\) [^]]*\]/\1/g' |
    tr -d ' ')
[ -n "$opts" ] || fail "kobangd usage not parsed"
for o in $(echo "$opts" | sed 's/./& /g'); do
	grep -q "^\.It Fl $o" "$D8" || fail "kobangd.8: option -$o missing"
done

# 4b. SIGHUP as the code handles it: while the parent only logs it, the
# page, the unit and the rc.d script must not promise a reload; once it
# reloads, they must stop saying it does not.
if grep -q 'SIGHUP: nothing to reload' "$top/kobangd/kobangd.c"; then
	grep -q 'does not re-read its' "$D8" ||
	    fail "kobangd.8 does not say SIGHUP leaves the configuration"
	grep -q '^ExecReload' "$top/etc/kobangd.service" &&
	    fail "kobangd.service reloads, kobangd does not"
	grep -q '^rc_reload=NO' "$top/etc/kobangd.rc" ||
	    fail "kobangd.rc offers a reload kobangd does not do"
else
	grep -q 'does not re-read its' "$D8" &&
	    fail "kobangd.8 still says SIGHUP does not reload"
	grep -q '^Reload: the configuration file is read' "$D8" ||
	    fail "kobangd.8 does not say SIGHUP reloads"
	grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' \
	    "$top/etc/kobangd.service" ||
	    fail "kobangd.service has no ExecReload sending SIGHUP"
	grep -q '^rc_reload=NO' "$top/etc/kobangd.rc" &&
	    fail "kobangd.rc refuses a reload kobangd does"
fi

# 5. mandoc -Tlint -Wstyle, cross references resolved among the three.
mkdir -p "$T/man/man5" "$T/man/man8"
cp "$Y5" "$T/man/man5/" && cp "$D8" "$C8" "$T/man/man8/" ||
    fail "cannot copy the pages"
makewhatis "$T/man" || fail "makewhatis failed"
for p in "$Y5" "$D8" "$C8"; do
	out=$(mandoc -Tlint -Wstyle -M "$T/man" "$p" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] ||
	    fail "mandoc -Tlint on $(basename "$p") (rc $rc): $out"
done
echo "ok: $(wc -l <"$T/keys") keys, $(wc -l <"$T/vocab") names," \
    "$(wc -l <"$T/commands") commands, $opts options, 3 pages clean"
