// SPDX-License-Identifier: GPL-2.0-only
/* bench_common.c - see bench_common.h. */
#include <stdio.h>
#include <time.h>

#include "bench_common.h"

bool verbose;

const struct bench_net_len net_lens[NET_LENS] = {
	{ 16, 8 }, { 17, 1 },  { 18, 2 },  { 19, 4 },  { 20, 5 },
	{ 21, 7 }, { 22, 35 }, { 23, 11 }, { 24, 27 },
};

const char *errstr(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
