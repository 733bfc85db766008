#!/usr/bin/env python3
"""Writes its pid to $PIDFILE, then counts to $COUNT (default 60) on stdout, 50 ms apart
(one process, no forks, so /proc shows its state)."""
import os, sys, time
with open(os.environ["PIDFILE"], "w") as f:
    f.write(str(os.getpid()))
for i in range(int(os.environ.get("COUNT", "60"))):
    print(i, flush=True)
    time.sleep(0.05)
