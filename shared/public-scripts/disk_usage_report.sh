#!/bin/bash
# Disk usage report: every filesystem's use, then the largest entries directly
# under target_dir (this filesystem only), largest first.
# Parameters: target_dir, top. Exit: 0 report written, 2 bad parameter.
set -u
case "$top" in '' | *[!0-9]*) echo "top must be a whole number, got '$top'" >&2; exit 2 ;; esac
if [ ! -d "$target_dir" ]; then
    echo "target_dir $target_dir is not a directory" >&2
    exit 2
fi
echo "== filesystems =="
df -hP -x tmpfs -x devtmpfs 2>/dev/null || df -hP
echo
echo "== largest entries under $target_dir (top $top) =="
du -xh --max-depth=1 -- "$target_dir" 2>/dev/null | sort -rh | head -n "$top"
exit 0
