// SPDX-License-Identifier: GPL-2.0-only
/* util.c - layer 0 helpers; contract in util.h. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "prefault.h"
#include "util.h"

void fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void json_add_time(struct json_object *o, const char *key, time_t t)
{
	char buf[BWE_TIME_STRLEN];

	if (!t) {
		json_object_object_add(o, key, NULL);
		return;
	}
	fmt_time(t, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

int mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_p(dir);
}

static void fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int write_file_atomic(const char *path, const void *data, size_t len, unsigned int mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	size_t off = 0;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	fsync_dir_of(path);
	return 0;
}

int read_file(const char *path, __u64 max, unsigned int flags, char **out, size_t *len)
{
	int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	struct stat stb;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, err;

	if (!(flags & READ_FOLLOW))
		oflags |= O_NOFOLLOW;
	fd = open(path, oflags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &stb)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(stb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((__u64)stb.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)stb.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	bwe_prefault(buf, (size_t)stb.st_size + 1);
	while (got < (size_t)stb.st_size) {
		n = read(fd, buf + got, (size_t)stb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* The address of one getifaddrs() entry; false for other families. */
static bool ifa_addr_of(const struct ifaddrs *p, struct bwe_addr *x, bool *linklocal)
{
	*linklocal = false;
	if (!p->ifa_addr)
		return false;
	if (p->ifa_addr->sa_family == AF_INET) {
		bwe_addr_from_v4(((const struct sockaddr_in *)(const void *)p->ifa_addr)
					 ->sin_addr.s_addr,
				 x);
		return true;
	}
	if (p->ifa_addr->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)(const void *)p->ifa_addr)->sin6_addr;

		*linklocal = IN6_IS_ADDR_LINKLOCAL(a6);
		memcpy(x->a, a6, sizeof(x->a));
		return true;
	}
	return false;
}

/* Every address of this machine; all: loopback and IPv6 link-local too. */
static int each_addr(bool all, int (*fn)(const struct bwe_addr *a, void *ctx), void *ctx)
{
	struct ifaddrs *ifa, *p;
	int err = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (p = ifa; p && !err; p = p->ifa_next) {
		struct bwe_addr x;
		bool ll;

		if (!ifa_addr_of(p, &x, &ll) || (!all && ((p->ifa_flags & IFF_LOOPBACK) || ll)))
			continue;
		err = fn(&x, ctx);
	}
	freeifaddrs(ifa);
	return err;
}

int for_each_gateway_addr(int (*fn)(const struct bwe_addr *a, void *ctx), void *ctx)
{
	return each_addr(false, fn, ctx);
}

/* 1 (stop) when a is the address looked for. */
static int same_addr(const struct bwe_addr *a, void *ctx)
{
	return !memcmp(a, ctx, sizeof(*a));
}

bool is_gateway_addr(const struct bwe_addr *a)
{
	struct bwe_addr want = *a;

	return each_addr(true, same_addr, &want) == 1;
}
