#!/bin/sh
# javascriptPackages beyond npm and pythonPackages end to end: projects
# with pnpm (v6, v9), yarn (classic v1; Berry, read as YAML), bun (JSONC:
# a real bun.lock with trailing commas is read), uv.lock, pyproject.toml
# (one with a PEP 735 include-group), pylock.toml and requirement and
# constraint files with -r/-c includes (a cycle, an include outside the
# project, a missing one, a chain deeper than 16), files over the cap.  Inventory and issues
# against golden files, health in show surfaces, then a version bump in
# uv.lock and a new yarn project.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sensor_lib.sh"

SCAN=$(cd "$(dirname "$0")/../scan" && pwd)
# golden runs in this shell (not at the end of a pipeline), so that its
# fail ends the test.

make_users

mkdir -p "$H1/src/pnpm6" "$H1/src/pnpm9" "$H1/src/yarn1" "$H1/src/berry" \
    "$H1/src/bun" "$H1/src/bunc" "$H1/src/py/uvapp" "$H1/src/py/pylock" \
    "$H1/src/py/req/pins" "$H1/src/py/req/deep" "$H1/src/badpy" \
    "$H2/src/web/node_modules/x"
cp "$SCAN/pnpm-lock-v6.yaml" "$H1/src/pnpm6/pnpm-lock.yaml"
cp "$SCAN/pnpm-lock-v9.yaml" "$H1/src/pnpm9/pnpm-lock.yaml"
cp "$SCAN/yarn-v1.lock" "$H1/src/yarn1/yarn.lock"
cp "$SCAN/yarn-berry.lock" "$H1/src/berry/yarn.lock"
cp "$SCAN/bun.lock" "$H1/src/bun/bun.lock"
cp "$SCAN/bun-trailing.lock" "$H1/src/bunc/bun.lock"
cp "$SCAN/uv.lock" "$H1/src/py/uvapp/uv.lock"
cp "$SCAN/pyproject.toml" "$H1/src/py/uvapp/pyproject.toml"
cp "$SCAN/pylock.toml" "$H1/src/py/pylock/pylock.toml"
cp "$SCAN/pyproject-include-group.toml" "$H1/src/badpy/pyproject.toml"
# Requirements with includes.
cat >"$H1/src/py/req/requirements.txt" <<'EOF'
# top level
-r base.txt
-c pins/web.txt
-r ../../outside.txt
-r ./requirements.txt
-r missing.txt
-r deep/d1.txt
flask==3.0 \
    --hash=sha256:abc
EOF
cat >"$H1/src/py/req/base.txt" <<'EOF'
requests>=2.31
-r requirements.txt
-r pins/../base.txt
EOF
cat >"$H1/src/py/req/pins/web.txt" <<'EOF'
urllib3<2
-r ../base2.txt
EOF
echo "idna==3.7" >"$H1/src/py/req/base2.txt"
cat >"$H1/src/py/req/requirements-dev.txt" <<'EOF'
pytest>=8
-r base.txt
EOF
cat >"$H1/src/py/req/constraints.txt" <<'EOF'
charset-normalizer<4
-r base2.txt
EOF
# A chain d1 -> d2 -> ... -> d17: depth 16 is the last one read.
i=1
while [ $i -le 17 ]; do
	printf 'deep-%d\n-r d%d.txt\n' $i $((i + 1)) >"$H1/src/py/req/deep/d$i.txt"
	i=$((i + 1))
done
echo "outside-never-read" >"$H1/src/outside.txt"
# Over the 25,000,000-byte cap (sparse): an issue, nothing read.
mkdir -p "$H1/src/big"
truncate -s 25000001 "$H1/src/big/uv.lock"
truncate -s 25000001 "$H1/src/big/pnpm-lock.yaml"
# kobtest2: pnpm and yarn, one lockfile under node_modules (excluded).
cp "$SCAN/pnpm-lock-v9.yaml" "$H2/src/web/pnpm-lock.yaml"
cp "$SCAN/yarn-v1.lock" "$H2/src/web/node_modules/x/yarn.lock"
own_homes

write_config </dev/null
start_sensor
wait_scans javascriptPackages 0
wait_scans pythonPackages 0

ctl -j show inventory javascriptPackages | jq -c '.[] | {kind, name,
    version, path, origin, detail}' >"$T/out.packages_js.json"
golden packages_js.json <"$T/out.packages_js.json"
ctl -j show inventory pythonPackages | jq -c '.[] | {kind, name,
    version, path, origin, detail}' >"$T/out.packages_py.json"
golden packages_py.json <"$T/out.packages_py.json"
ctl -j show inventory pythonPackages | grep -q outside-never-read &&
    fail "an include outside the project was read"
ctl -j show surfaces | jq -c '.[] | select(.surface == "javascriptPackages"
    or .surface == "pythonPackages") | {surface, health, baselined, items,
    issueList}' >"$T/out.packages_surfaces.json"
golden packages_surfaces.json <"$T/out.packages_surfaces.json"
ctl show surfaces | grep -q "^pythonPackages  *degraded" ||
    fail "pythonPackages not in the human show surfaces"
[ "$(ctl -j show events | jq length)" -eq 0 ] ||
    fail "the baseline produced change events"

# A version bump in uv.lock; a new yarn project.
n=$(scans_of pythonPackages)
sed 's/^version = "3.7"$/version = "3.8"/' "$H1/src/py/uvapp/uv.lock" \
    >"$H1/src/py/uvapp/uv.lock.tmp"
chown $U1 "$H1/src/py/uvapp/uv.lock.tmp"
mv "$H1/src/py/uvapp/uv.lock.tmp" "$H1/src/py/uvapp/uv.lock"
wait_scans pythonPackages "$n"
n=$(scans_of javascriptPackages)
mkdir -p "$H2/src/newyarn"
printf 'chalk@^5.3.0:\n  version "5.3.0"\n' >"$H2/src/newyarn/yarn.lock"
chown -R $U2:$U2 "$H2/src/newyarn"
i=0
until ctl -j show inventory javascriptPackages | jq -e '[.[] |
    select(.name == "chalk" and .version == "5.3.0")] | length == 1' \
    >/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the new yarn project was not picked up"
	sleep 0.05
done
i=0
until [ "$(ctl -j show events | jq '[.[] | select(.surface ==
    "pythonPackages")] | length')" -eq 2 ]; do
	i=$((i + 1))
	# Generous: under load the rescan can queue behind another one.
	[ $i -lt 300 ] || fail "no events for the uv.lock bump"
	sleep 0.05
done
ctl -j show events | jq -c '.[] | {kind, surface, itemKind, name,
    oldVersion, newVersion, path}' | sort >"$T/out.packages_events.json"
golden packages_events.json <"$T/out.packages_events.json"

# An included file (its name matches no glob) is watched too: an edit
# to it rescans and its new line is an item.
n=$(scans_of pythonPackages)
echo "rich>=13" >>"$H1/src/py/req/base.txt"
wait_scans pythonPackages "$n" 5
i=0
until ctl -j show inventory pythonPackages | jq -e '[.[] |
    select(.name == "rich" and .origin == "pip" and
    (.path | endswith("/req/base.txt")))] | length == 1' >/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the edited include was not read again"
	sleep 0.05
done
echo ok
