#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian 12 package that building, testing, benchmarking, the
# demo and make deb need, and make sure a bpffs is mounted. Idempotent: a
# second run only checks. Root is needed only when there is something to do
# (apt-get, mount). make test and make demo run it first; a plain make never
# installs anything, it names what is missing and points here.
# debian/control's Build-Depends must be a subset of PKGS
# (tests/e2e_package.sh checks).
set -eu

PKGS="make gcc clang clang-format llvm pkg-config libc6-dev linux-libc-dev \
libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev \
libnl-3-dev libnl-route-3-dev libjson-c-dev libyaml-dev \
libcurl4-openssl-dev libcmocka-dev libseccomp-dev libsystemd-dev \
libmicrohttpd-dev libgnutls28-dev libxxhash-dev gnutls-bin prometheus \
lintian debhelper dpkg-dev fakeroot \
iproute2 iputils-ping iperf3 nftables tcpdump netcat-openbsd socat curl \
python3 openssl jq procps psmisc util-linux coreutils strace passwd systemd libcap2-bin \
libclang-rt-14-dev crowdsec etcd-server etcd-client qemu-system-x86 busybox-static xz-utils kmod"

need_root() { # WHAT
	[ "$(id -u)" -eq 0 ] && return 0
	echo "setup-deps.sh: must run as root to $1 (try: sudo $0)" >&2
	exit 1
}

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	need_root "install:$missing"
	# crowdsec's postinst registers with CrowdSec's central API unless this
	# file exists; there is no outside network here, and tests/e2e_crowdsec.sh
	# runs a local API of its own (crowdsec -no-cs), never the central one.
	case " $missing " in *" crowdsec "*)
		if [ ! -e /etc/crowdsec/online_api_credentials.yaml ]; then
			mkdir -p /etc/crowdsec
			echo "# bwenforce: no central API (scripts/setup-deps.sh)" \
				>/etc/crowdsec/online_api_credentials.yaml
		fi
		;;
	esac
	echo "setup-deps.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
	# installed here for the tests alone, which start a LAPI of their own:
	# the package's service (agent, hub, port 8080) is not left running
	case " $missing " in *" crowdsec "*)
		if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
			systemctl disable --now crowdsec.service >/dev/null 2>&1 || true
		fi
		;;
	esac
else
	echo "setup-deps.sh: all packages present"
fi

if ! mount -t bpf | grep -q ' /sys/fs/bpf '; then
	need_root "mount a bpffs on /sys/fs/bpf"
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
	echo "setup-deps.sh: mounted bpffs on /sys/fs/bpf"
fi

# Debian 12's own kernels for tests/e2e_kernels.sh and tests/e2e_flowtable.sh,
# which boot each under qemu and run the data plane's tests there: the stock
# 6.1 (linux-image-amd64) and the newest 6.12 of bookworm. Their packages are
# fetched (apt-get download), never installed: only the kernel image and the
# modules a guest needs are kept, uncompressed, in $KERNELS/<version>/
# (vmlinuz, mod/*.ko, and mod/order: the modules in load order, each after
# what it depends on). KMODS names what a guest needs: this machine's root
# over 9p; veth and a bridge for the testbed; nftables with NAT, conntrack
# and the flowtable (crc32c_generic: libcrc32c's soft dependency).
KERNELS=/opt/bwenforce-tools/kernels
KMODS="virtio_pci 9pnet_virtio 9p veth bridge crc32c_generic nft_nat nft_masq nft_chain_nat nft_ct nf_flow_table_inet nft_flow_offload"
# The module files under DIR/lib/modules of KMODS and their dependencies,
# dependencies first (a module built in has no file and no dependencies).
# Run it in a subshell: kmod_seen is its state.
kmod_visit() { # NAME DIR
	case " $kmod_seen " in *" $1 "*) return 0 ;; esac
	kmod_seen="$kmod_seen $1"
	set -- "$1" "$2" "$(find "$2/lib/modules" -name "$1.ko" -o -name "$1.ko.xz" | head -n 1)"
	[ -n "$3" ] || return 0
	for d in $(modinfo -F depends "$3" | tr ',' ' '); do
		kmod_visit "$d" "$2"
	done
	echo "$3"
}
kernel_modules() { # DIR
	kmod_seen=""
	for m in $KMODS; do
		kmod_visit "$m" "$1"
	done
}
kernel_fetch() { # PACKAGE
	ver=${1#linux-image-}
	need_root "fetch $1"
	echo "setup-deps.sh: fetching $1 for tests/e2e_kernels.sh"
	work=$(mktemp -d)
	chmod 755 "$work" # apt's _apt user downloads into it
	(cd "$work" && apt-get download -qq "$1") &&
		dpkg-deb -x "$work"/"$1"_*.deb "$work/x" || {
		rm -rf "$work"
		echo "setup-deps.sh: cannot fetch $1" >&2
		exit 1
	}
	rm -rf "$KERNELS/$ver.new"
	mkdir -p "$KERNELS/$ver.new/mod"
	cp "$work/x/boot/vmlinuz-$ver" "$KERNELS/$ver.new/vmlinuz"
	for f in $(kernel_modules "$work/x"); do
		m=$(basename "$f")
		m=${m%.xz}
		case "$f" in
		*.xz) xz -dc "$f" >"$KERNELS/$ver.new/mod/$m" ;;
		*) cp "$f" "$KERNELS/$ver.new/mod/$m" ;;
		esac
		echo "${m%.ko}" >>"$KERNELS/$ver.new/mod/order"
	done
	rm -rf "$work" "$KERNELS/$ver"
	mv "$KERNELS/$ver.new" "$KERNELS/$ver"
}
# .fetched: the versions, then the modules kept (a new list fetches again)
if [ "$(tail -n 1 "$KERNELS/.fetched" 2>/dev/null)" != "modules: $KMODS" ]; then
	need_root "fetch Debian 12 kernels"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	k61=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-6\.1\.[^ ]*-amd64\)$/\1/p' | head -n 1)
	k612=$(apt-cache pkgnames linux-image-6.12. | grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
		sort -V | tail -n 1)
	[ -n "$k61" ] && [ -n "$k612" ] || {
		echo "setup-deps.sh: no Debian 12 kernel package found (6.1: '$k61', 6.12: '$k612')" >&2
		exit 1
	}
	kernel_fetch "$k61"
	kernel_fetch "$k612"
	printf '%s\n%s\nmodules: %s\n' "${k61#linux-image-}" "${k612#linux-image-}" "$KMODS" \
		>"$KERNELS/.fetched"
else
	echo "setup-deps.sh: test kernels present ($(head -n 2 "$KERNELS/.fetched" | tr '\n' ' '))"
fi

# The OpenAPI linter of `make test` (docs/api/openapi.yaml): Redocly CLI, a
# pinned version, in a prefix of its own (not the build tree, not npm's
# global one). 1.34.x runs on Debian 12's nodejs 18 as on newer ones.
REDOCLY_VERSION=1.34.20
NPM_PREFIX=/opt/bwenforce-tools
REDOCLY="$NPM_PREFIX/node_modules/.bin/redocly"
if ! command -v npm >/dev/null 2>&1; then
	echo "setup-deps.sh: installing: nodejs npm"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ "$("$REDOCLY" --version 2>/dev/null)" != "$REDOCLY_VERSION" ]; then
	echo "setup-deps.sh: installing @redocly/cli@$REDOCLY_VERSION in $NPM_PREFIX"
	mkdir -p "$NPM_PREFIX"
	npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error \
		"@redocly/cli@$REDOCLY_VERSION"
else
	echo "setup-deps.sh: @redocly/cli $REDOCLY_VERSION present"
fi
