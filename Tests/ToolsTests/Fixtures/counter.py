#!/usr/bin/env python3
"""Writes its pid to $PIDFILE, then counts slowly on stdout (one process, no forks, so /proc shows its state)."""
import os, sys, time
with open(os.environ["PIDFILE"], "w") as f:
    f.write(str(os.getpid()))
for i in range(30):
    print(i, flush=True)
    time.sleep(0.05)
