#!/bin/sh
# Starts a background grandchild (`sleep`), writes "<own pid> <grandchild pid>" to $PIDFILE, and waits
# for it: its natural end is after $SLEEP_SECONDS (default 300).
sleep "${SLEEP_SECONDS:-300}" &
echo "$$ $!" > "$PIDFILE.tmp"
mv "$PIDFILE.tmp" "$PIDFILE"
wait
