// SPDX-License-Identifier: GPL-2.0-only
/* caps.c - the effective capability set; contract in caps.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "caps.h"

static int effective(__u32 eff[_LINUX_CAPABILITY_U32S_3])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	int i;

	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		eff[i] = d[i].effective;
	return 0;
}

int caps_missing(const struct caps_need *need, size_t n, char *buf, size_t len)
{
	__u32 eff[_LINUX_CAPABILITY_U32S_3];
	size_t i, off = 0;
	int err = effective(eff), missing = 0;

	if (len)
		buf[0] = '\0';
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		const struct caps_need *c = &need[i];

		if (c->when && !*c->when)
			continue;
		if (eff[CAP_TO_INDEX(c->cap)] & CAP_TO_MASK(c->cap))
			continue;
		missing++;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s (%s)", off ? "; " : "",
						c->name, c->why);
	}
	return missing;
}
