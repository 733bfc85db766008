#!/usr/bin/env python3
"""A tool for streaming-dispatch tests: reads {"id", "marker", "seconds"} on stdin, writes its pid to
`marker` when given (a temporary name, then renamed, so a reader never sees it half written), sleeps
`seconds` (default 0) and prints "done <id>"."""
import json, os, sys, time

args = json.load(sys.stdin)
marker = args.get("marker")
if marker:
    with open(marker + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(marker + ".tmp", marker)
time.sleep(float(args.get("seconds", 0)))
print("done %s" % args.get("id"))
