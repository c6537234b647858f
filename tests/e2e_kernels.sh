#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e_kernels.sh - the data plane on Debian 12's own kernels. This machine's
# kernel is not the one a Debian 12 gateway runs: the verifier of another
# kernel may refuse what this one takes. Each kernel scripts/setup-deps.sh
# fetched (the stock 6.1 and the newest 6.12 of bookworm, in
# /opt/bwenforce-tools/kernels) is booted under qemu (software emulation,
# one CPU, no network), with this machine's root as a read-only 9p file
# system and tmpfs on /tmp and /run, and runs the data plane's program tests
# there (test_xdp, test_forward, test_encap): the object loads under that
# kernel's verifier, every verdict of the XDP and TC programs holds, and the
# fast path forwards as on this kernel. About 20-40 s a kernel.

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$HERE/lib.sh"
t_require_root
T_TIMEOUT=${T_TIMEOUT:-300}
KERNELS=${BWE_TEST_KERNELS:-/opt/bwenforce-tools/kernels}
BOOT_LIMIT_S=240 # one guest, boot to power-off
BINS="test_xdp test_forward test_encap"

t_tmpdir WORK

# An initramfs for kernel directory KDIR that mounts this machine's root
# and runs CMD there (a shell command line).
initramfs() { # KDIR CMD OUT
	local ir=$WORK/ir.$$ busybox
	busybox=$(command -v busybox) || t_fail "busybox not found (scripts/setup-deps.sh)"
	rm -rf "$ir"
	mkdir -p "$ir/bin" "$ir/mod" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/root"
	cp "$busybox" "$ir/bin/busybox"
	cp "$1"/mod/*.ko "$ir/mod/" 2>/dev/null
	cat >"$ir/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# modules in dependency order, found by retrying: at most one pass a module
for pass in \$(ls /mod); do
	for m in /mod/*.ko; do
		n=\$(basename \$m .ko)
		grep -q "^\$n " /proc/modules || insmod \$m 2>/dev/null
	done
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /root || echo "BWE-GUEST: no 9p root"
mount -t proc proc /root/proc; mount -t sysfs sys /root/sys; mount -t devtmpfs dev /root/dev
mount -t tmpfs tmp /root/tmp; mount -t tmpfs run /root/run; mount -t bpf bpf /root/sys/fs/bpf
echo "BWE-GUEST-KERNEL=\$(uname -r)"
chroot /root /bin/sh -c '$2' 2>&1
poweroff -f
INIT
	chmod 755 "$ir/init"
	(cd "$ir" && find . | busybox cpio -o -H newc 2>/dev/null | gzip) >"$3"
	rm -rf "$ir"
}

# Boot kernel directory KDIR with initramfs INITRD; the console to OUT.
boot() { # KDIR INITRD OUT
	timeout "$BOOT_LIMIT_S" qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 1 \
		-nographic -no-reboot -nic none -kernel "$1/vmlinuz" -initrd "$2" \
		-append "console=ttyS0 quiet panic=-1" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on \
		>"$3" 2>&1 </dev/null
}

t_kernel() { # KDIR
	local want out=$WORK/console.$$ b rc bad=""
	want=$(basename "$1")
	initramfs "$1" "cd $ROOT && for b in $BINS; do build/tests/\$b; echo BWE-GUEST-RC \$b \$?; done" \
		"$WORK/initrd.$$"
	boot "$1" "$WORK/initrd.$$" "$out" || t_fail "qemu: exit $? (limit ${BOOT_LIMIT_S} s)"
	tr -d '\r' <"$out" >"$out.txt"
	grep -q "^BWE-GUEST-KERNEL=$want\$" "$out.txt" ||
		{ tail -20 "$out.txt" | _t_indent; t_fail "the guest did not run kernel $want"; }
	echo "kernel $want: $(grep -E '^\[  (PASSED|FAILED)  \] [0-9]' "$out.txt" | tr '\n' ' ')"
	for b in $BINS; do
		rc=$(sed -n "s/^BWE-GUEST-RC $b //p" "$out.txt")
		[ "$rc" = 0 ] || bad="$bad $b (exit '${rc:-none}')"
	done
	[ "$(grep -cE '^\[  PASSED  \] [1-9][0-9]* test' "$out.txt")" = "$(wc -w <<<"$BINS")" ] ||
		bad="$bad (not every runner passed tests)"
	if [ -n "$bad" ] || grep -qE '^\[  (FAILED|ERROR)' "$out.txt"; then
		grep -E 'FAILED|ERROR|libbpf|bwe_dp_open|^[0-9]+: |not allowed|invalid' "$out.txt" |
			tail -30 | _t_indent
		t_fail "under kernel $want:${bad:- a test failed}"
	fi
}

t_fetched() {
	[ -s "$KERNELS/.fetched" ] || t_fail "no test kernels in $KERNELS: run scripts/setup-deps.sh"
	command -v qemu-system-x86_64 >/dev/null || t_fail "qemu-system-x86_64 not found (scripts/setup-deps.sh)"
	for b in $BINS; do
		[ -x "$ROOT/build/tests/$b" ] || t_fail "build/tests/$b is not built (make tests)"
	done
}
t_run "Debian 12's kernels are fetched, qemu and the test runners are there" t_fetched

while read -r ver; do
	case $ver in "" | modules:*) continue ;; esac
	t_run "Debian 12 kernel $ver: bwe.bpf.o loads; test_xdp, test_forward, test_encap pass" \
		t_kernel "$KERNELS/$ver"
done < <(cat "$KERNELS/.fetched" 2>/dev/null)

t_summary
