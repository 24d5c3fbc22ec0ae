#!/bin/bash
# Restarts a systemd unit and checks that it is active again; shows its last
# journal lines when it is not.
# Exit: 0 active after the restart, 1 restart failed or unit not active,
# 2 bad parameter or no such unit, 3 systemd is not running on this host.
set -u
case "$service_name" in
    '' | *[!A-Za-z0-9@._:-]* | -*)
        echo "service_name must be a unit name (letters, digits, @ . _ : -), got '$service_name'" >&2
        exit 2
        ;;
esac
if [ ! -d /run/systemd/system ]; then
    init=$(ps -p 1 -o comm= 2>/dev/null || echo unknown)
    echo "systemd is not running on this host (PID 1 is $init): cannot restart $service_name" >&2
    exit 3
fi
if ! systemctl cat -- "$service_name" >/dev/null 2>&1; then
    echo "there is no systemd unit named $service_name" >&2
    exit 2
fi
echo "restarting $service_name"
if ! systemctl restart -- "$service_name"; then
    echo "restart of $service_name failed"
    systemctl status --no-pager -- "$service_name" 2>&1 | tail -n 20
    exit 1
fi
sleep "$settle_secs"
state=$(systemctl is-active -- "$service_name")
echo "$service_name is $state"
if [ "$state" != active ]; then
    journalctl -u "$service_name" -n 20 --no-pager 2>/dev/null
    exit 1
fi
exit 0
