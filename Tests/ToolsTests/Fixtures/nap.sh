#!/bin/sh
# Echoes its arguments (stdin), naps $NAP_SECONDS (default 2), and prints "<start> <end>" (seconds
# since the epoch) on stderr, so a test can see which runs overlapped.
start=$(date +%s.%N)
cat
sleep "${NAP_SECONDS:-2}"
echo "$start $(date +%s.%N)" >&2
