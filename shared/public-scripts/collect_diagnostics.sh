#!/bin/bash
# Collects a host's diagnostics (system, resources, processes, network,
# kernel and journal messages) into one tar.gz under output_dir and prints
# its path. A command missing on the host leaves its error in its report.
# Exit: 0 archive written, 1 could not write it, 2 bad parameter.
set -u
if [ ! -d "$output_dir" ] || [ ! -w "$output_dir" ]; then
    echo "output_dir $output_dir is not a writable directory" >&2
    exit 2
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="diagnostics-$(uname -n)-$stamp"
work=$(mktemp -d "$output_dir/.coc-diagnostics.XXXXXX") || exit 1
trap 'rm -rf -- "$work"' EXIT
mkdir "$work/$name"
report() {
    local out="$work/$name/$1"
    shift
    { echo "\$ $*"; "$@"; } >"$out" 2>&1 || true
}
report uname.txt uname -a
report os-release.txt cat /etc/os-release
report uptime.txt uptime
report disks.txt df -hP
report inodes.txt df -iP
report memory.txt free -m
report processes.txt ps aux --sort=-%cpu
report addresses.txt ip addr
report listening.txt ss -tulpn
report mounts.txt cat /proc/mounts
report dmesg.txt sh -c 'dmesg 2>&1 | tail -n 200'
report journal.txt sh -c 'journalctl -p warning -n 200 --no-pager 2>&1'
archive="$output_dir/$name.tar.gz"
if ! tar -czf "$archive" -C "$work" "$name"; then
    echo "could not write $archive" >&2
    exit 1
fi
echo "collected $(ls "$work/$name" | wc -l) reports into $archive"
exit 0
