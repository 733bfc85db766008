#!/bin/sh
# Writes its pid to $PIDFILE, then becomes `sleep` (same pid) so it can be observed and stopped.
echo $$ > "$PIDFILE"
exec sleep "${SLEEP_SECONDS:-30}"
