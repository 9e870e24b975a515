#!/usr/bin/env python3
# A package-lock.json (v3) with N packages pkg-0 .. pkg-N-1, for the tests
# that need a big file: about 200 bytes a package, so 40,000 make 8 MB
# and take the scan child a while to read.
# Usage: gen_lock.py N PATH
import json
import sys

n, path = int(sys.argv[1]), sys.argv[2]
pk = {"": {"name": "big", "version": "1.0.0"}}
for i in range(n):
    pk["node_modules/pkg-%d" % i] = {
        "version": "1.%d.0" % (i % 50),
        "resolved": "https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.0.0.tgz"
        % (i, i),
        "integrity": "sha512-" + "A" * 86 + "==",
        "dev": i % 2 == 0,
    }
with open(path, "w") as f:
    json.dump({"name": "big", "version": "1.0.0", "lockfileVersion": 3,
               "requires": True, "packages": pk}, f, indent=2)
