#!/usr/bin/env python3
"""Generate a tree of npm projects with realistic v3 lockfiles.

usage: gen_tree.py ROOT PROJECTS ENTRIES_PER_PROJECT
Each project gets a package.json and a package-lock.json whose packages
look like npm's: scoped and nested keys, resolved URLs, sha512
integrity strings, dev/optional flags, engines and dependencies maps.
"""
import base64, hashlib, json, os, random, sys

root, nproj, nent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(42)
words = ["core", "util", "parse", "http", "fs", "stream", "color", "debug",
         "path", "glob", "yaml", "json", "lodash", "react", "vue", "babel",
         "eslint", "types", "loader", "plugin", "cli", "test", "mock", "date"]
scopes = ["", "", "", "@babel/", "@types/", "@eslint/", "@vue/", "@acme/"]

def name():
    return rnd.choice(scopes) + "-".join(rnd.sample(words, rnd.randint(1, 3)))

def version():
    return "%d.%d.%d" % (rnd.randint(0, 20), rnd.randint(0, 30), rnd.randint(0, 40))

total = 0
for p in range(nproj):
    d = os.path.join(root, "org%02d" % (p % 20), "proj%04d" % p)
    os.makedirs(d, exist_ok=True)
    pk = {"": {"name": "proj%04d" % p, "version": "1.0.0",
               "dependencies": {}, "devDependencies": {}}}
    top = []
    while len(pk) - 1 < nent:
        n = name()
        key = "node_modules/" + n
        if top and rnd.random() < 0.15:
            key = "node_modules/" + rnd.choice(top) + "/node_modules/" + n
        if key in pk:
            continue
        if "/node_modules/" not in key[13:]:
            top.append(n)
        v = version()
        base = n.split("/")[-1]
        e = {"version": v,
             "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz" % (n, base, v),
             "integrity": "sha512-" + base64.b64encode(
                 hashlib.sha512(key.encode() + v.encode()).digest()).decode()}
        r = rnd.random()
        if r < 0.3:
            e["dev"] = True
        elif r < 0.35:
            e["optional"] = True
        if rnd.random() < 0.4:
            e["dependencies"] = {name(): "^" + version() for _ in range(rnd.randint(1, 4))}
        if rnd.random() < 0.2:
            e["engines"] = {"node": ">=14"}
        if rnd.random() < 0.05:
            e["license"] = "MIT"
        pk[key] = e
    for k in list(pk)[1:6]:
        pk[""]["dependencies"][k[13:]] = "^" + pk[k]["version"]
    lock = {"name": "proj%04d" % p, "version": "1.0.0", "lockfileVersion": 3,
            "requires": True, "packages": pk}
    with open(os.path.join(d, "package-lock.json"), "w") as f:
        json.dump(lock, f, indent=2)
    with open(os.path.join(d, "package.json"), "w") as f:
        json.dump({"name": "proj%04d" % p, "version": "1.0.0",
                   "dependencies": pk[""]["dependencies"]}, f, indent=2)
    total += nent
print(total)
