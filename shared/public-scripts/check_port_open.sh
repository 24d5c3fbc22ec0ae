#!/bin/bash
# Checks that host:port accepts TCP connections, within timeout_secs.
# Exit: 0 open, 1 closed or no answer, 2 bad parameter.
set -u
case "$port" in '' | *[!0-9]*) echo "port must be a number from 1 to 65535, got '$port'" >&2; exit 2 ;; esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "port must be a number from 1 to 65535, got '$port'" >&2
    exit 2
fi
case "$timeout_secs" in '' | *[!0-9]* | 0) echo "timeout_secs must be a whole number of at least 1, got '$timeout_secs'" >&2; exit 2 ;; esac
case "$host" in '' | *[!A-Za-z0-9.:_-]* | -*) echo "host must be a host name or an IP address, got '$host'" >&2; exit 2 ;; esac
if timeout "$timeout_secs" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
    echo "OPEN: $host:$port accepts connections"
    exit 0
fi
echo "CLOSED: $host:$port does not accept connections (waited up to ${timeout_secs}s)"
exit 1
