# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tests/lib_guest.sh - run a command under one of Debian 12's own kernels
# (scripts/setup-deps.sh fetched them into /opt/bwenforce-tools/kernels),
# for suites that need a kernel this machine does not run. Source after
# tests/lib.sh:
#   guest_kernels                  # the fetched versions, one a line
#   guest_run KDIR CMD OUT         # boot kernel directory KDIR under qemu
#                                  # (software emulation, one CPU, no network),
#                                  # run the shell command line CMD there, its
#                                  # console into OUT ('\r' removed); 0, or
#                                  # non-zero when qemu failed or overran
#                                  # GUEST_LIMIT_S
# The guest loads the modules KDIR/mod/order names (dependencies first),
# mounts this machine's root read-only over 9p, puts tmpfs on /tmp and /run
# and a bpffs on /sys/fs/bpf, and runs CMD chrooted there: the programs and
# the build tree are this machine's, nothing it writes outside /tmp and /run
# survives (and nothing can: the root is read-only). The console shows
# "BWE-GUEST-KERNEL=<version>" before CMD and "BWE-GUEST-INSMOD <module>
# failed" for a module that did not load.

GUEST_KERNELS_DIR=${BWE_TEST_KERNELS:-/opt/bwenforce-tools/kernels}
GUEST_LIMIT_S=${GUEST_LIMIT_S:-240} # one guest, boot to power-off
GUEST_MEM_MB=${GUEST_MEM_MB:-3072}

guest_kernels() {
	[ -s "$GUEST_KERNELS_DIR/.fetched" ] || return 0
	grep -v -e '^$' -e '^modules:' "$GUEST_KERNELS_DIR/.fetched"
}

# Are the fetched kernels, qemu and busybox there? Names what is missing.
guest_ready() {
	[ -s "$GUEST_KERNELS_DIR/.fetched" ] ||
		{ echo "no test kernels in $GUEST_KERNELS_DIR: run scripts/setup-deps.sh"; return 1; }
	command -v qemu-system-x86_64 >/dev/null ||
		{ echo "qemu-system-x86_64 not found (scripts/setup-deps.sh)"; return 1; }
	command -v busybox >/dev/null || { echo "busybox not found (scripts/setup-deps.sh)"; return 1; }
}

# An initramfs for kernel directory KDIR that mounts this machine's root
# and runs CMD there.
_guest_initramfs() { # KDIR CMD OUT
	local ir
	t_tmpdir ir || return 1 # removed on exit, also when interrupted
	mkdir -p "$ir/bin" "$ir/mod" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/root"
	cp "$(command -v busybox)" "$ir/bin/busybox"
	cp "$1"/mod/*.ko "$1/mod/order" "$ir/mod/" 2>/dev/null
	cat >"$ir/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in \$(cat /mod/order 2>/dev/null); do
	grep -q "^\$m " /proc/modules || insmod /mod/\$m.ko 2>/dev/null || echo "BWE-GUEST-INSMOD \$m failed"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /root || echo "BWE-GUEST: no 9p root"
mount -t proc proc /root/proc; mount -t sysfs sys /root/sys; mount -t devtmpfs dev /root/dev
mount -t tmpfs tmp /root/tmp; mount -t tmpfs run /root/run; mount -t bpf bpf /root/sys/fs/bpf
echo; echo "BWE-GUEST-KERNEL=\$(uname -r)" # after the firmware's escapes
chroot /root /bin/sh -c '$2' 2>&1
poweroff -f
INIT
	chmod 755 "$ir/init"
	(cd "$ir" && find . | busybox cpio -o -H newc 2>/dev/null | gzip) >"$3"
	rm -rf "$ir"
}

guest_run() { # KDIR CMD OUT
	local initrd="$3.initrd" rc
	_guest_initramfs "$1" "$2" "$initrd" || return 1
	timeout "$GUEST_LIMIT_S" qemu-system-x86_64 -accel tcg -cpu max -m "$GUEST_MEM_MB" -smp 1 \
		-nographic -no-reboot -nic none -kernel "$1/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		</dev/null 2>&1 | tr -d '\r' >"$3"
	rc=${PIPESTATUS[0]}
	rm -f "$initrd"
	return "$rc"
}
