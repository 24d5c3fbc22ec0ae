#!/bin/bash
# Deletes files under log_dir whose name matches name_pattern and that were not
# modified for more than `days` days. Safe by default: dry_run=true only lists
# them; set dry_run=false to delete. Stays on log_dir's filesystem and refuses
# system directories.
# Exit: 0 done, 2 bad parameter.
set -u
case "$days" in '' | *[!0-9]*) echo "days must be a whole number, got '$days'" >&2; exit 2 ;; esac
case "$dry_run" in true | false) ;; *) echo "dry_run must be true or false, got '$dry_run'" >&2; exit 2 ;; esac
if [ -z "$name_pattern" ]; then
    echo "name_pattern must not be empty" >&2
    exit 2
fi
if [ ! -d "$log_dir" ]; then
    echo "log_dir $log_dir is not a directory" >&2
    exit 2
fi
dir=$(cd -- "$log_dir" && pwd -P)
case "$dir" in
    / | /bin | /bin/* | /boot | /boot/* | /dev | /dev/* | /etc | /etc/* | /lib* | /proc | /proc/* | /sbin | /sbin/* | /sys | /sys/* | /usr | /usr/*)
        echo "refusing to clean under $dir: a system directory" >&2
        exit 2
        ;;
esac
count=0
bytes=0
while IFS= read -r -d '' file; do
    size=$(stat -c %s -- "$file" 2>/dev/null || echo 0)
    count=$((count + 1))
    bytes=$((bytes + size))
    if [ "$dry_run" = true ]; then
        echo "would delete $file ($size bytes)"
    else
        rm -f -- "$file" && echo "deleted $file ($size bytes)"
    fi
done < <(find "$dir" -xdev -type f -name "$name_pattern" -mmin +$((days * 1440)) -print0)
if [ "$dry_run" = true ]; then
    echo "dry run: $count file(s) older than $days days, $bytes bytes; set dry_run=false to delete them"
else
    echo "deleted $count file(s) older than $days days, $bytes bytes freed"
fi
exit 0
