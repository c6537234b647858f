// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_dataplane.c - lib/dataplane.c with pinned maps: every map of
 * BWE_PINNED_MAPS is pinned, stamped with BWE_ABI_VERSION, reused by the
 * next open and removed by bwe_dp_unpin(); pins of another ABI version are
 * refused with -EPROTO and a message naming both versions and the remedy.
 *
 * Needs root (BPF). The pins live on a private bpffs mounted in a private
 * mount namespace of this process, so nothing is visible to, or collides
 * with, a daemon or another test on the machine.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cmocka.h>

#include "bwe_util.h"
#include "dataplane.h"

#define OTHER_ABI (BWE_ABI_VERSION + 1) /* a version this build does not speak */

static char bpffs[] = "/tmp/bwe-test-bpffs.XXXXXX";

#define PIN_NAME(field, pin) pin,
static const char *const pins[] = { BWE_PINNED_MAPS(PIN_NAME) };

static int setup(void **state)
{
	(void)state;
	libbpf_set_print(NULL);
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "private mount namespace: %s (are you root?)\n", strerror(errno));
		return -1;
	}
	if (!mkdtemp(bpffs) || mount("bpf", bpffs, "bpf", 0, NULL)) {
		fprintf(stderr, "bpffs at %s: %s\n", bpffs, strerror(errno));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	umount2(bpffs, MNT_DETACH);
	rmdir(bpffs);
	return 0;
}

/* A fresh pin directory for one test. */
static const char *pin_dir(const char *name)
{
	static char dir[PATH_MAX];

	assert_true(snprintf(dir, sizeof(dir), "%s/%s", bpffs, name) < (int)sizeof(dir));
	assert_int_equal(mkdir(dir, 0700), 0);
	return dir;
}

static const char *pin_path(const char *dir, const char *name)
{
	static char path[PATH_MAX];

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
	return path;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Create a pinned set of this build's maps, the way a daemon leaves them. */
static void make_pins(const char *dir)
{
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_dp *dp;

	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	bwe_dp_close(dp);
}

/* The stamp under dir, read as another version would read it. */
static __u32 stamp_of(const char *dir)
{
	struct bwe_abi_stamp s = { 0 };
	__u32 zero = 0;
	int fd = bpf_obj_get(pin_path(dir, BWE_MAP_ABI));

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &s), 0);
	close(fd);
	return s.version;
}

/* Replace the stamp pin with one of the given shape and version. */
static void pin_stamp(const char *dir, __u32 value_size, __u32 version)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_RDONLY_PROG);
	__u8 val[16] = { 0 };
	__u32 zero = 0;
	int fd;

	assert_true(value_size <= sizeof(val) && value_size >= sizeof(version));
	memcpy(val, &version, sizeof(version));
	unlink(pin_path(dir, BWE_MAP_ABI));
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, BWE_MAP_ABI, sizeof(zero), value_size, 1, &o);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_elem(fd, &zero, val, BPF_ANY), 0);
	assert_int_equal(bpf_obj_pin(fd, pin_path(dir, BWE_MAP_ABI)), 0);
	close(fd);
}

/* Every listed map is pinned and stamped; the next open reuses them; unpin removes all. */
static void test_pin_reuse_unpin(void **state)
{
	const char *dir = pin_dir("reuse");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_abi_stamp s = { .version = OTHER_ABI };
	struct bwe_dp *dp;
	char msg[BWE_DP_MSG_MAX] = "";
	__u32 zero = 0;
	size_t i;

	(void)state;
	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), 0); /* nothing pinned */
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_false(dp->reused);
	for (i = 0; i < ARRAY_SIZE(pins); i++)
		if (access(pin_path(dir, pins[i]), F_OK))
			fail_msg("%s not pinned", pins[i]);
	assert_int_equal(count_entries(dir), ARRAY_SIZE(pins));
	assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
	/* the stamp is frozen: not even its creator rewrites it */
	assert_int_not_equal(bpf_map_update_elem(bwe_dp_map_fd(dp, BWE_MAP_ABI), &zero, &s,
						 BPF_ANY),
			     0);
	assert_int_equal(errno, EPERM);
	bwe_dp_close(dp);

	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), 0);
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_true(dp->reused);
	assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
	bwe_dp_close(dp);

	assert_int_equal(bwe_dp_unpin(dir), 0);
	assert_int_equal(count_entries(dir), 0);
}

/* Pins of another ABI version: refused before any is reused, and left as they are. */
static void test_other_abi_refused(void **state)
{
	const char *dir = pin_dir("other");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_dp *dp = NULL;
	char msg[BWE_DP_MSG_MAX] = "", want[64];

	(void)state;
	make_pins(dir);
	pin_stamp(dir, sizeof(struct bwe_abi_stamp), OTHER_ABI);

	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), -EPROTO);
	print_message("refusal: %s\n", msg);
	snprintf(want, sizeof(want), "ABI version %u", OTHER_ABI);
	assert_non_null(strstr(msg, want));
	snprintf(want, sizeof(want), "speaks version %u", BWE_ABI_VERSION);
	assert_non_null(strstr(msg, want));
	assert_non_null(strstr(msg, "bwctl detach"));
	assert_non_null(strstr(msg, "remove"));
	assert_non_null(strstr(msg, dir));

	assert_int_equal(bwe_dp_open(&dp, &opts), -EPROTO);
	assert_null(dp);
	/* nothing touched: the other version's daemon can still detach them */
	assert_int_equal(stamp_of(dir), OTHER_ABI);
	assert_int_equal(count_entries(dir), ARRAY_SIZE(pins));

	/* the remedy works */
	assert_int_equal(bwe_dp_unpin(dir), 0);
	assert_int_equal(bwe_dp_open(&dp, &opts), 0);
	assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
	bwe_dp_close(dp);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

/* A stamp pin that is not a stamp map is refused too, not read past its end. */
static void test_bad_stamp_refused(void **state)
{
	const char *dir = pin_dir("bad");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	struct bwe_dp *dp = NULL;
	char msg[BWE_DP_MSG_MAX] = "";

	(void)state;
	make_pins(dir);
	pin_stamp(dir, 2 * sizeof(struct bwe_abi_stamp), BWE_ABI_VERSION);
	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), -EPROTO);
	assert_non_null(strstr(msg, "is not an ABI stamp"));
	assert_int_equal(bwe_dp_open(&dp, &opts), -EPROTO);
	assert_null(dp);
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

/* Pins from before the stamp existed are of BWE_ABI_VERSION_UNSTAMPED. */
static void test_unstamped_pins(void **state)
{
	const char *dir = pin_dir("unstamped");
	struct bwe_dp_opts opts = { .pin_dir = dir };
	int want = BWE_ABI_VERSION_UNSTAMPED == BWE_ABI_VERSION ? 0 : -EPROTO;
	struct bwe_dp *dp = NULL;
	char msg[BWE_DP_MSG_MAX] = "";

	(void)state;
	make_pins(dir);
	assert_int_equal(unlink(pin_path(dir, BWE_MAP_ABI)), 0);
	assert_int_equal(bwe_dp_abi_check(dir, msg, sizeof(msg)), want);
	assert_int_equal(bwe_dp_open(&dp, &opts), want);
	if (!want) {
		/* adopted, and stamped from now on */
		assert_true(dp->reused);
		assert_int_equal(stamp_of(dir), BWE_ABI_VERSION);
		bwe_dp_close(dp);
	}
	assert_int_equal(bwe_dp_unpin(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_reuse_unpin),
		cmocka_unit_test(test_other_abi_refused),
		cmocka_unit_test(test_bad_stamp_refused),
		cmocka_unit_test(test_unstamped_pins),
	};

	return cmocka_run_group_tests_name("dataplane pins and ABI stamp", tests, setup, teardown);
}
