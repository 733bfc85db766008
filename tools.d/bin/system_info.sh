#!/bin/sh
# system_info: takes no arguments (its JSON on stdin is ignored); prints kernel, uptime, memory.
echo "kernel: $(uname -srm)"
echo "host:   $(uname -n)"
if command -v uptime >/dev/null 2>&1; then
    echo "uptime: $(uptime)"
else
    echo "uptime: $(cut -d' ' -f1 /proc/uptime) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
fi
if command -v free >/dev/null 2>&1; then
    free -h
else
    grep -E '^(MemTotal|MemAvailable):' /proc/meminfo
fi
