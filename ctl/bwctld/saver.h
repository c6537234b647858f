/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * saver.h - whole files written off the event loop (layer 2: an effect).
 * A copy that matters only at the next start, a feed's last good version
 * (tens of MiB for a million-line feed), went through write_file_atomic()
 * on the loop: write, fsync(), rename(), fsync() of the directory, 13 to
 * 73 ms on the test VM after each change of such a feed, while the ring
 * buffer, the control socket and the HTTP listener waited
 * (docs/benchmarks.md, "A feed delta's merge"). saver_put() copies the
 * bytes and queues them for one writer thread, which makes the directory
 * and writes the file the same way (util.h): readers see the old file or
 * the new one, never a part. One thread writes every file, so two writes
 * of one path never overlap. A newer body for a path whose write has not
 * started replaces the queued one (only the latest is worth writing). A
 * failed write is logged by the thread and counted. The queue holds at
 * most max_bytes (SAVER_MAX_BYTES for the daemon): a body that would pass
 * it waits, in saver_put(), until the thread has written enough, as the
 * write itself once held the loop (one body larger than max_bytes is taken
 * into an empty queue). saver_free() writes what is queued before it
 * returns, so a clean stop loses nothing. Called from one thread only.
 * Functions return 0 or -errno.
 */
#ifndef BWCTLD_SAVER_H
#define BWCTLD_SAVER_H

#include <stddef.h>

#define SAVER_MAX_BYTES ((size_t)256 << 20) /* queued bytes; past it saver_put() waits */

struct saver;

int saver_new(struct saver **out, size_t max_bytes);
/*
 * Queue len bytes of data (copied) for path, mode as write_file_atomic()'s:
 * 0, or -ENOMEM when no copy could be made (nothing queued; a body queued
 * before for path stays queued).
 */
int saver_put(struct saver *s, const char *path, const void *data, size_t len, unsigned int mode);
/* Wait until every write queued so far is done. */
void saver_flush(struct saver *s);
/* Files written and writes that failed since saver_new() (either may be NULL). */
void saver_counts(struct saver *s, unsigned long *written, unsigned long *failed);
/* Flush, stop the thread, free. NULL-safe. */
void saver_free(struct saver *s);

#endif /* BWCTLD_SAVER_H */
