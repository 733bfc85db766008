#!/bin/sh
# Writes its pid to $PIDFILE, then loops on shell builtins only (no child process: it is running
# within a moment of its start, and /proc shows its own state) until the file $RELEASE exists.
echo $$ > "$PIDFILE"
while [ ! -e "$RELEASE" ]; do :; done
echo released
