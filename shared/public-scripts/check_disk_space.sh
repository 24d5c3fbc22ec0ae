#!/bin/bash
# Checks each filesystem's space and inode use (or only mount_point's, when
# given) against threshold_percent.
# Exit: 0 all below, 1 one at or above threshold_percent, 2 bad parameter.
set -u
case "$threshold_percent" in '' | *[!0-9]*) echo "threshold_percent must be a whole number, got '$threshold_percent'" >&2; exit 2 ;; esac
if [ -n "$mount_point" ] && [ ! -e "$mount_point" ]; then
    echo "mount_point $mount_point does not exist" >&2
    exit 2
fi
usage() {
    if [ -n "$mount_point" ]; then
        df -P "$@" -- "$mount_point"
    else
        df -P "$@" -x tmpfs -x devtmpfs -x squashfs 2>/dev/null || df -P "$@"
    fi
}
status=0
check() {
    local what=$1 fs pct mnt
    shift
    while read -r fs _ _ _ pct mnt; do
        pct=${pct%\%}
        case "$pct" in '' | *[!0-9]*) continue ;; esac
        if [ "$pct" -ge "$threshold_percent" ]; then
            echo "FULL: $mnt $what is ${pct}% used ($fs), at or above ${threshold_percent}%"
            status=1
        else
            echo "ok: $mnt $what is ${pct}% used ($fs)"
        fi
    done < <(usage "$@" | tail -n +2)
}
check space
check inodes -i
exit "$status"
