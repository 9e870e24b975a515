#!/bin/sh
# Hostile files are recorded as issues and nothing crashes: a 50 MB
# lockfile, deeply nested JSON, invalid UTF-8, symbolic links to
# /etc/shadow where a lockfile and ~/.claude.json would be, a FIFO named
# package-lock.json, a file its user cannot read, a root-only
# ~/.claude.json whose content must never reach the inventory, and
# files replaced while they are being read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

make_users
mkdir -p "$H1/src/big" "$H1/src/deep" "$H1/src/utf8" "$H1/src/shadow" \
    "$H1/src/fifo" "$H1/src/secret" "$H1/src/good" "$H1/src/race" \
    "$H2/src/ok" "$H2/.claude/agents"
truncate -s 50M "$H1/src/big/package-lock.json"
python3 -c 'print("{\"packages\":{\"node_modules/x\":{\"version\":\"1.0.0\",\"x\":"
    + "[" * 200000 + "]" * 200000 + "}}}")' >"$H1/src/deep/package-lock.json"
printf '{"packages":{"node_modules/bad\377name":{"version":"1.0.0"}}}\n' \
    >"$H1/src/utf8/package-lock.json"
ln -s /etc/shadow "$H1/src/shadow/package-lock.json"
ln -s /etc/shadow "$H1/.claude.json"
mkfifo "$H1/src/fifo/package-lock.json"
echo '{"packages":{"node_modules/hidden":{"version":"6.6.6"}}}' \
    >"$H1/src/secret/package-lock.json"
echo '{"packages":{"node_modules/fine":{"version":"1.0.0"}}}' \
    >"$H1/src/good/package-lock.json"
echo '{"packages":{"node_modules/other":{"version":"2.0.0"}}}' \
    >"$H2/src/ok/package-lock.json"
printf '\377\376 not UTF-8 \n' >"$H2/.claude/agents/binary.md"
own_homes
chmod 000 "$H1/src/secret/package-lock.json"
# Root-only, inside kobtest2's home: kobtest2 cannot read it, so the
# daemon must not either.
cat >"$H2/.claude.json" <<'EOJ'
{"mcpServers": {"rootonlysecretserver": {"command": "/root/leak"}}}
EOJ
chown root:root "$H2/.claude.json"
chmod 600 "$H2/.claude.json"

write_config </dev/null
start_sensor
wait_scans claudeConfig 0
wait_scans javascriptPackages 0

ctl -j show surfaces >"$T/surfaces.json" || fail "show surfaces"
issue() {
	# issue PATH-SUFFIX TEXT: an issue on that file whose reason says TEXT
	jq -e --arg p "$1" --arg r "$2" '[.[] | .issueList[] |
	    select((.path | endswith($p)) and (.reason | test($r; "i")))] |
	    length >= 1' "$T/surfaces.json" >/dev/null ||
	    fail "no issue for $1 matching \"$2\""
}
issue big/package-lock.json "oversized"
issue deep/package-lock.json "deep|nest|malformed"
issue utf8/package-lock.json "utf-?8|malformed"
issue shadow/package-lock.json "symbolic link"
issue /kobtest1/.claude.json "symbolic link"
issue fifo/package-lock.json "fifo"
issue secret/package-lock.json "unreadable|permission"
issue /kobtest2/.claude.json "unreadable|permission"
jq -e '.[] | select(.surface == "javascriptPackages") |
    .health == "degraded" and .issues >= 6' "$T/surfaces.json" >/dev/null ||
    fail "javascriptPackages not degraded with its issues"

# What could be read is there; what could not is not.
ctl -j show inventory >"$T/inv.json" || fail "show inventory"
jq -e '[.[] | .name] | index("fine") and index("other")' "$T/inv.json" \
    >/dev/null || fail "readable files are missing"
grep -q rootonlysecretserver "$T/inv.json" && fail "root-only content leaked"
grep -q hidden "$T/inv.json" && fail "an unreadable file was read"
grep -q '6\.6\.6' "$T/inv.json" && fail "an unreadable file was read"
grep -q 'root:' "$T/inv.json" && fail "/etc/shadow leaked"
ctl -j show surfaces | grep -q rootonlysecretserver && fail "leak in issues"
# The agent with binary content is hashed, not parsed: it is there.
jq -e '[.[] | select(.name == "binary.md")] | length == 1' "$T/inv.json" \
    >/dev/null || fail "binary agent file missing"

# Files replaced while being read: a writer swaps and rewrites a big
# lockfile in place and by rename while scans run back to back.
python3 - "$H1/src/race" <<'EOP'
import json, sys
d = sys.argv[1]
for n, v in (("a", "1.0.0"), ("b", "2.0.0")):
    pk = {"": {"name": "race"}}
    for i in range(20000):
        pk["node_modules/p%d" % i] = {"version": v,
            "resolved": "https://registry.npmjs.org/p%d/-/p%d-%s.tgz" % (i, i, v),
            "integrity": "sha512-" + "x" * 64}
    json.dump({"lockfileVersion": 3, "packages": pk},
        open("%s/%s.json" % (d, n), "w"))
EOP
chown -R $U1:$U1 "$H1/src/race"
(
	i=0
	while [ $i -lt 40 ]; do
		cp "$H1/src/race/a.json" "$H1/src/race/package-lock.json.new"
		mv "$H1/src/race/package-lock.json.new" \
		    "$H1/src/race/package-lock.json"
		cat "$H1/src/race/b.json" >"$H1/src/race/package-lock.json"
		i=$((i + 1))
	done
) &
WRITER=$!
while kill -0 $WRITER 2>/dev/null; do
	ctl scan javascriptPackages >/dev/null || fail "scan during writes"
	sleep 0.05
done
wait $WRITER
# Settle on the last version and check the inventory follows it.
n=$(scans_of javascriptPackages)
ctl scan javascriptPackages >/dev/null
wait_scans javascriptPackages "$n" 30
[ "$(ctl -j show inventory javascriptPackages | jq '[.[] |
    select(.name | startswith("p")) | select(.version == "2.0.0")] |
    length')" -eq 20000 ] || fail "inventory does not match the last write"

# Nothing crashed: the daemon answers and no child was restarted (net
# and dns are not started: sync is off).
ctl -j show status >"$T/status.json" || fail "status"
jq -e '[.processes[] | select(.name != "parent" and .absent == null) |
    .restarts == 0 and .running] | all' "$T/status.json" >/dev/null ||
    fail "a child crashed: $(cat "$T/status.json")"
echo ok
