/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bwe_util.h - the few helper macros every user-space file of the project
 * shares (lib/, ctl/, tests/, bench/). BPF code does not include this.
 */
#ifndef BWE_UTIL_H
#define BWE_UTIL_H

/* Elements of an array (not a pointer). */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif

#endif /* BWE_UTIL_H */
