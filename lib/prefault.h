/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * prefault.h - fault in a large buffer that is about to be written whole
 * (a feed body read from disk, a new version's entry vector) in one call,
 * MADV_POPULATE_WRITE (Linux 5.14), rather than one page fault per 4 KiB
 * page as it is written: about a fifth of the time a 28 MiB vector costs
 * (docs/benchmarks.md, "A feed delta's merge"). Advice only: on an older
 * kernel (EINVAL), or with no memory to spare now, the pages are faulted
 * in as they are written, as without it. Buffers under BWE_PREFAULT_MIN
 * are left alone.
 */
#ifndef BWE_PREFAULT_H
#define BWE_PREFAULT_H

#include <stddef.h>

#define BWE_PREFAULT_MIN ((size_t)1 << 20)

/*
 * p: a buffer of len writable bytes (malloc'ed). Its first and last pages
 * may be shared with other memory; they are faulted in too, contents
 * untouched. Every page is resident after it, written or not: give back
 * what stays unused (realloc()).
 */
void bwe_prefault(void *p, size_t len);

#endif /* BWE_PREFAULT_H */
