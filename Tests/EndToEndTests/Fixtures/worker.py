#!/usr/bin/env python3
"""A test tool: reads {"id", "seconds", "cpu", "exit"} on stdin, logs "start"/"end" lines with times
to $WORKER_LOG, sleeps (or burns CPU time when "cpu" is true, so a paused run takes longer), prints
"done <id>" and exits with "exit" (default 0)."""
import json, os, sys, time

args = json.load(sys.stdin)
ident = args.get("id", "?")
log = os.environ["WORKER_LOG"]


def note(what):
    with open(log, "a") as f:
        f.write("%s %s %.6f %d\n" % (what, ident, time.time(), os.getpid()))


note("start")
seconds = float(args.get("seconds", 0))
if args.get("cpu"):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
else:
    time.sleep(seconds)
note("end")
print("done %s" % ident)
if args.get("exit"):
    sys.stderr.write("worker %s failed on purpose\n" % ident)
sys.exit(int(args.get("exit", 0)))
