#!/usr/bin/env python3
"""
expect.py FORMAT FILE: the items a developer would say FILE holds, in the
shape of the reference sensor's items, printed as scan_corpus prints
kobangd's:

    kind | name | version | origin | detail      (nil "~")

sorted by item id (kind/name/version) with the first of equal ids kept,
then "status ok".

Written for the corpus test from the formats' own definitions (npm's
package-lock documentation, pnpm's lockfile spec, Yarn's lockfile, bun's
text lockfile, uv, PEP 751, PEP 621/735, Poetry, pip's requirement files,
the MCP configuration files of Claude, Cursor, OpenCode, Pi and Codex),
with the Python standard library and PyYAML only.  It shares nothing with
kobangd's C parsers; where the reference sensor gives a sensible item the
shape here is the reference's (SURFACES.md), and kobangd.yaml(5) lists
every place where kobangd, like this reader, gives another one.
"""

import hashlib
import json
import os
import re
import sys
import tomllib

import yaml


def out(items):
    seen = set()
    rows = []
    for it in items:
        key = (it[0], it[1], it[2])
        if key in seen:
            continue
        seen.add(key)
        rows.append(it)

    def idkey(r):
        # The id is surface/kind/path/name[/version], nil version "".
        return ("/".join([r[0], r[1]] + ([r[2] or ""] if r[0] in
                ("package", "pythonResolvedPackage",
                 "pythonDeclaredRequirement", "pythonConstraint")
                else []))).encode()

    def esc(s):
        if s is None:
            return "~"
        o = []
        for c in s:
            if c in "\\|":
                o.append("\\" + c)
            elif ord(c) < 0x20:
                o.append("\\x%02x" % ord(c))
            else:
                o.append(c)
        return "".join(o)

    for r in sorted(rows, key=idkey):
        # A sixth field: installedOnRequest, printed only when set.
        print(" | ".join(esc(x) for x in r[:5]) +
              "".join(" | " + x for x in r[5:]))
    print("status ok")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def jsonc(text):
    """JSON with // and /* */ comments and trailing commas."""
    o = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            o.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            i = text.index("*/", i + 2) + 2
        else:
            o.append(c)
            i += 1
    s = "".join(o)
    # A comma followed only by blanks before } or ], outside strings.
    o, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            o.append(s[i:j + 1])
            i = j + 1
            continue
        if c == ",":
            j = i + 1
            while j < n and s[j] in " \t\r\n":
                j += 1
            if j < n and s[j] in "}]":
                i += 1
                continue
        o.append(c)
        i += 1
    return json.loads("".join(o))


# ---- JavaScript -----------------------------------------------------------

NM = "node_modules/"


def npm_detail(e):
    parts = []
    if isinstance(e.get("resolved"), str):
        parts.append("resolved=" + e["resolved"])
    if isinstance(e.get("integrity"), str):
        parts.append("integrity=" + e["integrity"])
    if e.get("dev") is True:
        parts.append("scope=dev")
    elif e.get("optional") is True:
        parts.append("scope=optional")
    return " ".join(parts) or None


def npm(path):
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    items = []
    if isinstance(doc.get("packages"), dict):
        # v2, v3: every installed package under its install path; a
        # workspace's own node_modules hold packages too.
        for key, e in doc["packages"].items():
            if NM not in key or not isinstance(e.get("version"), str):
                continue
            name = key[key.index(NM) + len(NM):]
            items.append(("package", name, e["version"], "npm",
                          npm_detail(e)))
        return items

    # v1: the same tree as nested "dependencies", the install path being
    # the chain of names.
    def walk(deps, prefix):
        for name, e in deps.items():
            full = prefix + name
            if isinstance(e.get("version"), str):
                items.append(("package", full, e["version"], "npm",
                              npm_detail(e)))
            if isinstance(e.get("dependencies"), dict):
                walk(e["dependencies"], full + "/" + NM)
    walk(doc.get("dependencies") or {}, "")
    return items


def pnpm(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    ver = str(doc.get("lockfileVersion"))
    items = []
    for key in (doc.get("packages") or {}):
        if ver.startswith("5"):
            # /name/version_peers or /@scope/name/version_peers
            k = key.strip("/")
            name, _, version = k.rpartition("/")
            version = version.split("_", 1)[0]
        else:
            # /name@version(peer@x) (6), name@version (9)
            k = key.split("(", 1)[0].strip("/")
            at = k.rfind("@")
            if at <= 0:
                continue
            name, version = k[:at], k[at + 1:]
        if name and version:
            items.append(("package", name, version, "pnpm", None))
    return items


def yarn(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\r\n", "\n")
    items = []
    if "\n__metadata:\n" in "\n" + text:
        # Berry: YAML; each entry keyed by its descriptors.
        doc = yaml.safe_load(text)
        for key, e in doc.items():
            if key == "__metadata" or not isinstance(e, dict):
                continue
            if e.get("linkType") == "soft":
                continue        # the project's own workspaces, links
            sel = str(key).split(",")[0].strip()
            at = sel.find("@", 1)
            name = sel[:at] if at > 0 else sel
            items.append(("package", name, str(e["version"]), "yarn",
                          None))
        return items
    # v1: "selectors:" lines, then an indented 'version "x"'.
    name = None
    for line in text.split("\n"):
        if line and not line.startswith(" ") and line.endswith(":") \
                and not line.startswith("#"):
            sel = line[:-1].strip('"').split(",")[0].strip().strip('"')
            if "@npm:" in sel:
                name = sel[:sel.index("@npm:")]
            else:
                at = sel.rfind("@")
                name = sel[:at] if at > 0 else sel
            continue
        t = line.strip()
        if name is not None and t.startswith("version "):
            items.append(("package", name, t[8:].strip('"'), "yarn",
                          None))
            name = None
    return items


def bun(path):
    with open(path, encoding="utf-8") as f:
        doc = jsonc(f.read())
    items = []
    for key, e in (doc.get("packages") or {}).items():
        if not isinstance(e, list):
            continue
        version = None
        if e and isinstance(e[0], str) and "@" in e[0]:
            version = e[0][e[0].rfind("@") + 1:]
        items.append(("package", key, version, "bun", None))
    return items


# ---- Python ---------------------------------------------------------------

# A name, with its extras as written (the reference keeps them).
NAMECH = re.compile(r"[A-Za-z0-9._-]+(\[[^\]]*\])?")


def reqname(s):
    """The distribution a PEP 508 requirement (or requirements line)
    names, as written (no case folding)."""
    s = s.split("--hash=", 1)[0].strip(" \t")
    if not s or s.startswith("#"):
        return None
    if s.startswith("-e "):
        s = s[3:]
    if s.startswith("-"):
        return None
    if " @ " in s:
        s = s.split(" @ ", 1)[0]
    elif "://" in s or s[:1] in "./~":
        return s            # a bare URL or path: no name to read
    m = NAMECH.match(s.strip(" \t"))
    return m.group(0) if m else None


def uv(path, key="package", origin="uv"):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    return [("pythonResolvedPackage", p["name"], p.get("version"), origin,
             None) for p in doc.get(key, [])]


def pylock(path):
    return uv(path, "packages", "pylock")


def pyproject(path):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    reqs = []
    proj = doc.get("project", {})
    reqs += proj.get("dependencies", [])
    for v in proj.get("optional-dependencies", {}).values():
        reqs += v
    reqs += doc.get("build-system", {}).get("requires", [])
    for v in doc.get("dependency-groups", {}).values():
        reqs += [x for x in v if isinstance(x, str)]   # not include-group
    items = []
    for r in reqs:
        n = reqname(r)
        if n:
            items.append(("pythonDeclaredRequirement", n, None, "pyproject",
                          None))
    poetry = doc.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}),
              poetry.get("dev-dependencies", {})]
    for g in poetry.get("group", {}).values():
        tables.append(g.get("dependencies", {}))
    for t in tables:
        for n in t:
            if n != "python":
                items.append(("pythonDeclaredRequirement", n, None,
                              "pyproject", None))
    return items


def requirements(path):
    kind = ("pythonConstraint"
            if os.path.basename(path).startswith("constraints")
            else "pythonDeclaredRequirement")
    with open(path, encoding="utf-8") as f:
        raw = [l.strip(" \t") for l in f.read().split("\n") if l]
    lines, cur = [], None
    for l in raw:
        if cur is not None:
            l = cur + " " + l
            cur = None
        if l.endswith("\\"):
            cur = l[:-1].strip(" \t")
            continue
        lines.append(l)
    if cur is not None:
        lines.append(cur)
    items = []
    for l in lines:
        t = l.split("--hash=", 1)[0].strip(" \t")
        if re.match(r"(-r|--requirement|-c|--constraint) ", t):
            continue
        n = reqname(l)
        if n:
            items.append((kind, n, None, "pip", None))
    return items


# ---- Agents ---------------------------------------------------------------

def mcp_item(name, spec):
    """SURFACES.md 2.2; an OpenCode command array is command + args."""
    if not isinstance(spec, dict):
        return None
    cmd, args = spec.get("command"), spec.get("args") or []
    if isinstance(cmd, list):
        cmd, args = (cmd[0] if cmd else None), cmd[1:] + args
    url = spec.get("url")
    origin = url if url else cmd
    if origin is None:
        return None
    parts = []
    if url:
        parts.append(url)
    elif cmd:
        parts.append(" ".join([cmd] + args))
    if spec.get("headersHelper"):
        parts.append("headersHelper")
    return ("mcpServer", name, None, origin, " ".join(parts) or None)


def mcp_doc(doc, projects=True):
    items, names = [], set()
    cands = list((doc.get("mcpServers") or {}).items())
    if projects:
        for p in (doc.get("projects") or {}).values():
            cands += list((p.get("mcpServers") or {}).items())
    for n, s in cands:
        it = mcp_item(n, s)
        if it and n not in names:
            names.add(n)
            items.append(it)
    return items


def claude_mcp(path):
    with open(path, "rb") as f:
        return mcp_doc(json.loads(f.read()))


def cursor_mcp(path):
    with open(path, "rb") as f:
        return mcp_doc(json.loads(f.read()), projects=False)


def pi_mcp(path):
    with open(path, encoding="utf-8") as f:
        doc = jsonc(f.read())
    items = mcp_doc(doc, projects=False)
    for s in doc.get("imports") or []:
        items.append(("import", s, None, "pi-import", None))
    return items


def settings_names(v):
    if isinstance(v, dict):
        return sorted(v)
    if isinstance(v, list):
        out = []
        for x in v:
            if isinstance(x, str):
                out.append(x)
            elif isinstance(x, dict):
                for k in ("name", "source", "path"):
                    if isinstance(x.get(k), str):
                        out.append(x[k])
                        break
        return sorted(out)
    return []


def claude_settings(path):
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    h = sha(path)
    items = [("settings", k, None, "claude-settings", h) for k in doc]
    if "hooks" in doc:
        items.append(("hook", "hooks", None, "claude-hook", h))
    perm = doc.get("permissions")
    if isinstance(perm, dict):
        for k in ("allow", "deny"):
            if k in perm:
                items.append(("settings", "permissions." + k, None,
                              "claude-settings", h))
    seen = set()
    for k in ("enabledPlugins", "extraKnownMarketplaces",
              "pluginMarketplaces", "plugins"):
        for n in settings_names(doc.get(k)):
            if n not in seen:
                seen.add(n)
                items.append(("plugin", n, None, "claude-plugin", h))
    return items


def claude_plugin_file(path):
    """SURFACES.md 2.4: names from the top-level value as for settings;
    Claude Code's installed_plugins.json (a number "version", an object
    "plugins") names its plugins by the keys of "plugins"."""
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    h = sha(path)
    if isinstance(doc, dict) and isinstance(doc.get("plugins"), dict) \
            and type(doc.get("version")) in (int, float):
        names = sorted(doc["plugins"])
    else:
        names = settings_names(doc)
    out, seen = [], set()
    for n in names:
        if n not in seen:
            seen.add(n)
            out.append(("plugin", n, None, "claude-plugin", h))
    return out


def pi_settings(path):
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    h = sha(path)
    return [("settings", k, None, "pi-settings", h) for k in doc]


def codex_config(path):
    with open(path, "rb") as f:
        raw = f.read()
    doc = tomllib.loads(raw.decode())
    h = sha(path)
    items = [("configProfile", os.path.basename(path), None, "codex-config",
              h)]
    for n, s in (doc.get("mcp_servers") or {}).items():
        it = mcp_item(n, s)
        if it:
            items.append(it)
    for l in raw.decode().split("\n"):
        t = l.strip(" \t")
        if t.startswith("[hooks.") and t.endswith("]") and t[7:-1]:
            items.append(("hook", t[7:-1], None, "codex-hooks", h))
    return items


def opencode(path):
    with open(path, encoding="utf-8") as f:
        doc = jsonc(f.read())
    h = sha(path)
    items = [("configProfile", os.path.basename(path), None,
              "opencode-config", h)]
    for n, s in (doc.get("mcp") or {}).items():
        it = mcp_item(n, s)
        if it:
            items.append(it)
    for p in doc.get("plugin") or []:
        items.append(("plugin", p, None, "opencode-plugin", h))
    return items


def brew_receipt(path):
    """SURFACES.md 1: the rack and version from the Cellar path, origin
    the tap (or "unknown"), installedOnRequest as recorded."""
    parts = path.split("/")
    name, version = parts[-3], parts[-2]
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    tap = (doc.get("source") or {}).get("tap") or "unknown"
    item = ("package", name, version, tap, None)
    ior = doc.get("installed_on_request")
    if isinstance(ior, bool):
        item += ("true" if ior else "false",)
    return [item]


def codex_hooks(path):
    """SURFACES.md 3.2: the top-level keys of hooks.json, sorted; Codex
    writes {"hooks": {event: [...]}}, whose events are the hooks."""
    with open(path, "rb") as f:
        doc = json.loads(f.read())
    h = sha(path)
    if isinstance(doc.get("hooks"), dict):
        doc = doc["hooks"]
    return [("hook", k, None, "codex-hooks", h) for k in sorted(doc)]


FORMATS = {
    "npm": npm, "pnpm": pnpm, "yarn": yarn, "bun": bun,
    "uv": uv, "pylock": pylock, "pyproject": pyproject,
    "requirements": requirements,
    "claude-mcp": claude_mcp, "claude-desktop": claude_mcp,
    "claude-settings": claude_settings, "cursor-mcp": cursor_mcp,
    "pi-mcp": pi_mcp, "pi-settings": pi_settings,
    "codex-config": codex_config, "opencode": opencode,
    "brew-receipt": brew_receipt, "codex-hooks": codex_hooks,
    "claude-plugin-file": claude_plugin_file,
}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in FORMATS:
        sys.exit("usage: expect.py format file")
    out(FORMATS[sys.argv[1]](sys.argv[2]))
