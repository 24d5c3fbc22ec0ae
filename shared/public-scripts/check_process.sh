#!/bin/bash
# Checks that at least min_count processes of the exact name process_name run,
# and shows them.
# Exit: 0 enough run, 1 fewer than min_count, 2 bad parameter.
set -u
case "$min_count" in '' | *[!0-9]*) echo "min_count must be a whole number, got '$min_count'" >&2; exit 2 ;; esac
case "$process_name" in
    '' | -*) echo "process_name must be a process name, got '$process_name'" >&2; exit 2 ;;
esac
pids=$(pgrep -x -- "$process_name" | paste -sd, -)
count=0
if [ -n "$pids" ]; then
    count=$(echo "$pids" | tr , '\n' | wc -l)
fi
if [ "$count" -ge "$min_count" ] && [ "$count" -gt 0 ]; then
    echo "OK: $count process(es) named $process_name run"
    ps -o pid,user,etime,rss,args -p "$pids"
    exit 0
fi
if [ "$count" -ge "$min_count" ]; then
    echo "OK: no process named $process_name runs, and none is required"
    exit 0
fi
echo "PROBLEM: $count process(es) named $process_name run, at least $min_count expected"
exit 1
