#!/bin/sh
# Credentials in MCP server specs never leave the scan child: a user
# writes ~/.claude.json, ~/src/.mcp.json, ~/.codex/config.toml and
# ~/.cursor/mcp.json with secrets in URLs (user:password@, ?token=,
# #fragment), in flags (--api-key X, --token=X), in KEY=VALUE pairs, in
# an Authorization header and as a bare GitHub token.  None of them may
# show in kobanctl show inventory / events / findings (text and -j), in
# the state directory's files (the SQLite database and its WAL), in the
# outbox rows that would go to Fleet (decoded), or in the daemon's log
# at -vv.  The item ids are the reference's, computed here from
# RULES.md 2.1.  A changed secret reads as "modified"; a restart, with
# the key kept in the state directory, changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

U1=kobmcp1
H1=$T/home/$U1
test_user $U1

GHP=ghp_e2eR3dactT0kenAbcdefghijklmnopqrstu
SECRETS="UsrE2eName PwE2eSecret QryE2eSecret FragE2eSecret FlagE2eSecret
EqE2eSecret EnvE2eSecret HdrE2eSecret CdxE2eSecret CsrE2eSecret $GHP"

mkdir -p "$H1/src" "$H1/.codex" "$H1/.cursor"
cat >"$H1/.claude.json" <<EOJ
{"numStartups": 3,
 "mcpServers": {
  "remote": {"type": "http",
   "url": "https://UsrE2eName:PwE2eSecret@mcp.example.com/mcp?token=QryE2eSecret&region=eu#FragE2eSecret"},
  "github": {"command": "docker", "args": ["run", "-i", "--rm", "-e",
   "GITHUB_PERSONAL_ACCESS_TOKEN=$GHP", "ghcr.io/github/github-mcp-server"]}
 },
 "projects": {"$H1/src": {"mcpServers": {
  "tool": {"command": "npx", "args": ["-y", "tool-mcp", "--api-key",
   "FlagE2eSecret", "--token=EqE2eSecret"]}}}}}
EOJ
cat >"$H1/src/.mcp.json" <<'EOJ'
{"mcpServers": {"proxy": {"command": "env", "args": ["API_TOKEN=EnvE2eSecret",
 "npx", "mcp-remote", "https://api.example.com/sse", "--header",
 "Authorization: Bearer HdrE2eSecret"]}}}
EOJ
cat >"$H1/.codex/config.toml" <<'EOT'
[mcp_servers.search]
command = "uvx"
args = ["search-mcp", "--password", "CdxE2eSecret", "--verbose"]
EOT
cat >"$H1/.cursor/mcp.json" <<'EOJ'
{"mcpServers": {"hub": {"url": "https://hub.example.com/sse?key=CsrE2eSecret"}}}
EOJ
chown -R $U1:$U1 "$H1"
chmod 700 "$H1"

cat >"$T/kobangd.yaml" <<EOC
kobangd:
  users: [$U1]
  stateDirectory: $T/state
  controlSocket: $SOCK
watch:
  debounceMilliseconds: 100
  projectRoots: ["~/src"]
sync:
  enabled: true
  endpoint: https://127.0.0.1:9
  tenantID: tenant-1
  deviceID: device-1
EOC
chmod 600 "$T/kobangd.yaml"

# Everything kobanctl and the daemon can show, and the state's bytes.
dump_all() {
	{
		ctl show inventory
		ctl -j show inventory
		ctl show events
		ctl -j show events
		ctl show findings
		ctl -j show findings
		ctl show surfaces
	} >"$T/shown" 2>&1 || fail "kobanctl"
	# The outbox (Fleet unreachable: it keeps every event), decoded.
	"$B/regress/outbox_dump" "$T/state" >"$T/outbox" 2>&1 ||
	    fail "outbox_dump: $(cat "$T/outbox")"
	cat "$T/outbox" >>"$T/shown"
}

no_secret() {
	# $1: what changed since the last call, for the message
	dump_all
	for s in $SECRETS ${EXTRA:-}; do
		grep -q -- "$s" "$T/shown" &&
		    fail "$1: $s shown by kobanctl: $(grep -m1 -- "$s" "$T/shown")"
		for f in "$T"/state/*; do
			[ -f "$f" ] || continue
			grep -a -q -- "$s" "$f" && fail "$1: $s in $f"
		done
		grep -q -- "$s" "$T/log" && fail "$1: $s in the daemon's log"
	done
	return 0
}

SURFACES="claudeConfig codexConfig cursorConfig"
scan_all() {
	for s in $SURFACES; do
		eval "n_$s=\$(scans_of $s)"
	done
	ctl scan >/dev/null || fail "kobanctl scan"
	for s in $SURFACES; do
		eval "wait_scans $s \$n_$s"
	done
}

# -v from start_daemon, -v here: -vv.
start_daemon -f "$T/kobangd.yaml" -v
SYNC=on wait_ready
for s in $SURFACES; do
	wait_scans $s 0
done
# A checkpoint would move the WAL into the database: look at both as
# they are, and again after the restart below.
no_secret "baseline"

inv() {
	ctl -j show inventory "$1" | jq -r ".[] | select(.name == \"$2\") | $3"
}

# The servers are there, redacted, with what rules read kept.
for n in remote github tool proxy; do
	[ -n "$(inv claudeConfig $n .name)" ] || fail "no server $n"
done
inv claudeConfig remote .origin | grep -q \
    '^https://<redacted:[0-9a-f]\{12\}>@mcp\.example\.com/mcp?token=<redacted:[0-9a-f]\{12\}>&region=<redacted:[0-9a-f]\{12\}>#<redacted:[0-9a-f]\{12\}>$' ||
    fail "remote origin: $(inv claudeConfig remote .origin)"
inv claudeConfig tool .detail | grep -q \
    '^npx -y tool-mcp --api-key <redacted:[0-9a-f]\{12\}> --token=<redacted:[0-9a-f]\{12\}>$' ||
    fail "tool detail: $(inv claudeConfig tool .detail)"
inv claudeConfig proxy .detail | grep -q \
    '^env API_TOKEN=<redacted:[0-9a-f]\{12\}> npx mcp-remote https://api\.example\.com/sse --header Authorization: <redacted:[0-9a-f]\{12\}>$' ||
    fail "proxy detail: $(inv claudeConfig proxy .detail)"
inv claudeConfig github .detail | grep -q \
    '^docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN=<redacted:' ||
    fail "github detail: $(inv claudeConfig github .detail)"
inv codexConfig search .detail | grep -q \
    '^uvx search-mcp --password <redacted:[0-9a-f]\{12\}> --verbose$' ||
    fail "codex detail: $(inv codexConfig search .detail)"

# What would go to Fleet: the same redacted items (a manual identity and
# an unreachable endpoint make the outbox keep them).
grep -q '<redacted:[0-9a-f]\{12\}>@mcp\.example\.com/mcp?token=' "$T/outbox" ||
    fail "the outbox holds no redacted remote: $(head -c 2000 "$T/outbox")"

# Ids: surface/kind/path/name (RULES.md 2.1), as the reference makes them.
for x in "claudeConfig remote $H1/.claude.json" \
    "claudeConfig tool $H1/.claude.json" \
    "claudeConfig proxy $H1/src/.mcp.json" \
    "codexConfig search $H1/.codex/config.toml" \
    "cursorConfig hub $H1/.cursor/mcp.json"; do
	set -- $x
	want="$1/mcpServer/$3/$2"
	got=$(inv "$1" "$2" .id)
	[ "$got" = "$want" ] || fail "id of $2: $got, not $want"
done

# The key: root's, 0600, 32 bytes.
KEY=$T/state/redact.key
[ "$(stat -c '%u %a %s' "$KEY")" = "0 600 32" ] ||
    fail "redact.key: $(stat -c '%u %a %s' "$KEY")"
keysum=$(sha256sum <"$KEY")
keyhex=$(od -An -tx1 -v "$KEY" | tr -d ' \n')
grep -qi "$keyhex" "$T/log" && fail "the key is in the log"

# A changed secret: the item reads as modified, the secret nowhere.
before=$(inv claudeConfig remote .detail)
sed -i 's/QryE2eSecret/QryE2eChanged/' "$H1/.claude.json"
EXTRA=QryE2eChanged
n=$(scans_of claudeConfig)
ctl scan claudeConfig >/dev/null || fail "kobanctl scan claudeConfig"
wait_scans claudeConfig "$n"
after=$(inv claudeConfig remote .detail)
[ "$before" != "$after" ] || fail "the marker did not change: $after"
# Only the query value's marker changed.
[ "$(echo "$before" | sed 's/token=<redacted:[0-9a-f]*>//')" = \
    "$(echo "$after" | sed 's/token=<redacted:[0-9a-f]*>//')" ] ||
    fail "more than the token changed: $before / $after"
ctl -j show events | jq -e --arg p "$H1/.claude.json" '[.[] |
    select(.kind == "modified" and .name == "remote" and .path == $p)] |
    length == 1' >/dev/null ||
    fail "no modified event: $(ctl -j show events)"
[ "$(ctl -j show events | jq length)" -eq 1 ] ||
    fail "other events: $(ctl -j show events)"
no_secret "after the change"

# A restart: the same key, the same markers, no event.
inv claudeConfig remote .detail >"$T/detail.before"
kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=
mv "$T/log" "$T/log.1"
start_daemon -f "$T/kobangd.yaml" -v
SYNC=on wait_ready
for s in $SURFACES; do
	wait_scans $s 0
done
scan_all
inv claudeConfig remote .detail | cmp -s - "$T/detail.before" ||
    fail "markers changed over a restart: $(inv claudeConfig remote .detail)"
[ "$(ctl -j show events | jq length)" -eq 1 ] ||
    fail "a restart made events: $(ctl -j show events | jq -c '.[] |
    {kind, name}')"
[ "$(sha256sum <"$KEY")" = "$keysum" ] || fail "the key changed"
cat "$T/log.1" >>"$T/log"
no_secret "after the restart"
echo "ok"
