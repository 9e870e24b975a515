#!/bin/sh
# The local sensor end to end: a fake machine with two users' Claude
# configuration and npm projects; baseline inventory and findings
# against golden files; then edits (an MCP server run with npx -y, a
# package version bump, a deleted project, a new project) and the events
# and findings that follow, without a restart.  Also the non-root view.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

make_users
# kobtest2 may use the read-only commands (control group).
getent group kobtestg >/dev/null || groupadd kobtestg
usermod -a -G kobtestg $U2

lock() {
	# lock NAME VERSION [NAME VERSION ...]: a realistic npm v3 lockfile
	printf '{\n  "name": "p",\n  "lockfileVersion": 3,\n  "requires": true,\n  "packages": {\n    "": {"name": "p", "version": "1.0.0"}'
	while [ $# -gt 1 ]; do
		printf ',\n    "node_modules/%s": {\n      "version": "%s",\n      "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz",\n      "integrity": "sha512-%s%s"\n    }' \
		    "$1" "$2" "$1" "$(basename "$1")" "$2" "$(basename "$1")" "$2"
		shift 2
	done
	printf '\n  }\n}\n'
}

mkdir -p "$H1/.claude/agents/team" "$H1/.claude/commands" \
    "$H1/.claude/skills/pdf" "$H1/src/web" "$H1/src/api/node_modules/x" \
    "$H1/src/lib" "$H1/src/deep/a/b/c/d/e/f" "$H2/src/tool" "$H2/.claude"
cat >"$H1/.claude.json" <<'EOJ'
{"numStartups": 3, "mcpServers": {"weather": {"command": "node",
 "args": ["/opt/weather/server.js"], "env": {"API_KEY": "sk-never-read"}}},
 "projects": {"/home/x/p": {"mcpServers": {"docs": {"type": "http",
 "url": "https://docs.example.com/mcp"}}}}}
EOJ
cat >"$H1/.claude/settings.json" <<'EOJ'
{"hooks": {"PreToolUse": []}, "permissions": {"allow": ["Bash(ls)"]},
 "enabledPlugins": {"formatter@team": true}}
EOJ
echo "# reviewer" >"$H1/.claude/agents/reviewer.md"
echo "# nested" >"$H1/.claude/agents/team/lead.md"
echo "# deploy" >"$H1/.claude/commands/deploy.md"
echo "# pdf skill" >"$H1/.claude/skills/pdf/SKILL.md"
echo "# global instructions" >"$H1/.claude/CLAUDE.md"
cat >"$H1/src/.mcp.json" <<'EOJ'
{"mcpServers": {"tracker": {"url": "http://tracker.internal/mcp",
 "headersHelper": "/usr/local/bin/token-helper"}}}
EOJ
echo "# project instructions" >"$H1/src/CLAUDE.md"
lock left-pad 1.3.0 react 18.2.0 @types/node 20.1.0 >"$H1/src/web/package-lock.json"
lock express 4.18.2 >"$H1/src/api/package-lock.json"
lock ignored 0.0.1 >"$H1/src/api/node_modules/x/package-lock.json"
lock shrink 1.0.0 >"$H1/src/lib/npm-shrinkwrap.json"
lock shadowed 1.0.0 >"$H1/src/lib/package-lock.json"
lock too-deep 1.0.0 >"$H1/src/deep/a/b/c/d/e/f/package-lock.json"
cat >"$H2/.claude.json" <<'EOJ'
{"mcpServers": {"github": {"command": "npx", "args": ["-y",
 "@modelcontextprotocol/server-github"]}}}
EOJ
lock zod 3.25.0 >"$H2/src/tool/package-lock.json"
own_homes

write_config "  controlGroup: kobtestg" </dev/null
start_sensor
wait_scans claudeConfig 0
wait_scans javascriptPackages 0

# Baseline: inventory and present findings, no events.
ctl -j show inventory | jq -c '.[]' | golden sensor_inventory.json ||
    fail "output differs from golden/sensor_inventory.json"
ctl -j show findings | jq -c '.[] | {surface, severity, ruleId, itemName,
    itemId, evidence}' | golden sensor_findings_baseline.json ||
    fail "output differs from golden/sensor_findings_baseline.json"
[ "$(ctl -j show events | jq length)" -eq 0 ] ||
    fail "the baseline produced change events"
ctl -j show surfaces | jq -e '[.[] | select(.surface == "claudeConfig" or
    .surface == "javascriptPackages") | .health == "ok" and .baselined] |
    all' >/dev/null || fail "surfaces not ok after the baseline"
ctl -j show surfaces | jq -e '[.[] | .health != "not implemented"] | all' \
    >/dev/null || fail "a surface reported as not implemented"
# The secret in env never reaches anything.
ctl -j show inventory | grep -q sk-never-read && fail "env was read"
# Abbreviations and filters.
ctl s i j >"$T/js.txt" || fail "show inventory javascriptPackages"
grep -q "left-pad" "$T/js.txt" && ! grep -q mcpServer "$T/js.txt" ||
    fail "surface filter"
[ "$(ctl -j show inventory javascriptPackages $U2 | jq length)" -eq 1 ] ||
    fail "user filter"
ctl s f >/dev/null || fail "kobanctl s f"
ctl show surfaces | grep -q "^claudeConfig  *ok" || fail "human surfaces"

# Edit 1: an MCP server launched with npx -y.
n=$(scans_of claudeConfig)
cat >"$H1/.claude.json" <<'EOJ'
{"numStartups": 4, "mcpServers": {"weather": {"command": "node",
 "args": ["/opt/weather/server.js"], "env": {"API_KEY": "sk-never-read"}},
 "fetcher": {"command": "npx", "args": ["-y", "fetch-mcp@latest"]}},
 "projects": {"/home/x/p": {"mcpServers": {"docs": {"type": "http",
 "url": "https://docs.example.com/mcp"}}}}}
EOJ
wait_scans claudeConfig "$n"
ctl -j show findings | jq -e '[.[] | select(.ruleId ==
    "agent.config.ephemeral-runner" and .itemName == "fetcher")] |
    length == 1' >/dev/null || fail "no ephemeral runner finding"

# Edit 2: a version bump: removed + added in javascriptPackages.
n=$(scans_of javascriptPackages)
lock left-pad 1.3.1 react 18.2.0 @types/node 20.1.0 >"$H1/src/web/package-lock.json.tmp"
chown $U1 "$H1/src/web/package-lock.json.tmp"
mv "$H1/src/web/package-lock.json.tmp" "$H1/src/web/package-lock.json"
wait_scans javascriptPackages "$n"

# Edit 3: a deleted project: removals.
n=$(scans_of javascriptPackages)
rm -rf "$H1/src/api"
wait_scans javascriptPackages "$n"

# Edit 4: a new project two levels under a root.
n=$(scans_of javascriptPackages)
mkdir -p "$H2/src/org/newapp"
chown -R $U2:$U2 "$H2/src/org"
lock chalk 5.3.0 >"$H2/src/org/newapp/package-lock.json"
chown $U2 "$H2/src/org/newapp/package-lock.json"
i=0
until ctl -j show inventory javascriptPackages | jq -e '[.[] |
    select(.name == "chalk")] | length == 1' >/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the new project was not picked up"
	sleep 0.05
done

ctl -j show events | jq -c '.[] | {kind, surface, itemKind, name,
    oldVersion, newVersion, path, detail}' | sort | golden sensor_events.json ||
    fail "output differs from golden/sensor_events.json"
ctl -j show findings | jq -c '.[] | {surface, severity, ruleId, itemName,
    evidence}' | sort | golden sensor_findings.json ||
    fail "output differs from golden/sensor_findings.json"

# A non-root member of the control group sees only their own home.
asu2() {
	setpriv --reuid=$U2 --regid=$U2 --init-groups "$KOBANCTL" -s "$SOCK" "$@"
}
asu2 -j show inventory >"$T/u2.json" || fail "kobtest2 cannot read"
[ "$(jq '[.[] | select(.path | startswith("'"$H2"'/") | not)] | length' \
    "$T/u2.json")" -eq 0 ] || fail "kobtest2 sees another home"
[ "$(jq length "$T/u2.json")" -ge 2 ] || fail "kobtest2 sees too little"
asu2 -j show findings | jq -e '[.[] | .evidence.path |
    startswith("'"$H2"'/")] | all' >/dev/null || fail "findings leak"
asu2 show inventory claudeConfig $U1 >/dev/null 2>&1 &&
    fail "kobtest2 read kobtest1's inventory"
asu2 scan 2>&1 | grep -q "permission denied" ||
    fail "kobtest2 could scan"
setpriv --reuid=$U1 --regid=$U1 --init-groups "$KOBANCTL" -s "$SOCK" \
    show inventory 2>&1 | grep -q "permission denied" ||
    fail "a user outside the control group could read"

# scan (root): queued, and it runs.
n=$(scans_of javascriptPackages)
ctl scan javascriptPackages | grep -q "scan of javascriptPackages queued" ||
    fail "scan"
wait_scans javascriptPackages "$n"
ctl scan homebrew | grep -q "scan of homebrew queued" || fail "scan homebrew"
echo ok
