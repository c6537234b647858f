# SPDX-License-Identifier: GPL-2.0-only
# bwenforce - one Makefile for BPF objects, skeletons, lib/, ctl/, tests,
# install and the Debian package. Generated files go to build/; header
# dependencies come from -MMD -MP. A build never installs packages: it names
# the missing ones (deps-check); make test and make demo run
# scripts/setup-deps.sh first.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wstrict-prototypes \
	    -Wmissing-prototypes -Wshadow -Wpointer-arith -Wcast-qual \
	    -Wformat=2 -D_GNU_SOURCE -Ilib -I$(BUILD) -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Werror -Ilib \
	    -idirafter $(ARCH_INC) -MMD -MP

PKGS     := libbpf libxdp json-c yaml-0.1 libnl-3.0 libnl-route-3.0 libcurl libseccomp \
	    libsystemd libmicrohttpd gnutls libxxhash
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   += $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lelf -lz -lm -lresolv -lpthread

BPF_SRCS := $(wildcard xdp/*.bpf.c)
BPF_OBJS := $(patsubst xdp/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst xdp/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIBBWE   := $(BUILD)/libbwe.a

BWCTLD_OBJS := $(patsubst ctl/%.c,$(BUILD)/ctl/%.o,$(wildcard ctl/bwctld/*.c))
# Every bwctld module but main.o, for the unit tests of the daemon's layers.
LIBBWCTLD   := $(BUILD)/libbwctld.a
BWCTL_OBJS  := $(patsubst ctl/%.c,$(BUILD)/ctl/%.o,$(wildcard ctl/bwctl/*.c))
CTL_PROGS := $(BUILD)/bwctld $(BUILD)/bwctl

TOOL_SRCS := $(filter-out %.bpf.c,$(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
TOOL_BPF  := $(patsubst tests/tools/%.bpf.c,$(BUILD)/tools/%.bpf.o,$(wildcard tests/tools/*.bpf.c))

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
# The detection harness's self-test (two minutes) runs with make
# detect-eval-check, not in make test: make test must stay within 30
# minutes on 2 cores.
TEST_SH   := $(sort $(filter-out tests/e2e_detect_eval.sh,$(wildcard tests/e2e_*.sh)))
# Every suite runs on the testbed's default topology, a NAT gateway; these
# run a second time on a routed one (scripts/run-tests.sh, SUITE@routed):
# the packet path (accounting, both directions), hostile senders and host
# identity, which differ with the topology. The control, metrics and
# detection suites judge what the daemon makes of the same counters on
# either and run once (a routed run of each passed when they were added).
# tests/e2e_forward.sh builds both topologies it needs itself (routed, then
# IPv4 NAT), so it runs once.
TEST_SH_ROUTED := tests/e2e_traffic.sh tests/e2e_hostile.sh tests/e2e_identity.sh
TEST_SH   += $(addsuffix @routed,$(TEST_SH_ROUTED))
# The suites that boot other kernels under qemu (tests/lib_guest.sh: software
# emulation, one CPU each) run side by side (scripts/run-tests.sh, A+B):
# 123 s instead of about 200 (measured when it was added).
TEST_SH_GUESTS := tests/e2e_flowtable.sh tests/e2e_kernels.sh
empty     :=
space     := $(empty) $(empty)
TEST_SH   := $(filter-out $(TEST_SH_GUESTS),$(TEST_SH)) $(subst $(space),+,$(TEST_SH_GUESTS))

# The release version: lib/bwe_version.h is the one place (debian/changelog
# must agree; tests/e2e_package.sh checks).
VERSION := $(shell sed -n 's/^\#define BWE_VERSION[[:space:]]*"\(.*\)".*/\1/p' lib/bwe_version.h)

.PHONY: all progs deps test clean demo bench line-profile fuzz format format-check check-layers \
	install uninstall deb deps-print
.DEFAULT_GOAL := all

all: deps-check $(SKELS) $(LIBBWE) $(CTL_PROGS) $(TEST_BINS) $(TOOL_BINS) $(TOOL_BPF)

# What make install and the Debian package need: no tests, no cmocka.
progs: deps-check $(CTL_PROGS) $(BPF_OBJS)

# ---- dependencies: checked by every build, installed only by setup-deps ----
# make deps (or sudo scripts/setup-deps.sh) installs every Debian package the
# build, the tests, the demo and make deb need. make test and make demo run
# it first, so the README's two commands set up a fresh machine. Every other
# build only checks (deps-check) and stops naming what is missing.
deps:
	scripts/setup-deps.sh

# The Debian package of each tool and pkg-config module the build needs, for
# deps-check's message (tests/e2e_package.sh checks that every module of PKGS
# has one and that scripts/setup-deps.sh installs each).
DEB_OF_cc              := gcc
DEB_OF_gcc             := gcc
DEB_OF_clang           := clang
DEB_OF_bpftool         := bpftool
DEB_OF_pkg-config      := pkg-config
DEB_OF_libbpf          := libbpf-dev
DEB_OF_libxdp          := libxdp-dev
DEB_OF_json-c          := libjson-c-dev
DEB_OF_yaml-0.1        := libyaml-dev
DEB_OF_libnl-3.0       := libnl-3-dev
DEB_OF_libnl-route-3.0 := libnl-route-3-dev
DEB_OF_libcurl         := libcurl4-openssl-dev
DEB_OF_libseccomp      := libseccomp-dev
DEB_OF_libsystemd      := libsystemd-dev
DEB_OF_libmicrohttpd   := libmicrohttpd-dev
DEB_OF_gnutls          := libgnutls28-dev
DEB_OF_libxxhash       := libxxhash-dev
DEB_OF_cmocka          := libcmocka-dev
deb_of = $(or $(DEB_OF_$(notdir $(1))),unknown)

DEPS_TOOLS := $(firstword $(CC)) $(CLANG) $(BPFTOOL) pkg-config
# cmocka only when the goals build tests (plain make does; progs, install
# and the Debian package do not).
NO_TEST_GOALS  := progs install uninstall deb clean deps deps-check deps-print fuzz
DEPS_TEST_MODS := $(if $(filter-out $(NO_TEST_GOALS),$(or $(MAKECMDGOALS),all)),cmocka)
DEPS_MODS       = $(PKGS) $(DEPS_TEST_MODS)
# make test / make demo: install first (as root; setup-deps.sh only checks
# when nothing is missing).
DEPS_SETUP := $(filter test demo,$(MAKECMDGOALS))

# Order-only prerequisite of every output directory (below), so that with
# -j nothing compiles before it has passed.
.PHONY: deps-check
deps-check:
	$(if $(DEPS_SETUP),scripts/setup-deps.sh)
	@miss= pkgs=; \
	for tp in $(foreach t,$(DEPS_TOOLS),$(t):$(call deb_of,$(t))); do \
		t=$${tp%:*} p=$${tp##*:}; \
		command -v $$t >/dev/null 2>&1 && continue; \
		echo "make: missing $$t (Debian package $$p)" >&2; miss=1; pkgs="$$pkgs $$p"; \
	done; \
	if command -v pkg-config >/dev/null 2>&1; then \
		for mp in $(foreach m,$(DEPS_MODS),$(m):$(call deb_of,$(m))); do \
			m=$${mp%:*} p=$${mp##*:}; \
			pkg-config --exists $$m && continue; \
			echo "make: missing $$m (Debian package $$p)" >&2; miss=1; pkgs="$$pkgs $$p"; \
		done; \
	fi; \
	if [ -n "$$miss" ]; then \
		echo "make: run sudo scripts/setup-deps.sh (every package the build, tests and demo need), or sudo apt-get install$$pkgs" >&2; \
		exit 1; \
	fi

# "module:package" for every pkg-config module and tool the build checks, and
# the version (tests/e2e_package.sh).
deps-print:
	@echo "version: $(VERSION)"
	@echo "modules: $(foreach m,$(PKGS) cmocka,$(m):$(call deb_of,$(m)))"
	@echo "tools: $(foreach t,$(DEPS_TOOLS),$(t):$(call deb_of,$(t)))"

$(BUILD)/%.bpf.o: xdp/%.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -MF $(BUILD)/$*.bpf.d -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/%.o: lib/%.c | $(SKELS) $(BUILD)/lib
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBBWE): $(LIB_OBJS)
	$(AR) rcs $@ $^

# ctl/<prog>/*.c -> build/<prog>
$(BUILD)/bwctld: $(BWCTLD_OBJS) $(LIBBWE)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIBBWCTLD): $(filter-out %/main.o,$(BWCTLD_OBJS))
	$(AR) rcs $@ $^

$(BUILD)/bwctl: $(BWCTL_OBJS) $(LIBBWE)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/ctl/%.o: ctl/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(LIBBWCTLD) $(LIBBWE) | $(SKELS) $(BUILD)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Ictl/bwctld -o $@ $< $(LIBBWCTLD) $(LIBBWE) $(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(LIBBWE) | $(SKELS) $(BUILD)/tools
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBBWE) $(LDLIBS)

$(BUILD)/tools/%.bpf.o: tests/tools/%.bpf.c | $(BUILD)/tools
	$(CLANG) $(BPF_CFLAGS) -MF $(BUILD)/tools/$*.bpf.d -c $< -o $@

# Every compile waits for deps-check (it may install the compilers and
# headers): each output directory has it as an order-only prerequisite.
$(BUILD) $(BUILD)/lib $(BUILD)/tests $(BUILD)/tools: | deps-check
	mkdir -p $@

# The one test command. Unit tests (cmocka) then shell suites; every runner
# prints its closing line; the target fails when any runner failed.
test: all
	@echo "=== scripts/format-check.sh"; CLANG_FORMAT=$(CLANG_FORMAT) scripts/format-check.sh; f=$$?; \
	echo "=== scripts/check-layers.sh"; scripts/check-layers.sh $(BUILD); l=$$?; \
	echo "=== redocly lint $(OPENAPI)"; $(LINT_OPENAPI); o=$$?; \
	scripts/run-tests.sh $(TEST_BINS) -- $(TEST_SH); r=$$?; \
	[ $$f -eq 0 ] || echo "make test: FAILED: scripts/format-check.sh"; \
	[ $$l -eq 0 ] || echo "make test: FAILED: scripts/check-layers.sh"; \
	[ $$o -eq 0 ] || echo "make test: FAILED: redocly lint $(OPENAPI)"; \
	[ $$f -eq 0 ] && [ $$l -eq 0 ] && [ $$o -eq 0 ] && [ $$r -eq 0 ]

# The HTTP API's description, linted by the Redocly CLI that
# scripts/setup-deps.sh installs (pinned) in its own prefix.
OPENAPI ?= docs/api/openapi.yaml
REDOCLY ?= /opt/bwenforce-tools/node_modules/.bin/redocly
# One command for make test and make lint-openapi (not a sub-make: a recipe
# line naming $(MAKE) would run even under make -n).
LINT_OPENAPI = { [ -x $(REDOCLY) ] || { echo "$(REDOCLY) missing: run scripts/setup-deps.sh" >&2; false; }; } && \
	$(REDOCLY) lint --format=stylish --max-problems=50 $(OPENAPI)
.PHONY: lint-openapi
lint-openapi:
	@$(LINT_OPENAPI)

# The README's first command: the main job on a built-in gateway testbed.
demo: all
	scripts/demo.sh

clean:
	rm -rf $(BUILD)

# ---- install (docs/deployment.md, "Installing") ----
# make install [PREFIX=/usr/local] [SYSCONFDIR=/etc] [DESTDIR=...]
# [SYSTEMDUNITDIR=$(PREFIX)/lib/systemd/system]. Files under SYSCONFDIR are
# installed only when absent and removed by make uninstall only when they
# still equal the shipped copy, so an edited configuration survives both.
PREFIX         ?= /usr/local
SYSCONFDIR     ?= /etc
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
PKGLIBDIR      ?= $(PREFIX)/lib/bwenforce
MANDIR         ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL        ?= install

MAN5  := $(wildcard docs/man/*.5)
MAN8  := $(wildcard docs/man/*.8)
UNITS := $(wildcard systemd/*.service systemd/*.socket systemd/*.timer)
# source:destination:mode of the files under SYSCONFDIR
ETC_FILES = policies/bwenforce.yaml:$(SYSCONFDIR)/bwenforce/bwenforce.yaml:0640 \
	    scripts/bwenforce.logrotate:$(SYSCONFDIR)/logrotate.d/bwenforce:0644
# Units are templates: @SBINDIR@, @BINDIR@, @SYSCONFDIR@ become the paths of
# this install, so ExecStart= names the installed bwctld; a literal
# /etc/bwenforce/ follows SYSCONFDIR too (-c of the installed configuration).
UNIT_SED = -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	   -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|/etc/bwenforce/|$(SYSCONFDIR)/bwenforce/|g'

install: progs
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 $(BUILD)/bwctld $(DESTDIR)$(SBINDIR)/bwctld
	$(INSTALL) -m 0755 $(BUILD)/bwctl $(DESTDIR)$(BINDIR)/bwctl
	$(INSTALL) -m 0644 $(BPF_OBJS) $(DESTDIR)$(PKGLIBDIR)/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	@set -e; for u in $(UNITS); do \
		d=$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; \
		echo "sed $(UNIT_SED) $$u > $$d"; \
		sed $(UNIT_SED) $$u > $$d.tmp; chmod 0644 $$d.tmp; mv -f $$d.tmp $$d; \
		if grep -n '@[A-Z]*@' $$d; then echo "install: $$u: unknown @...@ placeholder" >&2; exit 1; fi; \
	done
	@set -e; for f in $(ETC_FILES); do \
		src=$${f%%:*} rest=$${f#*:}; dst=$(DESTDIR)$${rest%:*} mode=$${rest##*:}; \
		if [ ! -e $$dst ]; then \
			echo "$(INSTALL) -D -m $$mode $$src $$dst"; \
			$(INSTALL) -D -m $$mode $$src $$dst; \
		elif ! cmp -s $$src $$dst; then \
			echo "install: kept $$dst (it differs from $$src: compare them)"; \
		fi; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/bwctld $(DESTDIR)$(BINDIR)/bwctl \
		$(addprefix $(DESTDIR)$(PKGLIBDIR)/,$(notdir $(BPF_OBJS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(notdir $(UNITS)))
	-rmdir $(DESTDIR)$(PKGLIBDIR)
	@for f in $(ETC_FILES); do \
		src=$${f%%:*} rest=$${f#*:}; dst=$(DESTDIR)$${rest%:*}; \
		[ -e $$dst ] || continue; \
		if cmp -s $$src $$dst; then echo "rm -f $$dst"; rm -f $$dst; \
		else echo "uninstall: kept $$dst (edited)"; fi; \
	done; \
	rmdir $(DESTDIR)$(SYSCONFDIR)/bwenforce 2>/dev/null || true

# ---- Debian package (docs/deployment.md, "Debian package") ----
# A copy of the source tree (without build/ and VCS files) is built with
# dpkg-buildpackage in $(DEB_DIR)/bwenforce-$(VERSION), without root
# (Rules-Requires-Root: no); the .deb, .dsc, source tarball and .changes land
# in $(DEB_DIR), and lintian checks them (errors and warnings fail; the
# remaining tags are overridden with reasons in debian/*lintian-overrides).
DEB_DIR  ?= $(BUILD)/deb
DEB_SRC   = $(DEB_DIR)/bwenforce-$(VERSION)
DEB_OPTS ?= -us -uc
LINTIAN  ?= lintian
LINTIAN_OPTS ?= --fail-on error,warning --display-info

deb:
	@for t in dpkg-buildpackage:dpkg-dev dh:debhelper $(LINTIAN):lintian; do \
		command -v $${t%:*} >/dev/null 2>&1 && continue; \
		echo "make: missing $${t%:*} (Debian package $${t#*:}): run sudo scripts/setup-deps.sh" >&2; exit 1; \
	done
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); [ "$$v" = "$(VERSION)" ] || { \
		echo "make deb: debian/changelog is at $$v, lib/bwe_version.h at $(VERSION): add a changelog entry (dch -v $(VERSION))" >&2; exit 1; }
	rm -rf $(DEB_SRC) $(DEB_DIR)/bwenforce_$(VERSION)* $(DEB_DIR)/bwenforce-dbgsym_$(VERSION)_*
	mkdir -p $(DEB_SRC)
	tar -cf - --exclude-vcs --exclude=./$(patsubst ./%,%,$(BUILD)) --exclude=./build . | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		dpkg-buildpackage $(DEB_OPTS)
	$(LINTIAN) $(LINTIAN_OPTS) $(DEB_DIR)/bwenforce_$(VERSION)_*.changes
	@ls -1 $(DEB_DIR)/*.deb

# ---- formatting: .clang-format (kernel style, 100 columns) ----
# make test runs format-check; make format fixes what it reports.
CLANG_FORMAT ?= clang-format
FORMAT_SRCS = $(shell find lib ctl tests xdp bench fuzz -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

format:
	$(CLANG_FORMAT) -i --style=file $(FORMAT_SRCS)

# Lists the files that differ and ends with "N passed, N failed".
format-check:
	@CLANG_FORMAT=$(CLANG_FORMAT) scripts/format-check.sh

# ---- layering: ctl/bwctld/LAYERS, uses only go down; lib/ includes nothing from ctl/ ----
check-layers: $(BWCTLD_OBJS)
	@scripts/check-layers.sh $(BUILD)

# ---- fuzzing: libFuzzer targets (fuzz/README.md) ----
# Feed parser targets share fuzz/fuzz_feed.c (-DFUZZ_TARGET=NAME); every
# other target is its own fuzz/fuzz_NAME.c linked with FUZZ_SRCS_NAME and
# run with fuzz/NAME.dict when there is one.
FUZZ_SECONDS ?= 30
FUZZ_MAX_LEN ?= 16384
FUZZ_FEED_TARGETS := plain spamhaus spamhaus_json feodo_csv stix stix_pattern \
		freeform domains auto
FUZZ_UNIT_TARGETS := $(filter-out feed,$(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_FEED_TARGETS) $(FUZZ_UNIT_TARGETS)
FUZZ_SRCS    := $(filter-out lib/feedwork.c,$(wildcard lib/feed*.c)) lib/addr.c lib/units.c
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-std=gnu11 -Wall -Wextra -Werror -Wstrict-prototypes \
		-Wmissing-prototypes -Wshadow -Wpointer-arith -Wcast-qual \
		-Wformat=2 -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags json-c 2>/dev/null)
FUZZ_LIBS    := $(shell pkg-config --libs json-c 2>/dev/null)
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
# Sources of the standalone targets (one line each).
FUZZ_SRCS_proto := lib/proto.c lib/resolve.c lib/addr.c lib/units.c
FUZZ_SRCS_wire  := lib/wire.c lib/addr.c lib/units.c
FUZZ_SRCS_fleetwire := lib/fleetwire.c
FUZZ_SRCS_zeek_intel := $(FUZZ_SRCS)
FUZZ_SRCS_syslogfmt := lib/syslogfmt.c lib/config.c lib/detect.c lib/expect.c $(FUZZ_SRCS)
FUZZ_LIBS_syslogfmt := $(shell pkg-config --libs yaml-0.1 2>/dev/null) -lm
FUZZ_SRCS_crowdsec := $(FUZZ_SRCS) lib/csdecisions.c
FUZZ_SRCS_taxii := $(FUZZ_SRCS) lib/taxiiset.c
FUZZ_SRCS_misp  := $(FUZZ_SRCS)

$(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_FEED_TARGETS)): $(BUILD)/fuzz/fuzz_%: fuzz/fuzz_feed.c fuzz/fuzz_check.h $(FUZZ_SRCS) $(wildcard lib/feed*.h) lib/addr.h lib/units.h | deps-check
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -DFUZZ_TARGET=$* -o $@ fuzz/fuzz_feed.c $(FUZZ_SRCS) $(FUZZ_LIBS)

.SECONDEXPANSION:
$(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_UNIT_TARGETS)): $(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_check.h $$(FUZZ_SRCS_$$*) $(wildcard lib/*.h) | deps-check
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS) $(FUZZ_LIBS_$*)

fuzz: deps-check $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t fuzz/corpus/$$t; \
		dict=fuzz/feed.dict; [ -f fuzz/$$t.dict ] && dict=fuzz/$$t.dict; \
		case " $(FUZZ_UNIT_TARGETS) " in *" $$t "*) [ -f fuzz/$$t.dict ] || dict=;; esac; \
		echo "=== fuzz_$$t: $(FUZZ_SECONDS) s"; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-max_len=$(FUZZ_MAX_LEN) $${dict:+-dict=$$dict} \
			-artifact_prefix=$(BUILD)/fuzz/$$t- -print_final_stats=1 \
			$(BUILD)/fuzz/corpus/$$t fuzz/corpus/$$t > $(BUILD)/fuzz/$$t.log 2>&1; \
		rc=$$?; \
		grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units' $(BUILD)/fuzz/$$t.log; \
		if [ $$rc -ne 0 ]; then \
			tail -n 40 $(BUILD)/fuzz/$$t.log; \
			echo "fuzz_$$t: FAILED, log $(BUILD)/fuzz/$$t.log"; exit 1; \
		fi; \
	done

# ---- benchmarks (bench/): build/bench/, run as root from the repo root ----
BENCH_DIR  := $(BUILD)/bench
BENCH_ARGS ?=

$(BENCH_DIR)/%.bpf.o: bench/%.bpf.c | $(BENCH_DIR)
	$(CLANG) $(BPF_CFLAGS) -Ixdp -Ibench -MF $(BENCH_DIR)/$*.bpf.d -c $< -o $@

$(BENCH_DIR)/%.skel.h: $(BENCH_DIR)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_DIR)/map_scale: bench/map_scale.c bench/bench_common.c $(LIBBWE) | $(BENCH_DIR)/lookup.skel.h $(SKELS)
	$(CC) $(CFLAGS) -Ibench -I$(BENCH_DIR) -o $@ $(filter %.c,$^) $(LIBBWE) $(LDLIBS)

.PRECIOUS: $(BUILD)/%.bpf.o $(BENCH_DIR)/%.bpf.o

$(BENCH_DIR): | deps-check
	mkdir -p $@

$(BENCH_DIR)/prog_cost: bench/prog_cost.c bench/bench_common.c $(LIBBWE) | $(BENCH_DIR)/prog_cost.skel.h $(SKELS)
	$(CC) $(CFLAGS) -Ibench -I$(BENCH_DIR) -o $@ $(filter %.c,$^) $(LIBBWE) $(LDLIBS)

$(BENCH_DIR)/live_frames: bench/live_frames.c bench/bench_common.c $(LIBBWE) | $(BENCH_DIR)/live_gen.skel.h $(BENCH_DIR)/prog_cost.skel.h $(BENCH_DIR)/lookup.skel.h $(SKELS)
	$(CC) $(CFLAGS) -Ibench -I$(BENCH_DIR) -o $@ $(filter %.c,$^) $(LIBBWE) $(LDLIBS)

$(BENCH_DIR)/fwd_frames: bench/fwd_frames.c bench/bench_common.c $(LIBBWE) | $(BENCH_DIR)/fwd_gen.skel.h $(SKELS)
	$(CC) $(CFLAGS) -Ibench -I$(BENCH_DIR) -o $@ $(filter %.c,$^) $(LIBBWE) $(LDLIBS)

$(BENCH_DIR)/hosts_fill: bench/hosts_fill.c lib/bwe_abi.h lib/bwe_rules.h | $(BENCH_DIR)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

# bench/line_profile.sh's map of a loaded program's JIT image to its source lines.
$(BENCH_DIR)/prog_lines: bench/prog_lines.c | $(BENCH_DIR)
	$(CC) $(CFLAGS) -o $@ $< -lbpf

# A profile of one tier 1 row by source line (bench/line_profile.sh); LINE_PROFILE_ARGS="--row N".
line-profile: $(BENCH_DIR)/prog_cost $(BENCH_DIR)/prog_lines
	bench/line_profile.sh $(LINE_PROFILE_ARGS)

# The detection evaluation (tests/traffic/run.sh): writes docs/detection.md,
# about 20 minutes on 2 cores; QUICK=1 for a two-minute smoke run of the
# harness (nothing written to docs/). Not part of make test.
detect-eval: all
	tests/traffic/run.sh $(if $(QUICK),--quick)
# The harness's own self-test (plan, compression, generator, parser), as a suite.
detect-eval-check: all
	scripts/run-tests.sh tests/e2e_detect_eval.sh
.PHONY: detect-eval detect-eval-check

# Measures and writes docs/benchmarks.md (bench/run.sh); BENCH_ARGS=--quick for a smoke run.
bench: all $(BENCH_DIR)/map_scale $(BENCH_DIR)/prog_cost $(BENCH_DIR)/live_frames $(BENCH_DIR)/fwd_frames \
	$(BENCH_DIR)/hosts_fill $(BENCH_DIR)/prog_lines
	bench/run.sh $(BENCH_ARGS)

-include $(wildcard $(BUILD)/*.d $(BUILD)/lib/*.d $(BUILD)/ctl/*/*.d $(BUILD)/tests/*.d $(BUILD)/tools/*.d $(BENCH_DIR)/*.d)
