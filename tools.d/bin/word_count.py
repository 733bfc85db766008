#!/usr/bin/env python3
"""word_count: {"files": [...]} on stdin -> "lines words bytes path" per file, like wc.
Only files inside the working folder are read (no '..' or links leading out)."""
import json, os, sys

args = json.load(sys.stdin)
root = os.path.realpath(os.getcwd())
totals = [0, 0, 0]
failed = False
for name in args.get("files", []):
    path = os.path.realpath(os.path.join(root, name))
    if path != root and not path.startswith(root + os.sep):
        print(f"word_count: {name}: outside the working folder, refused", file=sys.stderr)
        failed = True
        continue
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        print(f"word_count: {name}: {e.strerror}", file=sys.stderr)
        failed = True
        continue
    counts = [data.count(b"\n"), len(data.split()), len(data)]
    totals = [t + c for t, c in zip(totals, counts)]
    print(f"{counts[0]:8} {counts[1]:8} {counts[2]:8} {name}")
if len(args.get("files", [])) > 1:
    print(f"{totals[0]:8} {totals[1]:8} {totals[2]:8} total")
sys.exit(1 if failed else 0)
