#!/bin/bash
# Lists the sockets listening on this host, with the processes that own them
# (when the run may see them), by ss or else netstat.
# Exit: 0 listed, 2 bad parameter, 3 neither ss nor netstat is installed.
set -u
case "$protocol" in
    all) flags=tu ;;
    tcp) flags=t ;;
    udp) flags=u ;;
    *) echo "protocol must be all, tcp or udp, got '$protocol'" >&2; exit 2 ;;
esac
if command -v ss >/dev/null 2>&1; then
    ss -"$flags"lnp
elif command -v netstat >/dev/null 2>&1; then
    netstat -"$flags"lnp
else
    echo "neither ss nor netstat is installed" >&2
    exit 3
fi
