#!/bin/sh
# Survives SIGTERM: notes each one in $TERMLOG and naps on. Writes its pid to $PIDFILE. Only SIGKILL
# (or the end of its 3000 naps of 0.1 s) ends it. The loop uses shell builtins besides `sleep`: a
# SIGTERM kills the `sleep` (the loop goes on), whereas it would kill a command substitution's
# subshell and break the loop's test.
trap 'echo TERM >> "$TERMLOG"' TERM
echo $$ > "$PIDFILE.tmp"
mv "$PIDFILE.tmp" "$PIDFILE"
i=0
while [ "$i" -lt 3000 ]; do
    sleep 0.1
    i=$((i + 1))
done
