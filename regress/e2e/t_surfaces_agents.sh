#!/bin/sh
# homebrew, codexConfig, cursorConfig, opencodeConfig and piConfig end to
# end: a fake machine with two users' Codex, Cursor, OpenCode and Pi
# configuration and a Homebrew prefix configured via homebrew.prefixes
# (owned by the first user, so its receipts are read with her rights,
# plus a root-only receipt she cannot read); the inventory of each
# surface against golden files, health and issues, then an upgrade.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

make_users
BREW=$T/brew

receipt() {
	# receipt TAP ON_REQUEST: a realistic formula receipt
	cat <<-EOJ
	{"homebrew_version":"4.4.9","used_options":[],"unused_options":[],
	"built_as_bottle":true,"poured_from_bottle":true,
	"loaded_from_api":true,"installed_as_dependency":$([ "$2" = true ] &&
	echo false || echo true),"installed_on_request":$2,
	"changed_files":[],"time":1733140000,"source_modified_time":1732000000,
	"compiler":"clang","aliases":[],"runtime_dependencies":[],
	"source":{"spec":"stable","versions":{"stable":"1.0","head":null,
	"version_scheme":0},"path":"/opt/homebrew/Library/Taps/x/y.rb",
	"tap":"$1","tap_git_head":"3c2d1e0"},"arch":"arm64",
	"built_on":{"os":"Macintosh","os_version":"macOS 15.1"}}
	EOJ
}

# Homebrew: formulae (two versions of one), a keg without versions, a
# dependency, a tap formula, a malformed and a root-only receipt; casks.
mkdir -p "$BREW/Cellar/git/2.47.0/bin" "$BREW/Cellar/git/2.47.1/bin" \
    "$BREW/Cellar/pcre2/10.44" "$BREW/Cellar/terraform/1.5.7" \
    "$BREW/Cellar/empty" "$BREW/Cellar/broken/1.0" \
    "$BREW/Cellar/secret/0.1" "$BREW/Cellar/.hidden/1.0" \
    "$BREW/Caskroom/firefox/133.0/Firefox.app" \
    "$BREW/Caskroom/firefox/.metadata" \
    "$BREW/Caskroom/iterm2/3.5.10"
receipt homebrew/core true >"$BREW/Cellar/git/2.47.1/INSTALL_RECEIPT.json"
receipt homebrew/core false >"$BREW/Cellar/pcre2/10.44/INSTALL_RECEIPT.json"
receipt hashicorp/tap true >"$BREW/Cellar/terraform/1.5.7/INSTALL_RECEIPT.json"
echo '{"source": {"tap": "homebrew/core"' >"$BREW/Cellar/broken/1.0/INSTALL_RECEIPT.json"
receipt evil/tap true >"$BREW/Cellar/secret/0.1/INSTALL_RECEIPT.json"
cat >"$BREW/Caskroom/firefox/.metadata/INSTALL_RECEIPT.json" <<'EOJ'
{"homebrew_version":"4.4.9","loaded_from_api":true,"installed_as_dependency":false,"installed_on_request":true,"time":1733140001,"runtime_dependencies":{},"source":{"path":"/opt/homebrew/Library/Taps/homebrew/homebrew-cask/Casks/f/firefox.rb","tap":"homebrew/cask","tap_git_head":"9f8e7d6","version":"133.0"},"uninstall_artifacts":[{"app":["Firefox.app"]}]}
EOJ

# Codex: user config with profiles, MCP servers and inline hooks, a
# profile file, hooks.json, rules, skills.
mkdir -p "$H1/.codex/rules/team" "$H1/.agents/skills/release" \
    "$H1/.agents/skills/.hidden"
cat >"$H1/.codex/config.toml" <<'EOT'
# Codex CLI configuration
model = "gpt-5-codex"
approval_policy = "on-request"
sandbox_mode = "workspace-write"

[profiles.fast]
model = "gpt-5-mini"
model_reasoning_effort = "low"

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"]
env = { DOCS_TOKEN = "sk-codex-never-read" }

[mcp_servers.gateway]
url = "https://mcp.example.com/gateway"
headersHelper = "/usr/local/bin/gw-token"

[hooks.before_run]
command = ["./scripts/check.sh"]

  [hooks.after_run]
command = ["./scripts/report.sh"]
EOT
cat >"$H1/.codex/work.config.toml" <<'EOT'
[mcp_servers.jira]
command = "uvx"
args = ["mcp-atlassian", "--read-only"]
EOT
cat >"$H1/.codex/hooks.json" <<'EOJ'
{"session_start": [{"command": "echo hi"}], "pre_tool": []}
EOJ
printf 'prefix_rule(pattern = ["git", "push"], decision = "prompt")\n' \
    >"$H1/.codex/rules/default.rules"
printf 'prefix_rule(pattern = ["rm"], decision = "forbidden")\n' \
    >"$H1/.codex/rules/team/strict.rules"
echo "not a rule" >"$H1/.codex/rules/README.md"
printf -- '---\nname: release\ndescription: cut a release\n---\n' \
    >"$H1/.agents/skills/release/SKILL.md"
echo "# hidden" >"$H1/.agents/skills/.hidden/SKILL.md"

# Cursor: global and project MCP, rules, legacy rules, AGENTS.md.
mkdir -p "$H1/.cursor" "$H1/src/.cursor/rules/frontend" "$H2/src/.cursorrules"
cat >"$H1/.cursor/mcp.json" <<'EOJ'
{
  "mcpServers": {
    "browser": {"command": "npx", "args": ["-y", "@browsermcp/mcp@latest"]},
    "linear": {"url": "https://mcp.linear.app/sse", "headers": {"Authorization": "Bearer lin-never-read"}}
  }
}
EOJ
cat >"$H1/src/.cursor/mcp.json" <<'EOJ'
{"mcpServers": {"postgres": {"command": "docker", "args": ["run", "-i", "--rm", "mcp/postgres", "postgresql://localhost/app"]}}}
EOJ
printf -- '---\ndescription: React rules\nglobs: ["*.tsx"]\n---\nUse hooks.\n' \
    >"$H1/src/.cursor/rules/frontend/react.mdc"
printf -- '---\nalwaysApply: true\n---\nBe terse.\n' \
    >"$H1/src/.cursor/rules/style.mdc"
echo "Prefer small functions." >"$H1/src/.cursorrules"
echo "# Agents" >"$H1/src/AGENTS.md"

# OpenCode: global JSONC config with comments, a project config that
# does not decode (array command), agents, commands, plugins.
mkdir -p "$H1/.config/opencode/agent" "$H1/.config/opencode/command" \
    "$H1/.config/opencode/plugin" "$H2/src/.opencode"
cat >"$H1/.config/opencode/opencode.jsonc" <<'EOJ'
{
  // OpenCode configuration
  "$schema": "https://opencode.ai/config.json",
  "theme": "opencode",
  /* MCP servers */
  "mcp": {
    "context7": {"type": "remote", "url": "https://mcp.context7.com/mcp"},
    "fs": {"type": "local", "command": "mcp-fs", "args": ["--root", "/srv"], "environment": {"TOKEN": "oc-never-read"}}
  },
  "plugin": ["opencode-wakatime", "@acme/opencode-guard@1.2.0"]
}
EOJ
echo "# reviewer" >"$H1/.config/opencode/agent/review.md"
echo "# test" >"$H1/.config/opencode/command/test.md"
echo "# notes" >"$H1/.config/opencode/plugin/notes.md"
echo "// js plugin, not markdown" >"$H1/.config/opencode/plugin/guard.js"
echo "# global agents" >"$H1/.config/opencode/AGENTS.md"
cat >"$H2/src/.opencode/opencode.json" <<'EOJ'
{"mcp": {"local": {"type": "local", "command": ["bun", "x", "my-mcp"]}}, "plugin": ["p1"]}
EOJ

# Pi: shared global MCP (JSONC, imports), agent override, settings,
# packages; project MCP files.
mkdir -p "$H2/.config/mcp" "$H2/.pi/agent/extensions/pi-git" \
    "$H2/.pi/agent/extensions/pi-web/node_modules/dep" "$H2/src/.pi"
cat >"$H2/.config/mcp/mcp.json" <<'EOJ'
{
  // shared by every MCP client
  "mcpServers": {"time": {"command": "uvx", "args": ["mcp-server-time"]}},
  "imports": ["cursor", "claude-code"]
}
EOJ
cat >"$H2/.pi/agent/mcp.json" <<'EOJ'
{"mcpServers": {"search": {"url": "https://search.example.org/mcp"}}}
EOJ
cat >"$H2/.pi/agent/settings.json" <<'EOJ'
{"defaultProvider": "anthropic", "defaultModel": "claude-sonnet-4", "packages": ["pi-git"]}
EOJ
echo '{"name": "pi-git", "version": "0.3.0"}' >"$H2/.pi/agent/extensions/pi-git/package.json"
echo '{"name": "pi-web"}' >"$H2/.pi/agent/extensions/pi-web/package.json"
echo '{"name": "dep"}' >"$H2/.pi/agent/extensions/pi-web/node_modules/dep/package.json"
cat >"$H2/src/.mcp.json" <<'EOJ'
{"mcpServers": {"tracker": {"command": "tracker-mcp"}}}
EOJ
echo '{"mcpServers": {"bad": {"command": 42}}}' >"$H2/src/.pi/mcp.json"
echo '["not", "an", "object"]' >"$H2/src/.pi/settings.json"

own_homes
chown -R $U1:$U1 "$BREW"
chown root:root "$BREW/Cellar/secret/0.1/INSTALL_RECEIPT.json"
chmod 600 "$BREW/Cellar/secret/0.1/INSTALL_RECEIPT.json"

write_config <<EOC
homebrew:
  prefixes: ["$BREW"]
codex:
  profileConfigGlob: "~/.codex/*.config.toml"
EOC
start_sensor
for s in homebrew codexConfig cursorConfig opencodeConfig piConfig; do
	wait_scans $s 0
done

for s in homebrew codexConfig cursorConfig opencodeConfig piConfig; do
	ctl -j show inventory $s | jq -c '.[]' | golden agents_$s.json ||
    fail "output differs from golden/agents_$s.json"
done
for s in sk-codex-never-read lin-never-read oc-never-read; do
	ctl -j show inventory | grep -q $s && fail "a secret was read: $s"
done
[ "$(ctl -j show events | jq length)" -eq 0 ] ||
    fail "the baseline produced change events"

# Health: every surface implemented; issues where the files are bad.
ctl -j show surfaces | jq -e '[.[] | .health != "not implemented"] | all' \
    >/dev/null || fail "a surface is not implemented"
ctl -j show surfaces | jq -c '.[] | select(.surface == "homebrew" or
    .surface == "codexConfig" or .surface == "cursorConfig" or
    .surface == "opencodeConfig" or .surface == "piConfig") |
    {surface, health, baselined}' | golden agents_surfaces.json ||
    fail "output differs from golden/agents_surfaces.json"
ctl show surfaces | grep -q "^codexConfig  *ok" || fail "human surfaces"

# An upgrade: git 2.47.2 poured, 2.47.0 cleaned up.
n=$(scans_of homebrew)
mkdir -p "$BREW/Cellar/git/2.47.2"
receipt homebrew/core true >"$BREW/Cellar/git/2.47.2/INSTALL_RECEIPT.json"
rm -rf "$BREW/Cellar/git/2.47.0"
chown -R $U1:$U1 "$BREW/Cellar/git"
ctl scan homebrew >/dev/null || fail "kobanctl scan homebrew"
wait_scans homebrew "$n"
ctl -j show inventory homebrew | jq -e '[.[] | select(.name == "git") |
    .version] == ["2.47.1, 2.47.2"]' >/dev/null || fail "upgrade not seen"
# The package keeps its id (name and path): one modification.
ctl -j show events | jq -c '.[] | select(.surface == "homebrew") |
    {kind, name, oldVersion, newVersion, path}' |
    golden agents_homebrew_events.json ||
    fail "output differs from golden/agents_homebrew_events.json"
# Watched: a new formula, no kobanctl scan.
n=$(scans_of homebrew)
mkdir -p "$BREW/Cellar/jq/1.7.1"
receipt homebrew/core true >"$BREW/Cellar/jq/1.7.1/INSTALL_RECEIPT.json"
chown -R $U1:$U1 "$BREW/Cellar/jq"
wait_scans homebrew "$n"
ctl -j show inventory homebrew | jq -e '[.[] | select(.name == "jq")] |
    length == 1' >/dev/null || fail "new formula not seen"
# Watched: a Codex MCP server added with npx -y (a finding).
n=$(scans_of codexConfig)
cat >>"$H1/.codex/work.config.toml" <<'EOT'

[mcp_servers.fetch]
command = "npx"
args = ["-y", "fetch-mcp@latest"]
EOT
wait_scans codexConfig "$n"
ctl -j show inventory codexConfig | jq -e '[.[] | select(.name ==
    "fetch")] | length == 1' >/dev/null || fail "codex edit not seen"
ctl -j show findings | jq -e '[.[] | select(.surface == "codexConfig" and
    .itemName == "fetch")] | length >= 1' >/dev/null ||
    fail "no finding for the codex server run with npx -y"
echo ok
