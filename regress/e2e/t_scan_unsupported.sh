#!/bin/sh
# Never a silent zero, and the files the reference misses, end to end
# with the real daemon: a user (kobrw1) whose projects hold an npm
# lockfileVersion 4, a pnpm lockfileVersion '10.0', a yarn.lock whose
# entries have no version (issues "unsupported" naming each file, health
# degraded in show surfaces, JSON and human), a Yarn Berry lockfile
# (items), Claude Desktop's configuration (an MCP server, its env never
# read) and Claude agents that are symbolic links (one inside the home,
# followed; one leaving it, not opened: an issue, detail nil).
. "$(dirname "$0")/lib.sh"
C=$(cd "$(dirname "$0")/../corpus" && pwd)
U=kobrw1
H=$T/home/$U

getent passwd $U >/dev/null && fail "user $U exists already"
test_user $U
mkdir -p "$H/src/v4" "$H/src/pnpm10" "$H/src/nover" "$H/src/berry" \
    "$H/.config/Claude" "$H/.claude/agents" "$H/dotfiles"
cat >"$H/src/v4/package-lock.json" <<'EOL'
{"name": "x", "lockfileVersion": 4, "packages": {"node_modules/a": {"version": "1.0.0"}}}
EOL
printf "lockfileVersion: '10.0'\npackages:\n  a@1.0.0: {}\n" \
    >"$H/src/pnpm10/pnpm-lock.yaml"
printf '# yarn lockfile v1\n\n"a@^1":\n  resolved "x"\n' \
    >"$H/src/nover/yarn.lock"
cp "$C/prettier-release-berry/yarn.lock" "$H/src/berry/yarn.lock"
cat >"$H/.config/Claude/claude_desktop_config.json" <<'EOL'
{"mcpServers": {"files": {"command": "npx", "args": ["-y", "fs-mcp"],
  "env": {"TOKEN": "kobrw-secret-never-read"}}}}
EOL
echo "an agent" >"$H/dotfiles/helper.md"
ln -s ../../dotfiles/helper.md "$H/.claude/agents/linked.md"
ln -s /etc/hostname "$H/.claude/agents/outside.md"
chown -R $U:$U "$H"
chmod 700 "$H"

cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U]
  stateDirectory: $T/state
  controlSocket: $SOCK
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
EOC
chmod 600 "$T/kobangd.yaml"
start_daemon -f "$T/kobangd.yaml"
wait_ready
i=0
until [ "$(ctl -j show surfaces | jq -r '.[] | select(.surface ==
    "javascriptPackages") | .scans')" -gt 0 ] 2>/dev/null &&
    [ "$(ctl -j show surfaces | jq -r '.[] | select(.surface ==
    "claudeConfig") | .scans')" -gt 0 ] 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "no scans"
	sleep 0.05
done

ctl -j show surfaces >"$T/surfaces.json" || fail "show surfaces"
js() {
	jq -r --arg p "$T/home/$U/src/$1" '.[] | select(.surface ==
	    "javascriptPackages") | .issueList[] | select(.path == $p) |
	    .reason' "$T/surfaces.json"
}
[ "$(js v4/package-lock.json)" = "lockfileVersion 4 is not supported" ] ||
    fail "npm v4: $(js v4/package-lock.json)"
[ "$(js pnpm10/pnpm-lock.yaml)" = "lockfileVersion 10 is not supported" ] ||
    fail "pnpm 10: $(js pnpm10/pnpm-lock.yaml)"
[ "$(js nover/yarn.lock)" = "1 entries, none with a version" ] ||
    fail "yarn without versions: $(js nover/yarn.lock)"
[ "$(jq -r '.[] | select(.surface == "javascriptPackages") | .health' \
    "$T/surfaces.json")" = degraded ] || fail "javascriptPackages not degraded"
ctl show surfaces | grep -q "^javascriptPackages  *degraded" ||
    fail "javascriptPackages not degraded in the human show surfaces"

n=$(ctl -j show inventory javascriptPackages | jq --arg p \
    "$H/src/berry/yarn.lock" '[.[] | select(.path == $p)] | length')
[ "$n" -eq 26 ] || fail "Berry: $n items, not 26"
ctl -j show inventory javascriptPackages | jq -e '.[] | select(.path |
    test("/(v4|pnpm10|nover)/"))' >/dev/null &&
    fail "items from a file that was not understood"

ctl -j show inventory claudeConfig >"$T/claude.json" || fail "inventory"
jq -e --arg p "$H/.config/Claude/claude_desktop_config.json" '.[] |
    select(.kind == "mcpServer" and .name == "files" and .path == $p and
    .origin == "npx" and .detail == "npx -y fs-mcp")' "$T/claude.json" \
    >/dev/null || fail "Claude Desktop's server: $(cat "$T/claude.json")"
grep -q kobrw-secret-never-read "$T/claude.json" "$T/state"/* 2>/dev/null &&
    fail "a secret from env reached the inventory or the state"
jq -e --arg p "$H/.claude/agents/linked.md" '.[] | select(.kind ==
    "agent" and .name == "linked.md" and .path == $p and
    (.detail | length) == 64)' "$T/claude.json" >/dev/null ||
    fail "the linked agent: $(cat "$T/claude.json")"
# Leaving the home, it is not opened: as any file-backed item that
# cannot be read, its item stays with a nil detail, and an issue.
[ "$(jq -c '[.[] | select(.name == "outside.md") | .detail]' \
    "$T/claude.json")" = "[null]" ] || fail "a link leaving the home was read"
ctl -j show surfaces | jq -e --arg p "$H/.claude/agents/outside.md" \
    '.[] | select(.surface == "claudeConfig") | .issueList[] |
    select(.path == $p)' >/dev/null ||
    fail "no issue for the link leaving the home"
echo ok
