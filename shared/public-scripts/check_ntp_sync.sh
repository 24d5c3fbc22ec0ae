#!/bin/bash
# Checks that the clock is synchronized, with chrony, ntpd or
# systemd-timesyncd (whichever runs), and that chrony's or ntpd's offset is
# within max_offset_ms.
# Exit: 0 synchronized, 1 not synchronized (or no time service), 2 bad parameter.
set -u
case "$max_offset_ms" in '' | *[!0-9]*) echo "max_offset_ms must be a whole number, got '$max_offset_ms'" >&2; exit 2 ;; esac
within() { awk -v o="$1" -v m="$max_offset_ms" 'BEGIN { if (o < 0) o = -o; exit !(o <= m) }'; }
if command -v chronyc >/dev/null 2>&1 && out=$(chronyc tracking 2>/dev/null); then
    echo "$out"
    offset_ms=$(echo "$out" | awk '/^System time/ { print $4 * 1000 }')
    if ! echo "$out" | grep -q '^Leap status *: Normal'; then
        echo "time is NOT synchronized (chrony)"
        exit 1
    fi
    if ! within "${offset_ms:-0}"; then
        echo "time is NOT synchronized: chrony's offset ${offset_ms} ms is over $max_offset_ms ms"
        exit 1
    fi
    echo "time is synchronized (chrony, offset ${offset_ms} ms)"
    exit 0
fi
if command -v ntpq >/dev/null 2>&1 && out=$(ntpq -pn 2>/dev/null); then
    echo "$out"
    offset_ms=$(echo "$out" | awk '/^\*/ { print $9 }')
    if [ -z "$offset_ms" ]; then
        echo "time is NOT synchronized (ntpd has selected no peer)"
        exit 1
    fi
    if ! within "$offset_ms"; then
        echo "time is NOT synchronized: ntpd's offset ${offset_ms} ms is over $max_offset_ms ms"
        exit 1
    fi
    echo "time is synchronized (ntpd, offset ${offset_ms} ms)"
    exit 0
fi
if [ -d /run/systemd/system ] && command -v timedatectl >/dev/null 2>&1; then
    timedatectl status 2>&1
    synced=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)
    if [ "$synced" = yes ]; then
        echo "time is synchronized (systemd-timesyncd)"
        exit 0
    fi
    echo "time is NOT synchronized (timedatectl: NTPSynchronized=${synced:-unknown})"
    exit 1
fi
echo "no time synchronization service found (chrony, ntpd or systemd-timesyncd): time is NOT synchronized"
exit 1
