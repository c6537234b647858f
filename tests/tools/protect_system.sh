#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# protect_system.sh RW_DIRS CMD... - run CMD with the file system view that
# systemd's ProtectSystem=strict plus StateDirectory=/RuntimeDirectory=/
# LogsDirectory=/ReadWritePaths= give a service: every mount read-only, then
# the directories of RW_DIRS (colon-separated, each must exist) writable.
# Run it in a mount namespace of its own (unshare -m --propagation private):
# it changes the mounts of the namespace it runs in. Test use only.
set -e
[ $# -ge 2 ] || { echo "usage: $0 RW_DIRS CMD..." >&2; exit 2; }
rw=$1
shift
awk '{print $5}' /proc/self/mountinfo | sort -u | while read -r m; do
	mount -o remount,bind,ro "$m" 2>/dev/null || echo "protect_system: cannot make $m read-only" >&2
done
IFS=:
for d in $rw; do
	mount --bind "$d" "$d"
	mount -o remount,bind,rw "$d"
done
unset IFS
exec "$@"
