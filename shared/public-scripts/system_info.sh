#!/bin/bash
# A host's summary: name, operating system, kernel, CPUs, load, memory,
# uptime, and (include_packages=true) how many packages are installed.
# Exit: 0 shown, 2 bad parameter.
set -u
case "$include_packages" in true | false) ;; *) echo "include_packages must be true or false, got '$include_packages'" >&2; exit 2 ;; esac
os=unknown
if [ -r /etc/os-release ]; then
    os=$(. /etc/os-release && echo "${PRETTY_NAME:-$NAME}")
fi
echo "hostname: $(uname -n)"
echo "os: $os"
echo "kernel: $(uname -sr)"
echo "architecture: $(uname -m)"
echo "cpus: $(nproc)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "memory: $(awk '/^MemTotal:/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
echo "uptime: $(awk '{ s = int($1); printf "%dd %dh %dm", s / 86400, s % 86400 / 3600, s % 3600 / 60 }' /proc/uptime)"
if [ "$include_packages" = true ]; then
    if command -v dpkg-query >/dev/null 2>&1; then
        echo "packages: $(dpkg-query -f '${db:Status-Abbrev}\n' -W | grep -c '^ii') (dpkg)"
    elif command -v rpm >/dev/null 2>&1; then
        echo "packages: $(rpm -qa | wc -l) (rpm)"
    else
        echo "packages: unknown (neither dpkg nor rpm is installed)"
    fi
fi
exit 0
