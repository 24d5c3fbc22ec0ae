#!/bin/bash
# Memory use (from MemAvailable), the processes using the most, and whether
# use is below warn_percent.
# Exit: 0 below, 1 at or above warn_percent, 2 bad parameter.
set -u
case "$warn_percent" in '' | *[!0-9]*) echo "warn_percent must be a whole number, got '$warn_percent'" >&2; exit 2 ;; esac
read -r total avail < <(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print t, a }' /proc/meminfo)
used=$(((total - avail) * 100 / total))
echo "memory: $((total / 1024)) MiB total, $((avail / 1024)) MiB available, ${used}% used"
echo "processes using the most memory:"
ps -eo pid,user,rss,comm --sort=-rss | head -n 6
if [ "$used" -ge "$warn_percent" ]; then
    echo "WARNING: memory use ${used}% is at or above ${warn_percent}%"
    exit 1
fi
echo "OK: memory use ${used}% is below ${warn_percent}%"
exit 0
