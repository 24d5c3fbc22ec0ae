#!/bin/bash
# Rotates one log file: log_file.1 … log_file.<keep> (gzipped when
# compress=true), copying the log and truncating it in place so processes
# writing to it keep their open file.
# Exit: 0 rotated, 1 could not rotate, 2 bad parameter.
set -u
case "$keep" in '' | *[!0-9]* | 0) echo "keep must be a whole number of at least 1, got '$keep'" >&2; exit 2 ;; esac
case "$compress" in true | false) ;; *) echo "compress must be true or false, got '$compress'" >&2; exit 2 ;; esac
if [ ! -f "$log_file" ]; then
    echo "log_file $log_file is not a regular file" >&2
    exit 2
fi
rm -f -- "$log_file.$keep" "$log_file.$keep.gz"
i=$((keep - 1))
while [ "$i" -ge 1 ]; do
    for suffix in "" .gz; do
        if [ -e "$log_file.$i$suffix" ]; then
            mv -f -- "$log_file.$i$suffix" "$log_file.$((i + 1))$suffix"
        fi
    done
    i=$((i - 1))
done
if ! cp -p -- "$log_file" "$log_file.1"; then
    echo "could not copy $log_file" >&2
    exit 1
fi
: >"$log_file"
rotated="$log_file.1"
if [ "$compress" = true ]; then
    gzip -f -- "$log_file.1" || exit 1
    rotated="$log_file.1.gz"
fi
echo "rotated $log_file to $rotated, keeping $keep"
ls -l -- "$log_file" "$log_file".[0-9]*
exit 0
