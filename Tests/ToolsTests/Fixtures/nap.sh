#!/bin/sh
# Echoes its arguments (stdin), naps $NAP_SECONDS (default 3), and prints "<start> <end>" (seconds
# since the epoch) on stderr, so a test can see which runs overlapped.
start=$(date +%s.%N)
cat
sleep "${NAP_SECONDS:-3}"
echo "$start $(date +%s.%N)" >&2
