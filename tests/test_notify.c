// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_notify.c - ctl/bwctld/notify.c (sd_notify(3) for Type=notify) against
 * a NOTIFY_SOCKET the test owns, and ctl/bwctld/caps.c against a process
 * whose effective set the test narrows. No kernel BPF, no network.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "caps.h"
#include "notify.h"

struct rx {
	char dir[64];
	char path[96];
	int fd;
};

static int rx_setup(void **state)
{
	struct rx *r = calloc(1, sizeof(*r));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_non_null(r);
	snprintf(r->dir, sizeof(r->dir), "/tmp/bwe-notify.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->path, sizeof(r->path), "%s/notify", r->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->path);
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", r->path, 1);
	*state = r;
	return 0;
}

static int rx_teardown(void **state)
{
	struct rx *r = *state;

	unsetenv("NOTIFY_SOCKET");
	close(r->fd);
	unlink(r->path);
	rmdir(r->dir);
	free(r);
	return 0;
}

/* The next datagram, or "" when none is waiting. */
static const char *next_msg(struct rx *r)
{
	static char buf[1024];
	ssize_t n = recv(r->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_each_message(void **state)
{
	struct rx *r = *state;
	unsigned long long us;
	int used = 0;

	assert_true(notify_enabled());
	assert_int_equal(notify_ready("enforcing: 2/2 interfaces attached"), 0);
	assert_string_equal(next_msg(r), "READY=1\nSTATUS=enforcing: 2/2 interfaces attached");
	assert_int_equal(notify_ready(NULL), 0);
	assert_string_equal(next_msg(r), "READY=1");
	assert_int_equal(notify_reloading(), 0);
	assert_int_equal(sscanf(next_msg(r), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading%n",
				&us, &used),
			 1);
	assert_true(used > 0 && us > 0);
	assert_int_equal(notify_stopping(), 0);
	assert_string_equal(next_msg(r), "STOPPING=1\nSTATUS=stopping");
	assert_int_equal(notify_watchdog(), 0);
	assert_string_equal(next_msg(r), "WATCHDOG=1");
	assert_string_equal(next_msg(r), "");
}

/* A STATUS= line longer than NOTIFY_STATUS_MAX is cut, never overflows. */
static void test_long_status_is_cut(void **state)
{
	struct rx *r = *state;
	char big[NOTIFY_STATUS_MAX * 2];
	const char *m;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(notify_status(big), 0);
	m = next_msg(r);
	assert_int_equal(strncmp(m, "STATUS=", 7), 0);
	assert_int_equal(strlen(m + 7), NOTIFY_STATUS_MAX - 1);
}

/* Without NOTIFY_SOCKET nothing is sent and nothing fails. */
static void test_without_socket(void **state)
{
	struct rx *r = *state;

	unsetenv("NOTIFY_SOCKET");
	assert_false(notify_enabled());
	assert_int_equal(notify_ready("x"), 0);
	assert_int_equal(notify_watchdog(), 0);
	assert_string_equal(next_msg(r), "");
	setenv("NOTIFY_SOCKET", r->path, 1);
}

static void test_watchdog_period(void **state)
{
	char pid[32];
	__u64 us = 1;

	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(notify_watchdog_period(&us), 0);
	assert_int_equal(us, 0); /* no watchdog wanted */
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(notify_watchdog_period(&us), 0);
	assert_int_equal(us, 15000000); /* half: a keep-alive every 15 s */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_period(&us), 0);
	assert_int_equal(us, 15000000);
	setenv("WATCHDOG_PID", "1", 1); /* for another process */
	assert_int_equal(notify_watchdog_period(&us), 0);
	assert_int_equal(us, 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "soon", 1);
	assert_true(notify_watchdog_period(&us) < 0);
	assert_int_equal(us, 0);
	unsetenv("WATCHDOG_USEC");
}

/* ---- caps.c ------------------------------------------------------------------ */

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/* In a child: CAP_NET_ADMIN leaves the effective set; caps_missing names it. */
static void test_caps_missing(void **state)
{
	static bool no = false, yes = true;
	const struct caps_need need[] = {
		{ .cap = CAP_SYS_ADMIN, .name = "CAP_SYS_ADMIN", .why = "a" },
		{ .cap = CAP_NET_ADMIN, .name = "CAP_NET_ADMIN", .why = "attach" },
		{ .cap = CAP_NET_ADMIN, .name = "CAP_NET_ADMIN", .why = "unless", .when = &no },
		{ .cap = CAP_CHOWN, .name = "CAP_CHOWN", .why = "chown", .when = &yes },
	};
	char buf[256];
	pid_t pid;
	int st;

	(void)state;
	if (!has_cap(CAP_SYS_ADMIN) || !has_cap(CAP_NET_ADMIN) || !has_cap(CAP_CHOWN))
		skip();
	assert_int_equal(caps_missing(need, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

		syscall(SYS_capget, &h, d);
		d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
		d[CAP_TO_INDEX(CAP_CHOWN)].effective &= ~CAP_TO_MASK(CAP_CHOWN);
		if (syscall(SYS_capset, &h, d))
			_exit(2);
		if (caps_missing(need, 4, buf, sizeof(buf)) != 2)
			_exit(3);
		if (strcmp(buf, "CAP_NET_ADMIN (attach); CAP_CHOWN (chown)"))
			_exit(4);
		/* a short buffer is cut, still a string */
		if (caps_missing(need, 4, buf, 8) != 2 || strlen(buf) != 7)
			_exit(5);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_message, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(test_long_status_is_cut, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(test_without_socket, rx_setup, rx_teardown),
		cmocka_unit_test(test_watchdog_period),
		cmocka_unit_test(test_caps_missing),
	};

	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
