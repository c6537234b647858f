#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# e2e_package.sh - install and package (issue #14, "Install and package"):
#  - a build never installs packages: with a pkg-config module or a tool
#    missing, make (also -j) stops before compiling anything and names the
#    Debian package, with no apt-get; make test and make demo run
#    scripts/setup-deps.sh first; every module and tool has its Debian
#    package in setup-deps.sh and in debian/control's Build-Depends;
#  - make install into a DESTDIR: every file and mode, the unit's ExecStart
#    naming the installed bwctld, an edited configuration kept; make
#    uninstall leaves nothing but an edited configuration;
#  - make deb, as an unprivileged user: one version everywhere
#    (lib/bwe_version.h, debian/changelog, bwctl --version, the .deb),
#    lintian passes with every override explained, the files, modes and
#    conffiles of the .deb; dpkg --root installs it into a scratch root with
#    no systemd (the maintainer scripts run chrooted there), keeps an edited
#    conffile on reinstall, removes and purges it without a trace.
# About 30 s; needs dpkg-dev, debhelper and lintian (scripts/setup-deps.sh).

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$HERE/lib.sh"
t_require_root
T_TIMEOUT=${T_TIMEOUT:-180}

# Our own makes: not the jobserver, the flags or the variables of the make
# test that runs us.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
mk() { make -C "$ROOT" --no-print-directory "$@"; }

VERSION=$(sed -n 's/^#define BWE_VERSION[[:space:]]*"\(.*\)".*/\1/p' "$ROOT/lib/bwe_version.h")
t_tmpdir WORK
DEBS=$WORK/deb # make deb's DEB_DIR (world-readable: built as nobody)

# ------------------------------------------------------------ dependencies

# A pkg-config search path with every .pc file but NAME.pc.
pc_without() { # NAME DIR
	local d f
	mkdir -p "$2"
	for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
		for f in "$d"/*.pc; do
			[ -e "$f" ] && [ "${f##*/}" != "$1.pc" ] && ln -sf "$f" "$2/"
		done
	done
	return 0
}

# An apt-get that only records that it was called, first in PATH.
fake_apt() { # DIR
	mkdir -p "$1"
	printf '#!/bin/sh\necho "$0 $*" >>%s/called\nexit 1\n' "$1" >"$1/apt-get"
	chmod 755 "$1/apt-get"
}

t_missing_module() {
	local pc=$WORK/pc-nomhd bin=$WORK/fakeapt b=$WORK/b-nomhd out rc
	pc_without libmicrohttpd "$pc"
	fake_apt "$bin"
	out=$(env -u PKG_CONFIG_PATH PKG_CONFIG_LIBDIR="$pc" PATH="$bin:$PATH" \
		make -C "$ROOT" --no-print-directory -j4 BUILD="$b" all 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ $rc -ne 0 ] || t_fail "make succeeded without libmicrohttpd"
	grep -qx 'make: missing libmicrohttpd (Debian package libmicrohttpd-dev)' <<<"$out" ||
		t_fail "no line naming libmicrohttpd and libmicrohttpd-dev"
	grep -q '^make: run sudo scripts/setup-deps.sh .*apt-get install libmicrohttpd-dev$' <<<"$out" ||
		t_fail "no line pointing at scripts/setup-deps.sh"
	assert_fail grep -q 'missing libbpf\|missing cmocka' <<<"$out"
	[ ! -e "$bin/called" ] || t_fail "make ran apt-get: $(cat "$bin/called")"
	assert_fail grep -q 'setup-deps.sh: installing' <<<"$out"
	# -j4: deps-check is an order-only prerequisite of every output directory
	[ ! -e "$b" ] || t_fail "make -j4 created $b before deps-check passed: $(find "$b" | head)"
}
t_run "a missing pkg-config module: make -j4 stops first, names the Debian package, no apt-get" \
	t_missing_module

t_missing_tool() {
	local bin=$WORK/nobpftool b=$WORK/b-nobpftool out rc t
	mkdir -p "$bin"
	# what make itself calls while reading the Makefile and checking, but bpftool
	for t in cc gcc clang pkg-config pkgconf sed; do
		ln -sf "$(command -v "$t")" "$bin/$t" || t_fail "no $t"
	done
	fake_apt "$bin"
	out=$(env PATH="$bin" /usr/bin/make -C "$ROOT" --no-print-directory BUILD="$b" progs 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ $rc -ne 0 ] || t_fail "make succeeded without bpftool"
	grep -qx 'make: missing bpftool (Debian package bpftool)' <<<"$out" ||
		t_fail "no line naming bpftool"
	assert_fail grep -q 'missing cmocka' <<<"$out" # progs builds no tests
	[ ! -e "$bin/called" ] || t_fail "make ran apt-get"
	[ ! -e "$b" ] || t_fail "make created $b"
}
t_run "a missing tool (bpftool): make names its Debian package" t_missing_tool

t_setup_first() {
	local g out
	out=$(mk -n all 2>&1) || t_fail "make -n all: $out"
	assert_fail grep -qx 'scripts/setup-deps.sh' <<<"$out"
	for g in test demo; do
		out=$(mk -n "$g" 2>&1) || t_fail "make -n $g: $out"
		assert_eq "$(head -n 1 <<<"$out")" "scripts/setup-deps.sh" "first command of make $g"
	done
	# the check itself, without root and with everything installed, passes
	assert_ok setpriv --reuid=65534 --regid=65534 --clear-groups "$ROOT/scripts/setup-deps.sh"
	# CI: the README's commands, nothing hidden
	assert_eq "$(grep -v '^#\|^set \|^cd \|^$' "$ROOT/.ci/run" | tr '\n' ' ')" \
		"scripts/setup-deps.sh make test " ".ci/run"
}
t_run "make test and make demo run scripts/setup-deps.sh first, make does not" t_setup_first

# Debian package names: setup-deps.sh's PKGS, debian/control's Build-Depends.
setup_pkgs() {
	sed -n '/^PKGS="/,/"$/p' "$ROOT/scripts/setup-deps.sh" | sed 's/^PKGS=//' | tr -d '"\\' |
		tr -s ' \t' '\n\n' | grep -v '^$'
}
build_deps() {
	awk '/^Build-Depends:/ { f = 1; sub(/^Build-Depends:/, ""); print; next }
	     f && /^[^ \t]/ { f = 0 } f' "$ROOT/debian/control" | tr ',' '\n' |
		sed 's/([^)]*)//g; s/\[[^]]*\]//g; s/[[:space:]]//g' | grep -v '^$'
}

t_dep_tables() {
	local line sp bd mp m p
	line=$(mk -s deps-print | sed -n 's/^modules: //p')
	[ -n "$line" ] || t_fail "make deps-print printed no modules"
	sp=" $(setup_pkgs | tr '\n' ' ') "
	bd=" $(build_deps | tr '\n' ' ') "
	for mp in $line; do
		m=${mp%%:*} p=${mp#*:}
		[ "$p" != unknown ] || t_fail "module $m has no Debian package (DEB_OF_$m in the Makefile)"
		[[ "$sp" == *" $p "* ]] || t_fail "$p (module $m) is not in scripts/setup-deps.sh"
		[ "$m" = cmocka ] || [[ "$bd" == *" $p "* ]] ||
			t_fail "$p (module $m) is not in debian/control's Build-Depends"
	done
	for mp in $(mk -s deps-print | sed -n 's/^tools: //p'); do
		p=${mp#*:}
		[[ "$sp" == *" $p "* ]] || t_fail "$p (tool ${mp%%:*}) is not in scripts/setup-deps.sh"
		[ "$p" = gcc ] || [[ "$bd" == *" $p "* ]] || t_fail "$p is not in Build-Depends"
	done
	for p in $bd; do
		[ "$p" = debhelper-compat ] && p=debhelper
		[[ "$sp" == *" $p "* ]] || t_fail "Build-Depends $p is not in scripts/setup-deps.sh"
	done
	for p in dpkg-dev debhelper lintian; do
		[[ "$sp" == *" $p "* ]] || t_fail "make deb needs $p: not in scripts/setup-deps.sh"
	done
}
t_run "every module and tool: a Debian package in setup-deps.sh and Build-Depends" t_dep_tables

# ------------------------------------------------------------ make install

# "MODE PATH" of every file and symbolic link below DIR, sorted.
tree_of() { (cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | LC_ALL=C sort); }

# The unit's Exec* commands name programs and a configuration that exist in DEST.
check_unit() { # DEST UNIT SBINDIR SYSCONFDIR
	local dest=$1 unit=$2 w prev=
	[ -f "$dest$unit" ] || t_fail "no unit $unit"
	! grep -n '@[A-Z_]*@' "$dest$unit" || t_fail "placeholder left in $unit"
	grep -q "^ExecStart=$3/bwctld " "$dest$unit" ||
		t_fail "ExecStart of $unit does not name $3/bwctld: $(grep ^ExecStart "$dest$unit")"
	for w in $(grep -h '^Exec[A-Za-z]*=' "$dest$unit" | sed 's/^[^=]*=[-@:+!]*//'); do
		case $w in
		*/bwctld | */bwctl) [ -x "$dest$w" ] || t_fail "$unit runs $w: not installed" ;;
		esac
		if [ "$prev" = -c ]; then
			[ "$w" = "$4/bwenforce/bwenforce.yaml" ] || t_fail "$unit: -c $w, installed $4/bwenforce/bwenforce.yaml"
			[ -f "$dest$w" ] || t_fail "$unit: -c $w: not installed"
		fi
		prev=$w
	done
	return 0
}

expected_install() { # PREFIX SYSCONFDIR UNITDIR
	local man u
	{
		echo "755 ${1#/}/sbin/bwctld"
		echo "755 ${1#/}/bin/bwctl"
		echo "644 ${1#/}/lib/bwenforce/bwe.bpf.o"
		for man in "$ROOT"/docs/man/*.[58]; do
			echo "644 ${1#/}/share/man/man${man##*.}/${man##*/}"
		done
		for u in "$ROOT"/systemd/*.service "$ROOT"/systemd/*.socket "$ROOT"/systemd/*.timer; do
			[ -e "$u" ] && echo "644 ${3#/}/${u##*/}"
		done
		echo "640 ${2#/}/bwenforce/bwenforce.yaml"
		echo "644 ${2#/}/logrotate.d/bwenforce"
	} | LC_ALL=C sort
}

t_install() {
	local d=$WORK/dest out
	out=$(mk install DESTDIR="$d" 2>&1) || t_fail "make install: $out"
	assert_eq "$(tree_of "$d")" "$(expected_install /usr/local /etc /usr/local/lib/systemd/system)" \
		"installed files and modes"
	cmp -s "$ROOT/policies/bwenforce.yaml" "$d/etc/bwenforce/bwenforce.yaml" || t_fail "config differs"
	cmp -s "$ROOT/scripts/bwenforce.logrotate" "$d/etc/logrotate.d/bwenforce" || t_fail "logrotate differs"
	cmp -s "$ROOT/build/bwctld" "$d/usr/local/sbin/bwctld" || t_fail "bwctld differs from build/"
	check_unit "$d" /usr/local/lib/systemd/system/bwctld.service /usr/local/sbin /etc
	assert_eq "$("$d/usr/local/bin/bwctl" --version | awk '{print $2}')" "$VERSION" "bwctl --version"

	# an edited configuration survives make install and make uninstall
	echo "# edited by the operator" >>"$d/etc/bwenforce/bwenforce.yaml"
	out=$(mk install DESTDIR="$d" 2>&1) || t_fail "second make install: $out"
	grep -q "kept .*/etc/bwenforce/bwenforce.yaml" <<<"$out" || t_fail "no 'kept' note: $out"
	assert_eq "$(tail -n 1 "$d/etc/bwenforce/bwenforce.yaml")" "# edited by the operator" "config after install"
	out=$(mk uninstall DESTDIR="$d" 2>&1) || t_fail "make uninstall: $out"
	assert_eq "$(tree_of "$d")" "640 etc/bwenforce/bwenforce.yaml" "left after uninstall"
	assert_eq "$(tail -n 1 "$d/etc/bwenforce/bwenforce.yaml")" "# edited by the operator" "config after uninstall"
	[ ! -e "$d/usr/local/lib/bwenforce" ] || t_fail "usr/local/lib/bwenforce left behind"
}
t_run "make install: every file and mode, ExecStart; uninstall keeps only an edited config" t_install

t_install_prefix() {
	local d=$WORK/dest-opt out
	out=$(mk install DESTDIR="$d" PREFIX=/opt/bwe SYSCONFDIR=/opt/bwe/etc 2>&1) ||
		t_fail "make install: $out"
	assert_eq "$(tree_of "$d")" "$(expected_install /opt/bwe /opt/bwe/etc /opt/bwe/lib/systemd/system)" \
		"installed files and modes"
	check_unit "$d" /opt/bwe/lib/systemd/system/bwctld.service /opt/bwe/sbin /opt/bwe/etc
	out=$(mk uninstall DESTDIR="$d" PREFIX=/opt/bwe SYSCONFDIR=/opt/bwe/etc 2>&1) ||
		t_fail "make uninstall: $out"
	assert_eq "$(tree_of "$d")" "" "left after uninstall"
	[ ! -e "$d/opt/bwe/etc/bwenforce" ] || t_fail "opt/bwe/etc/bwenforce left behind"
}
t_run "make install PREFIX=/opt/bwe SYSCONFDIR=...: unit follows; uninstall leaves nothing" \
	t_install_prefix

# ------------------------------------------------------------ make deb

DEB_TOOLS_MISSING=
for t in dpkg-buildpackage dpkg-parsechangelog dh lintian dpkg dpkg-deb setpriv; do
	command -v "$t" >/dev/null 2>&1 || DEB_TOOLS_MISSING="$DEB_TOOLS_MISSING $t"
done
deb_tools() {
	[ -z "$DEB_TOOLS_MISSING" ] ||
		t_skip "not installed:$DEB_TOOLS_MISSING (dpkg-dev, debhelper, lintian: scripts/setup-deps.sh)"
}
the_deb() { ls "$DEBS"/bwenforce_"$VERSION"_*.deb 2>/dev/null | head -n 1; }
need_deb() {
	deb_tools
	DEB=$(the_deb)
	[ -n "$DEB" ] || t_fail "no package in $DEBS: make deb failed (see above)"
}

t_version() {
	local cl
	[ -n "$VERSION" ] || t_fail "no BWE_VERSION in lib/bwe_version.h"
	cl=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version 2>/dev/null) ||
		cl=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
	assert_eq "$cl" "$VERSION" "debian/changelog vs lib/bwe_version.h"
	assert_eq "$(mk -s deps-print | sed -n 's/^version: //p')" "$VERSION" "the Makefile's VERSION"
	assert_eq "$("$ROOT/build/bwctl" --version | awk '{print $2}')" "$VERSION" "build/bwctl --version"
	grep -aq "bwenforce/$VERSION" "$ROOT/build/bwctld" || t_fail "build/bwctld does not carry $VERSION"
}
t_run "one version: lib/bwe_version.h, debian/changelog, the Makefile, bwctl, bwctld" t_version

t_make_deb() {
	local out rc home=$WORK/home
	deb_tools
	# built by nobody: the package build needs no root (Rules-Requires-Root: no)
	grep -qx 'Rules-Requires-Root: no' "$ROOT/debian/control" || t_fail "Rules-Requires-Root: no missing"
	mkdir -p "$DEBS" "$home"
	chmod 0755 "$WORK" "$T_TMPROOT"
	chown 65534:65534 "$DEBS" "$home"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$home" \
		make -C "$ROOT" --no-print-directory deb DEB_DIR="$DEBS" 2>&1)
	rc=$?
	printf '%s\n' "$out" | tail -n 60
	[ $rc -eq 0 ] || t_fail "make deb (as nobody) failed, exit $rc"
	[ -n "$(the_deb)" ] || t_fail "no $DEBS/bwenforce_${VERSION}_*.deb"
	grep -q '^lintian ' <<<"$out" || t_fail "make deb did not run lintian"
}
t_run "make deb builds bwenforce_${VERSION}_*.deb as an unprivileged user" t_make_deb

t_lintian() {
	local out rc f tag
	need_deb
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$WORK/home" \
		lintian --fail-on error,warning --display-info "$DEBS"/bwenforce_"$VERSION"_*.changes 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ $rc -eq 0 ] || t_fail "lintian: errors or warnings: $(grep '^[EW]:' <<<"$out")"
	assert_fail grep -q '^[EW]:' <<<"$out"
	# every override has a comment above it and is explained in docs/deployment.md
	for f in "$ROOT"/debian/*lintian-overrides "$ROOT"/debian/source/lintian-overrides; do
		[ -f "$f" ] || continue
		awk 'NF && !/^#/ && prev !~ /^#/ { print FILENAME ":" NR ": override without a comment: " $0; bad = 1 }
		     { prev = $0 } END { exit bad }' "$f" || t_fail "$(awk 'NF && !/^#/ && prev !~ /^#/ {print} {prev=$0}' "$f")"
		for tag in $(grep -v '^#' "$f" | awk 'NF { print ($1 ~ /:$/ ? $2 : $1) }'); do
			grep -q "$tag" "$ROOT/docs/deployment.md" ||
				t_fail "lintian override $tag is not explained in docs/deployment.md"
		done
	done
}
t_run "lintian: no error or warning; every override explained" t_lintian

t_deb_contents() {
	local list want
	need_deb
	list=$(dpkg-deb -c "$DEB") || t_fail "dpkg-deb -c"
	# MODE OWNER PATH of the files (directories apart)
	list=$(awk '$1 !~ /^d/ { print $1, $2, $6 }' <<<"$list" | LC_ALL=C sort)
	want=$(
		{
			echo "-rwxr-xr-x root/root ./usr/sbin/bwctld"
			echo "-rwxr-xr-x root/root ./usr/bin/bwctl"
			echo "-rw-r--r-- root/root ./usr/lib/bwenforce/bwe.bpf.o"
			for m in "$ROOT"/docs/man/*.[58]; do
				echo "-rw-r--r-- root/root ./usr/share/man/man${m##*.}/${m##*/}.gz"
			done
			for m in "$ROOT"/systemd/*.service "$ROOT"/systemd/*.socket "$ROOT"/systemd/*.timer; do
				[ -e "$m" ] && echo "-rw-r--r-- root/root ./lib/systemd/system/${m##*/}"
			done
			echo "-rw-r----- root/root ./etc/bwenforce/bwenforce.yaml"
			echo "-rw-r--r-- root/root ./etc/logrotate.d/bwenforce"
			echo "-rw-r--r-- root/root ./usr/share/doc/bwenforce/copyright"
			echo "-rw-r--r-- root/root ./usr/share/doc/bwenforce/changelog.gz"
			echo "-rw-r--r-- root/root ./usr/share/lintian/overrides/bwenforce"
			# what debian/bwenforce.examples names, as dh_installexamples expands it
			while read -r pat; do
				for m in "$ROOT"/$pat; do
					[ -e "$m" ] && echo "-rw-r--r-- root/root ./usr/share/doc/bwenforce/examples/${m##*/}"
				done
			done <"$ROOT/debian/bwenforce.examples"
		} | LC_ALL=C sort
	)
	assert_eq "$list" "$want" "files of the .deb"
	assert_eq "$(dpkg-deb -f "$DEB" Version)" "$VERSION" "Version of the .deb"
	assert_eq "$(dpkg-deb -I "$DEB" conffiles | LC_ALL=C sort | tr '\n' ' ')" \
		"/etc/bwenforce/bwenforce.yaml /etc/logrotate.d/bwenforce " "conffiles"
	dpkg-deb -f "$DEB" Depends | grep -q 'libbpf1.*libxdp1\|libxdp1.*libbpf1' ||
		t_fail "Depends lacks the shared libraries: $(dpkg-deb -f "$DEB" Depends)"
}
t_run "the .deb: files, modes, owners, conffiles, Version, Depends" t_deb_contents

# ------------------------------------------------------------ dpkg --root

# A scratch root a dpkg --root can run maintainer scripts in (chroot): a
# merged-/usr layout, an empty dpkg database, /dev/null, and sh plus the few
# commands the scripts use. No systemd, no deb-systemd-helper, no systemctl.
make_root() { # DIR
	local r=$1 c p lib
	mkdir -p "$r"/usr/bin "$r"/usr/sbin "$r"/usr/lib "$r"/usr/lib64 "$r"/etc "$r"/tmp \
		"$r"/run "$r"/dev "$r"/var/log "$r"/var/lib/dpkg/info "$r"/var/lib/dpkg/updates \
		"$r"/var/lib/dpkg/triggers "$r"/var/lib/dpkg/alternatives
	for c in bin sbin lib lib64; do ln -s "usr/$c" "$r/$c"; done
	: >"$r/var/lib/dpkg/status"
	: >"$r/var/lib/dpkg/available"
	if ! mknod -m 0666 "$r/dev/null" c 1 3 2>/dev/null; then # no CAP_MKNOD: bind the host's
		: >"$r/dev/null" && mount --bind /dev/null "$r/dev/null" || return 1
		t_atexit "umount $(printf '%q' "$r/dev/null")"
	fi
	for c in sh mkdir chmod rm sed head timeout cat; do
		p=$(readlink -f "$(command -v "$c")") || return 1
		cp "$p" "$r/usr/bin/$c" || return 1
		for lib in $(ldd "$p" | grep -o '/[^ ]*'); do
			mkdir -p "$r$(dirname "$lib")"
			[ -e "$r$lib" ] || cp -L "$lib" "$r$lib" || return 1
		done
	done
}

dpkg_root() { dpkg --root="$R" --force-depends --force-not-root "$@"; }

t_dpkg_root() {
	local out st f
	need_deb
	R=$WORK/root
	make_root "$R" || t_fail "cannot build the scratch root"
	out=$(dpkg_root -i "$DEB" 2>&1) || t_fail "dpkg --root -i failed: $out"
	printf '%s\n' "$out"
	st=$(dpkg --root="$R" -s bwenforce 2>&1)
	grep -qx 'Status: install ok installed' <<<"$st" || t_fail "not installed: $st"
	for f in /etc/bwenforce/bwenforce.yaml /etc/logrotate.d/bwenforce; do
		grep -q "^ $f [0-9a-f]\{32\}$" <<<"$st" || t_fail "$f is not a conffile: $st"
	done
	assert_eq "$(stat -c '%a %U' "$R/usr/sbin/bwctld")" "755 root" "bwctld"
	assert_eq "$(stat -c '%a %U' "$R/usr/bin/bwctl")" "755 root" "bwctl"
	assert_eq "$(stat -c '%a' "$R/usr/lib/bwenforce/bwe.bpf.o")" "644" "bwe.bpf.o"
	assert_eq "$(stat -c '%a' "$R/etc/bwenforce/bwenforce.yaml")" "640" "configuration"
	assert_eq "$(stat -c '%a' "$R/lib/systemd/system/bwctld.service")" "644" "unit"
	check_unit "$R" /lib/systemd/system/bwctld.service /usr/sbin /etc
	# the postinst ran, in the root
	assert_eq "$(stat -c '%a' "$R/var/lib/bwenforce" 2>&1)" "750" "postinst: /var/lib/bwenforce"
	assert_eq "$(stat -c '%a' "$R/var/log/bwenforce" 2>&1)" "750" "postinst: /var/log/bwenforce"
	# the installed programs work (on the host, which has their libraries)
	assert_eq "$("$R/usr/bin/bwctl" --version | awk '{print $2}')" "$VERSION" "installed bwctl --version"
	assert_eq "$("$R/usr/sbin/bwctld" -n -c "$R/etc/bwenforce/bwenforce.yaml" 2>&1)" \
		"configuration OK" "installed bwctld -n on the shipped configuration"
	readelf -h "$R/usr/lib/bwenforce/bwe.bpf.o" | grep -q 'Machine:.*BPF' ||
		t_fail "bwe.bpf.o is not an eBPF object"

	# reinstall (prerm upgrade, postinst configure VERSION): an edited conffile stays
	echo "# edited by the operator" >>"$R/etc/bwenforce/bwenforce.yaml"
	out=$(dpkg_root --force-confold -i "$DEB" 2>&1) || t_fail "dpkg --root reinstall failed: $out"
	assert_eq "$(tail -n 1 "$R/etc/bwenforce/bwenforce.yaml")" "# edited by the operator" \
		"edited conffile after reinstall"

	# remove with a control socket present: the prerm tries bwctl detach (it
	# cannot work in this root) and still succeeds
	mkdir -p "$R/run/bwenforce"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
		"$R/run/bwenforce/bwctld.sock" || t_fail "cannot make a socket"
	out=$(dpkg_root -r bwenforce 2>&1) || t_fail "dpkg --root -r failed: $out"
	printf '%s\n' "$out"
	grep -q 'bwctl detach failed' <<<"$out" || t_fail "prerm did not try bwctl detach: $out"
	grep -qx 'Status: deinstall ok config-files' <<<"$(dpkg --root="$R" -s bwenforce 2>&1)" ||
		t_fail "not in config-files state after -r"
	if [ -e "$R/usr/sbin/bwctld" ] || [ -e "$R/usr/lib/bwenforce" ]; then
		t_fail "files left after -r"
	fi
	[ -f "$R/etc/bwenforce/bwenforce.yaml" ] || t_fail "conffile removed by -r"
	[ -d "$R/var/lib/bwenforce" ] || t_fail "state removed by -r (only purge should)"

	rm -rf "$R/run/bwenforce" # our socket
	out=$(dpkg_root -P bwenforce 2>&1) || t_fail "dpkg --root -P failed: $out"
	printf '%s\n' "$out"
	st=$(cd "$R" && find . -path ./var/lib/dpkg -prune -o \( -name '*bwenforce*' -o -name 'bwctl*' \) -print)
	assert_eq "$st" "" "left after purge"
}
t_run "dpkg --root: install without systemd, conffiles, reinstall, remove, purge" t_dpkg_root

t_summary
