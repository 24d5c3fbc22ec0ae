#!/bin/bash
# Lists the largest files of at least min_size_mb MiB under search_dir (this
# filesystem only), largest first, at most `top` of them.
# Exit: 0 listed (even none), 2 bad parameter.
set -u
for pair in "min_size_mb=$min_size_mb" "top=$top"; do
    case "${pair#*=}" in '' | *[!0-9]*) echo "${pair%%=*} must be a whole number, got '${pair#*=}'" >&2; exit 2 ;; esac
done
if [ ! -d "$search_dir" ]; then
    echo "search_dir $search_dir is not a directory" >&2
    exit 2
fi
found=$(find "$search_dir" -xdev -type f -size +$((min_size_mb * 1024 - 1))k -printf '%s\t%p\n' 2>/dev/null | sort -rn)
count=0
if [ -n "$found" ]; then
    count=$(echo "$found" | wc -l)
    echo "$found" | head -n "$top" | awk -F'\t' '{ printf "%10.1f MiB  %s\n", $1 / 1048576, $2 }'
fi
echo "$count file(s) of at least $min_size_mb MiB under $search_dir"
exit 0
