#!/usr/bin/env python3
"""Benchmark tool for agent-bench's mixed-load section: burns {"seconds": S} of CPU time, counted by
time.process_time() (so time spent stopped by SIGSTOP does not count), then prints one line with
the CPU time the process used in all, interpreter start included (agent-bench's offline lower bound).
Its JSON arguments arrive on stdin, as for every exec tool."""
import json
import sys
import time

seconds = float(json.load(sys.stdin)["seconds"])
while time.process_time() < seconds:
    pass
print(f"burned {seconds:g} s of CPU; process CPU {time.process_time():.4f} s")
