/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * units.h - strict parsers for durations, sizes and rates, shared by the
 * daemon's config loader, the command line and the tests.
 *
 * Contract: the whole string must match the grammar below, with no white
 * space, sign, or trailing junk. Numbers are decimal (leading zeros mean
 * nothing: "010s" is ten seconds). Every function returns 0 or -errno:
 *   -EINVAL  empty, NULL or malformed text (syntax is judged first);
 *   -ERANGE  well formed but the value overflows or is outside the limits;
 *   -ENOSPC  (formatters) the buffer is too small; it then holds "".
 * On error the output is left untouched.
 *
 * Duration (seconds):
 *   duration := digits [ "s" | "m" | "h" | "d" ]    lower case only; bare = s
 *   1 .. BWE_DURATION_MAX_S; "0" is -EINVAL. No compound forms ("1h30m"),
 *   no "w"/"y"; "15M" is refused so it is never read as months.
 *
 * Size (bytes, binary multiples):
 *   size := digits [ mult [ "i" ] ] [ "B" ]
 *   mult := "k" | "K" (2^10) | "m" | "M" (2^20) | "g" | "G" (2^30) | "t" | "T" (2^40)
 *   So "1500", "1500B", "64k", "64K", "64KB", "64KiB" (= 65536), "1M", "1G".
 *   Whole numbers only ("1.5M" is refused), lower-case "b" is refused
 *   (bits are not a size), 0 is accepted (callers enforce their minimum).
 *
 * Rate (stored as bytes per second; decimal multiples, as tc(8)):
 *   rate   := number [ [ dmult ] "bit" ]            bits per second
 *           | number [ dmult ] ( "B/s" | "Bps" )    bytes per second
 *   number := digits [ "." digits ]
 *   dmult  := "k" | "K" (10^3) | "m" | "M" (10^6) | "g" | "G" (10^9)
 *   "10mbit" = 1250000, "500kbit", "1gbit", "800bit" = 100, a bare "8000"
 *   is bits per second (like tc), "2MB/s" = "2MBps" = 2000000, "100kB/s".
 *   A fraction may not be finer than one unit ("1.5mbit" yes, "1.5bit" or
 *   "1.0000001mbit" no: -EINVAL). Bits are converted to whole bytes by
 *   rounding down ("12bit" = 1 B/s). The lower-case "bps" family ("8bps",
 *   "10mbps") is refused as ambiguous: tc reads it as bytes, people as bits.
 *   Result BWE_RATE_MIN_BPS .. BWE_RATE_MAX_BPS, else -ERANGE (so "0" and
 *   "7bit" are -ERANGE).
 *
 * Formatters print the forms the parsers read back to the same value:
 *   bwe_duration_fmt: the largest unit that divides exactly ("90s", "15m",
 *   "2h", "7d"; 0 prints "0s").
 *   bwe_rate_fmt: bits per second in the largest of bit/kbit/mbit/gbit not
 *   above the value, with an exact decimal fraction ("10mbit", "1.5mbit",
 *   "98.76kbit", "0bit"); -ERANGE when bytes * 8 overflows 64 bits.
 */
#ifndef BWE_UNITS_H
#define BWE_UNITS_H

#include <stddef.h>
#include <linux/types.h>

#define BWE_SECS_PER_MIN   60ULL
#define BWE_SECS_PER_HOUR  (60 * BWE_SECS_PER_MIN)
#define BWE_SECS_PER_DAY   (24 * BWE_SECS_PER_HOUR)
#define BWE_DURATION_MAX_S (365 * BWE_SECS_PER_DAY) /* one year */

#define BWE_BITS_PER_BYTE 8ULL
#define BWE_RATE_MIN_BPS  1ULL					/* bytes/s */
#define BWE_RATE_MAX_BPS  (100000000000ULL / BWE_BITS_PER_BYTE) /* 100 Gbit/s in bytes/s */

#define BWE_DURATION_STRLEN 24 /* "18446744073709551615s" and NUL */
#define BWE_RATE_STRLEN	    32 /* "18446744073.709551608gbit" and NUL */

/* snprintf() into buf: 0, or -ENOSPC (buf then holds "") when it does not fit. */
int bwe_fmt_into(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int bwe_duration_parse(const char *s, __u64 *secs);
int bwe_duration_fmt(__u64 secs, char *buf, size_t len);
int bwe_size_parse(const char *s, __u64 *bytes);
int bwe_rate_parse(const char *s, __u64 *bytes_per_sec);
int bwe_rate_fmt(__u64 bytes_per_sec, char *buf, size_t len);

#endif /* BWE_UNITS_H */
