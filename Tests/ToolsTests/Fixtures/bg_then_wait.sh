#!/bin/sh
# Starts a background grandchild, records its pid in $PIDFILE, and waits for it (never ends alone).
sleep 300 &
echo $! > "$PIDFILE"
wait
