#!/bin/sh
# scan_corpus: every file of the real-world corpus (regress/corpus,
# SOURCES) goes through the real, sandboxed scan child; what the parent
# keeps of its answer must be exactly what regress/corpus/expect.py, an
# independent reader in Python, says the file holds -- every item, no
# issue, status ok.  Per format the counts are printed for the record.
. "$(dirname "$0")/lib.sh"
C=$(cd "$(dirname "$0")/../corpus" && pwd)
S=$B/regress/scan_corpus
[ -x "$S" ] || fail "no $S (make $S)"
python3 -c 'import tomllib, yaml' 2>/dev/null ||
    fail "python3 with tomllib and PyYAML is needed (make deps)"

# The corpus stays small enough to ship (the issue's bound, 10 MB).
kb=$(du -sk "$C" | cut -f1)
[ "$kb" -lt 10240 ] || fail "the corpus is $kb KB"

files=0
bad=0
repos=$(grep -v '^#' "$C/SOURCES" | cut -f3 | sort -u | wc -l)
grep -v '^#' "$C/SOURCES" >"$T/sources"
while IFS='	' read -r file fmt repo path commit lic; do
	[ -f "$C/$file" ] || fail "$file is in SOURCES but not in the corpus"
	flags=0
	case $fmt in
	npm|pnpm|yarn|bun|uv|pylock|pyproject) p=$fmt ;;
	requirements)
		p=$fmt
		# As discovery reads a constraints file (SURFACES.md 8).
		case $(basename "$file") in constraints*) flags=4 ;; esac ;;
	claude-mcp|claude-desktop) p=claude-mcp ;;
	claude-settings) p=claude-settings flags=3 ;;
	cursor-mcp) p=cursor-mcp ;;
	pi-mcp) p=pi-mcp flags=0x20 ;;
	pi-settings) p=pi-settings ;;
	codex-config) p=codex-config ;;
	opencode) p=opencode-config flags=0x10 ;;
	codex-hooks) p=codex-hooks ;;
	brew-receipt) p=brew-receipt ;;
	claude-plugin-file) p=claude-plugin-file ;;
	*) fail "$file: unknown format $fmt" ;;
	esac
	python3 "$C/expect.py" "$fmt" "$C/$file" >"$T/want" ||
	    fail "$file: expect.py failed"
	"$S" "$p" "$flags" "$C/$file" >"$T/got" 2>"$T/err" ||
	    fail "$file: the scan child could not be run: $(cat "$T/err")"
	files=$((files + 1))
	n=$(grep -vc '^status \|^issue ' "$T/want")
	echo "$fmt $file $n"
	if ! cmp -s "$T/want" "$T/got"; then
		bad=$((bad + 1))
		echo "--- $file ($repo $path): expected vs kobangd"
		diff "$T/want" "$T/got" | head -n 20
	fi
done <"$T/sources"
[ "$files" -ge 40 ] || fail "only $files corpus files were read"
[ "$repos" -ge 25 ] || fail "only $repos repositories in SOURCES"
[ "$bad" -eq 0 ] || fail "$bad of $files corpus files differ"
echo "corpus: $files files from $repos repositories, all as expected"
