#!/bin/bash
# Shows the last `lines` lines of log_file, or of its lines matching the
# extended regular expression grep_pattern when one is given.
# Exit: 0 shown (even none), 2 bad parameter or unreadable file.
set -u
case "$lines" in '' | *[!0-9]* | 0) echo "lines must be a whole number of at least 1, got '$lines'" >&2; exit 2 ;; esac
if [ ! -f "$log_file" ] || [ ! -r "$log_file" ]; then
    echo "cannot read log_file $log_file" >&2
    exit 2
fi
if [ -n "$grep_pattern" ]; then
    matches=$(grep -E -c -- "$grep_pattern" "$log_file")
    if [ "$?" -gt 1 ]; then
        echo "grep_pattern is not a valid extended regular expression: $grep_pattern" >&2
        exit 2
    fi
    echo "== $matches line(s) of $log_file match $grep_pattern; the last $lines =="
    grep -E -- "$grep_pattern" "$log_file" | tail -n "$lines"
else
    echo "== the last $lines line(s) of $log_file =="
    tail -n "$lines" -- "$log_file"
fi
exit 0
