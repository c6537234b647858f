// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* prefault.c - fault in a large buffer in one call; contract in prefault.h. */
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

#include "prefault.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older headers lack it */
#endif

void bwe_prefault(void *p, size_t len)
{
	static uintptr_t page;
	uintptr_t start;

	if (!p || len < BWE_PREFAULT_MIN)
		return;
	if (!page) {
		long ps = sysconf(_SC_PAGESIZE);

		page = ps > 0 ? (uintptr_t)ps : 4096;
	}
	/* whole pages: the first and last may be shared with malloc's header or a
	 * neighbour, mapped already; populating never changes what they hold */
	start = (uintptr_t)p & ~(page - 1);
	(void)madvise((void *)start, (uintptr_t)p + len - start, MADV_POPULATE_WRITE);
}
