// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * units.c - duration, size and rate parsers; grammar and contract in units.h.
 *
 * Each parser first scans the whole string against its grammar and only then
 * judges the value, so malformed text is -EINVAL even when its digits would
 * also overflow, and well-formed text out of limits is -ERANGE.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bwe_util.h"
#include "units.h"

#define DECIMAL_BASE 10ULL
#define KILO	     1000ULL
#define KIBI	     1024ULL

struct unit {
	const char *name;
	__u64 mult;
};

/* Largest first: bwe_duration_fmt() takes the first unit that divides. */
static const struct unit duration_units[] = {
	{ "d", BWE_SECS_PER_DAY },
	{ "h", BWE_SECS_PER_HOUR },
	{ "m", BWE_SECS_PER_MIN },
	{ "s", 1 },
};

/* Binary size multipliers, by letter (either case). */
static const struct unit size_units[] = {
	{ "k", KIBI },
	{ "m", KIBI *KIBI },
	{ "g", KIBI *KIBI *KIBI },
	{ "t", KIBI *KIBI *KIBI *KIBI },
};

/*
 * Decimal rate multipliers, by letter (either case), smallest first;
 * bwe_rate_fmt() walks them from the end.
 */
static const struct dec_unit {
	char letter; /* '\0': none */
	__u64 mult;
	unsigned int exp10;   /* mult == 10^exp10: max fraction digits */
	const char *bit_name; /* unit printed by bwe_rate_fmt() */
} rate_mults[] = {
	{ '\0', 1, 0, "bit" },
	{ 'k', KILO, 3, "kbit" },
	{ 'm', KILO *KILO, 6, "mbit" },
	{ 'g', KILO *KILO *KILO, 9, "gbit" },
};

/*
 * Scan decimal digits at *sp. Returns -EINVAL when there is none; sets
 * *overflow (and keeps scanning) when the value exceeds 64 bits.
 */
static int digits_scan(const char **sp, __u64 *out, unsigned int *ndigits, bool *overflow)
{
	const char *s = *sp;
	__u64 v = 0;

	while (*s >= '0' && *s <= '9') {
		if (__builtin_mul_overflow(v, DECIMAL_BASE, &v) ||
		    __builtin_add_overflow(v, (__u64)(*s - '0'), &v))
			*overflow = true;
		s++;
	}
	if (s == *sp)
		return -EINVAL;
	if (ndigits)
		*ndigits = (unsigned int)(s - *sp);
	*sp = s;
	*out = v;
	return 0;
}

/* snprintf() into buf, -ENOSPC (and an empty buf) when it does not fit. */
__attribute__((format(printf, 3, 4))) int bwe_fmt_into(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len) {
		if (len)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

/* ---- durations ----------------------------------------------------------- */

int bwe_duration_parse(const char *s, __u64 *secs)
{
	bool overflow = false;
	__u64 v, mult = 1;
	int err;

	if (!s)
		return -EINVAL;
	err = digits_scan(&s, &v, NULL, &overflow);
	if (err)
		return err;
	if (*s) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(duration_units); i++)
			if (strcmp(s, duration_units[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(duration_units))
			return -EINVAL;
		mult = duration_units[i].mult;
	}
	if (overflow || __builtin_mul_overflow(v, mult, &v))
		return -ERANGE;
	if (v == 0)
		return -EINVAL;
	if (v > BWE_DURATION_MAX_S)
		return -ERANGE;
	*secs = v;
	return 0;
}

int bwe_duration_fmt(__u64 secs, char *buf, size_t len)
{
	const struct unit *u = &duration_units[ARRAY_SIZE(duration_units) - 1];

	for (size_t i = 0; secs && i < ARRAY_SIZE(duration_units); i++) {
		if (secs % duration_units[i].mult == 0) {
			u = &duration_units[i];
			break;
		}
	}
	return bwe_fmt_into(buf, len, "%llu%s", (unsigned long long)(secs / u->mult), u->name);
}

/* ---- sizes --------------------------------------------------------------- */

int bwe_size_parse(const char *s, __u64 *bytes)
{
	bool overflow = false;
	__u64 v, mult = 1;
	int err;

	if (!s)
		return -EINVAL;
	err = digits_scan(&s, &v, NULL, &overflow);
	if (err)
		return err;
	for (size_t i = 0; *s && i < ARRAY_SIZE(size_units); i++) {
		if (tolower((unsigned char)*s) == size_units[i].name[0]) {
			mult = size_units[i].mult;
			s++;
			if (*s == 'i')
				s++;
			break;
		}
	}
	if (*s == 'B')
		s++;
	if (*s)
		return -EINVAL;
	if (overflow || __builtin_mul_overflow(v, mult, &v))
		return -ERANGE;
	*bytes = v;
	return 0;
}

/* ---- rates --------------------------------------------------------------- */

/* Multiplier letter at *sp (either case), or the unit multiplier. */
static const struct dec_unit *rate_mult_scan(const char **sp)
{
	int c = tolower((unsigned char)**sp);

	for (size_t i = 1; i < ARRAY_SIZE(rate_mults); i++) {
		if (c == rate_mults[i].letter) {
			(*sp)++;
			return &rate_mults[i];
		}
	}
	return &rate_mults[0];
}

int bwe_rate_parse(const char *s, __u64 *bytes_per_sec)
{
	const struct dec_unit *m = &rate_mults[0];
	unsigned int fdigits = 0;
	bool overflow = false, in_bits = true;
	__u64 ip, frac = 0, scale, v;
	int err;

	if (!s)
		return -EINVAL;
	err = digits_scan(&s, &ip, NULL, &overflow);
	if (err)
		return err;
	if (*s == '.') {
		s++;
		err = digits_scan(&s, &frac, &fdigits, &overflow);
		if (err)
			return err;
	}
	if (*s) {
		m = rate_mult_scan(&s);
		if (strcmp(s, "bit") == 0)
			in_bits = true;
		else if (strcmp(s, "B/s") == 0 || strcmp(s, "Bps") == 0)
			in_bits = false;
		else
			return -EINVAL;
	}
	if (fdigits > m->exp10)
		return -EINVAL; /* finer than one bit or byte */

	/* v = (ip + frac / 10^fdigits) * mult, exact because fdigits <= exp10 */
	scale = m->mult;
	for (unsigned int i = 0; i < fdigits; i++)
		scale /= DECIMAL_BASE;
	if (overflow || __builtin_mul_overflow(ip, m->mult, &v) ||
	    __builtin_add_overflow(v, frac * scale, &v))
		return -ERANGE;
	if (in_bits)
		v /= BWE_BITS_PER_BYTE;
	if (v < BWE_RATE_MIN_BPS || v > BWE_RATE_MAX_BPS)
		return -ERANGE;
	*bytes_per_sec = v;
	return 0;
}

int bwe_rate_fmt(__u64 bytes_per_sec, char *buf, size_t len)
{
	const struct dec_unit *m = &rate_mults[ARRAY_SIZE(rate_mults) - 1];
	char frac[BWE_RATE_STRLEN] = "";
	__u64 bits, rem;

	if (__builtin_mul_overflow(bytes_per_sec, BWE_BITS_PER_BYTE, &bits))
		return -ERANGE;
	/* the largest unit not above the value; "bit" for 0 */
	while (m > rate_mults && bits < m->mult)
		m--;
	rem = bits % m->mult;
	if (rem) {
		size_t n;

		/* exact fraction, zero padded to the unit, trailing zeros cut */
		snprintf(frac, sizeof(frac), ".%0*llu", (int)m->exp10, (unsigned long long)rem);
		n = strlen(frac);
		while (frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	return bwe_fmt_into(buf, len, "%llu%s%s", (unsigned long long)(bits / m->mult), frac,
			    m->bit_name);
}
