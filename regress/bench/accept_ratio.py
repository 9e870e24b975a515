#!/usr/bin/env python3
# How much a scan child honestly sends for a file, against what the
# parent accepts (SCAN_ACCEPT_* in kobangd/scanproto.h: 16 times the
# file's size plus 256 KiB, an item costing 32 bytes plus its strings):
# every file of the real-world corpus, its items as the independent
# reader (regress/corpus/expect.py) gives them.  Prints the largest
# ratio of item bytes to file size, per format and over all.
# Usage: accept_ratio.py CORPUS_DIR
import os
import subprocess
import sys

corpus = sys.argv[1]
per_fmt = {}
worst = (0.0, "")
for line in open(os.path.join(corpus, "SOURCES")):
    if line.startswith("#") or not line.strip():
        continue
    f, fmt = line.split("\t")[:2]
    path = os.path.join(corpus, f)
    out = subprocess.run([sys.executable, os.path.join(corpus, "expect.py"),
                          fmt, path], capture_output=True, text=True,
                         check=True).stdout
    cost = 0
    for it in out.splitlines():
        if it.startswith("status ") or it.startswith("issue "):
            continue
        fields = it.split(" | ")
        cost += 32 + sum(len(x) for x in fields[1:5] if x != "~")
    size = max(os.path.getsize(path), 1)
    r = cost / size
    per_fmt[fmt] = max(per_fmt.get(fmt, 0.0), r)
    if r > worst[0]:
        worst = (r, f)
for fmt in sorted(per_fmt):
    print("  %-20s %5.2f x its size" % (fmt, per_fmt[fmt]))
print("  largest: %.2f x (%s); the parent accepts 16 x + 256 KiB"
      % worst)
