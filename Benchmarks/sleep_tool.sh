#!/bin/sh
# Benchmark tool for agent-bench's fan-out section: sleeps 0.5 s (BENCH_TOOL_SECONDS) and prints one line.
# Its JSON arguments arrive on stdin and are ignored.
cat >/dev/null
sleep "${BENCH_TOOL_SECONDS:-0.5}"
echo "slept ${BENCH_TOOL_SECONDS:-0.5} s"
