#!/usr/bin/env python3
"""Writes its pid to $PIDFILE, then prints a number every 50 ms (one process, no forks, so /proc
shows its state) until the file $RELEASE exists, then prints "released" and exits."""
import os, time
with open(os.environ["PIDFILE"], "w") as f:
    f.write(str(os.getpid()))
i = 0
while not os.path.exists(os.environ["RELEASE"]):
    print(i, flush=True)
    i += 1
    time.sleep(0.05)
print("released", flush=True)
