# SPDX-License-Identifier: GPL-2.0-only
# bwenforce - one Makefile for BPF objects, skeletons, lib/, ctl/, tests.
# Generated files go to build/; header dependencies come from -MMD -MP.

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
	    libsystemd libmicrohttpd gnutls
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
TEST_SH   := $(sort $(wildcard tests/e2e_*.sh))

.PHONY: all deps test clean demo bench fuzz format format-check check-layers
.DEFAULT_GOAL := all

all: deps-check $(SKELS) $(LIBBWE) $(CTL_PROGS) $(TEST_BINS) $(TOOL_BINS) $(TOOL_BPF)

# Install Debian packages when something the build needs is missing.
deps:
	scripts/setup-deps.sh

.PHONY: deps-check
deps-check:
	@for t in $(CLANG) $(BPFTOOL) pkg-config; do \
		command -v $$t >/dev/null 2>&1 || { scripts/setup-deps.sh; break; }; \
	done; \
	pkg-config --exists $(PKGS) cmocka || scripts/setup-deps.sh

$(BUILD)/%.bpf.o: xdp/%.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -MF $(BUILD)/$*.bpf.d -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/%.o: lib/%.c | $(SKELS) $(BUILD)/lib
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBBWE): $(LIB_OBJS)
	$(AR) rcs $@ $^

# ctl/<prog>/*.c -> build/<prog>
$(BUILD)/bwctld: $(BWCTLD_OBJS) $(LIBBWE)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(LIBBWCTLD): $(filter-out %/main.o,$(BWCTLD_OBJS))
	$(AR) rcs $@ $^

$(BUILD)/bwctl: $(BWCTL_OBJS) $(LIBBWE)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/ctl/%.o: ctl/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(LIBBWCTLD) $(LIBBWE) | $(SKELS) $(BUILD)/tests
	$(CC) $(CFLAGS) -Ictl/bwctld -o $@ $< $(LIBBWCTLD) $(LIBBWE) $(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(LIBBWE) | $(SKELS) $(BUILD)/tools
	$(CC) $(CFLAGS) -o $@ $< $(LIBBWE) $(LDLIBS)

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
	echo "=== redocly lint $(OPENAPI)"; $(MAKE) -s lint-openapi; o=$$?; \
	scripts/run-tests.sh $(TEST_BINS) -- $(TEST_SH); r=$$?; \
	[ $$f -eq 0 ] || echo "make test: FAILED: scripts/format-check.sh"; \
	[ $$l -eq 0 ] || echo "make test: FAILED: scripts/check-layers.sh"; \
	[ $$o -eq 0 ] || echo "make test: FAILED: redocly lint $(OPENAPI)"; \
	[ $$f -eq 0 ] && [ $$l -eq 0 ] && [ $$o -eq 0 ] && [ $$r -eq 0 ]

# The HTTP API's description, linted by the Redocly CLI that
# scripts/setup-deps.sh installs (pinned) in its own prefix.
OPENAPI ?= docs/api/openapi.yaml
REDOCLY ?= /opt/bwenforce-tools/node_modules/.bin/redocly
.PHONY: lint-openapi
lint-openapi:
	@[ -x $(REDOCLY) ] || { echo "$(REDOCLY) missing: run scripts/setup-deps.sh" >&2; exit 1; }
	$(REDOCLY) lint --format=stylish --max-problems=50 $(OPENAPI)

# The README's first command: the main job on a built-in gateway testbed.
demo: all
	scripts/demo.sh

clean:
	rm -rf $(BUILD)

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
FUZZ_SRCS_proto := lib/proto.c lib/addr.c lib/units.c
FUZZ_SRCS_wire  := lib/wire.c lib/addr.c lib/units.c

$(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_FEED_TARGETS)): $(BUILD)/fuzz/fuzz_%: fuzz/fuzz_feed.c fuzz/fuzz_check.h $(FUZZ_SRCS) $(wildcard lib/feed*.h) lib/addr.h lib/units.h | deps-check
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -DFUZZ_TARGET=$* -o $@ fuzz/fuzz_feed.c $(FUZZ_SRCS) $(FUZZ_LIBS)

.SECONDEXPANSION:
$(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_UNIT_TARGETS)): $(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_check.h $$(FUZZ_SRCS_$$*) $(wildcard lib/*.h) | deps-check
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS)

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

$(BENCH_DIR)/live_frames: bench/live_frames.c bench/bench_common.c $(LIBBWE) | $(BENCH_DIR)/live_gen.skel.h $(BENCH_DIR)/prog_cost.skel.h $(SKELS)
	$(CC) $(CFLAGS) -Ibench -I$(BENCH_DIR) -o $@ $(filter %.c,$^) $(LIBBWE) $(LDLIBS)

$(BENCH_DIR)/hosts_fill: bench/hosts_fill.c lib/bwe_abi.h | $(BENCH_DIR)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

# Measures and writes docs/benchmarks.md (bench/run.sh); BENCH_ARGS=--quick for a smoke run.
bench: all $(BENCH_DIR)/map_scale $(BENCH_DIR)/prog_cost $(BENCH_DIR)/live_frames $(BENCH_DIR)/hosts_fill
	bench/run.sh $(BENCH_ARGS)

-include $(wildcard $(BUILD)/*.d $(BUILD)/lib/*.d $(BUILD)/ctl/*/*.d $(BUILD)/tests/*.d $(BUILD)/tools/*.d $(BENCH_DIR)/*.d)
