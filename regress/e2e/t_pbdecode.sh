#!/bin/sh
# pbdecode: the PROTOCOL.md 7.3 vectors in base64 (as a SyncEventRequest
# carries them), hex (as sqlite3's hex() prints an outbox payload) and raw
# bytes decode to the right JSON and payloadHash; refusals exit 1, bad
# input 2.
. "$(dirname "$0")/lib.sh"
P=$B/regress/pbdecode
[ -x "$P" ] || fail "no $P (make $P)"

A=CAESjAEKNWhvbWVicmV3L3BhY2thZ2UvL29wdC9ob21lYnJldy9DZWxsYXIvcmlwZ3JlcC9yaXBncmVwEghob21lYnJldxoHcGFja2FnZSIHcmlwZ3JlcCoGMTQuMS4xMhwvb3B0L2hvbWVicmV3L0NlbGxhci9yaXBncmVwOhEKDWhvbWVicmV3L2NvcmUQAQ==
B_HEX=080112760a31686f6d65627265772f7061636b6167652f2f6f70742f686f6d65627265772f43656c6c61722f70637265322f70637265321208686f6d65627265771a077061636b61676522057063726532321a2f6f70742f686f6d65627265772f43656c6c61722f70637265323a0b0a07756e6b6e6f776e1000
C=CAEatAIKJDZGMUMyQjlFLTBENEEtNEU3Qi05QzU1LTFBMkIzQzRENUU2RhIMY2xhdWRlQ29uZmlnGjhjbGF1ZGVDb25maWcvbWNwU2VydmVyLy9Vc2Vycy9hbGljZS8uY2xhdWRlLmpzb24vd2VhdGhlciIdYWdlbnQuY29uZmlnLmVwaGVtZXJhbC1ydW5uZXIqGEVwaGVtZXJhbCBwYWNrYWdlIHJ1bm5lcjISRXhhbXBsZSByYXRpb25hbGUuOgdub3RhYmxlQgd3ZWF0aGVySksKGS9Vc2Vycy9hbGljZS8uY2xhdWRlLmpzb24SEm5weCAteSB3ZWF0aGVyLW1jcBoGZGV0YWlsIhJucHggLXkgd2VhdGhlci1tY3BSGDIwMjYtMDYtMDFUMTA6MDA6MDAuMjUwWg==

out=$(echo "$A" | "$P" -b -c -v) || fail "vector A"
[ "$out" = '{"size":145,"payloadHash":"6103f3c6f442f3d5895ccb3744f876d3286f28906f9d072fb66ca3eb11f9c7c6","canonical":true,"payload":{"payloadVersion":1,"inventoryItem":{"itemId":"homebrew/package//opt/homebrew/Cellar/ripgrep/ripgrep","surface":"homebrew","kind":"package","name":"ripgrep","version":"14.1.1","path":"/opt/homebrew/Cellar/ripgrep","provenance":{"origin":"homebrew/core","installedOnRequest":true}}}}' ] ||
    fail "vector A: $out"

out=$(echo "$B_HEX" | "$P" -x -c) || fail "vector B"
[ "$out" = '{"payloadVersion":1,"inventoryItem":{"itemId":"homebrew/package//opt/homebrew/Cellar/pcre2/pcre2","surface":"homebrew","kind":"package","name":"pcre2","path":"/opt/homebrew/Cellar/pcre2","provenance":{"origin":"unknown","installedOnRequest":false}}}' ] ||
    fail "vector B: $out"

echo "$C" | base64 -d >"$T/c.bin"
out=$("$P" -v "$T/c.bin") || fail "vector C"
[ "$(echo "$out" | jq -r .payloadHash)" = 75c53e085f7b15f000d2cf87198d6f3166df79f51b128f2841a6c812e307c756 ] ||
    fail "vector C hash: $out"
[ "$(echo "$out" | jq -c '.payload.finding | [.id, .ruleId, .severity,
    .evidence.matchedValue, .observedAt]')" = '["6F1C2B9E-0D4A-4E7B-9C55-1A2B3C4D5E6F","agent.config.ephemeral-runner","notable","npx -y weather-mcp","2026-06-01T10:00:00.250Z"]' ] ||
    fail "vector C fields: $out"

# Every strict prefix of C is refused with exit 1.
n=$(wc -c <"$T/c.bin")
i=0
while [ $i -lt "$n" ]; do
	head -c $i "$T/c.bin" | "$P" 2>/dev/null
	[ $? -eq 1 ] || fail "prefix of $i bytes not refused"
	i=$((i + 17))
done

# Non-canonical (version as 81 00) decodes, but not under -c.
echo 0881001203220161 | "$P" -x >/dev/null ||
    fail "non-canonical refused without -c"
echo 0881001203220161 | "$P" -x -c 2>/dev/null && fail "-c accepted"
# Unknown field, wire type 5: exit 1.
echo 08010d00000000 | "$P" -x 2>/dev/null; [ $? -eq 1 ] || fail "wire 5"
# Input that is not base64 or hex: exit 2.
echo 'AB=C' | "$P" -b 2>/dev/null; [ $? -eq 2 ] || fail "bad base64"
echo '0g' | "$P" -x 2>/dev/null; [ $? -eq 2 ] || fail "bad hex"
exit 0
