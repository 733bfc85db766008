#!/bin/sh
# Survives SIGTERM: notes each one in $TERMLOG and naps on. Writes its pid to $PIDFILE. Only SIGKILL
# (or the end of its $SLEEP_SECONDS, default 300) ends it.
trap 'echo TERM >> "$TERMLOG"' TERM
echo $$ > "$PIDFILE.tmp"
mv "$PIDFILE.tmp" "$PIDFILE"
end=$(( $(date +%s) + ${SLEEP_SECONDS:-300} ))
while [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.1
done
