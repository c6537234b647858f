/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cfg_helpers.h - load one feed entry of a configuration in a cmocka test
 * (test_crowdsec, test_taxii): the feed's keys and their refusals.
 */
#ifndef BWE_CFG_HELPERS_H
#define BWE_CFG_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define CFG_FEED_HEAD "interfaces:\n  - name: lan0\nfeeds:\n  - "

/*
 * Load a configuration whose one feed is "{ feed }". want_err NULL: it must
 * load, and the configuration is returned (the caller frees it); else the
 * load must fail with an error containing want_err, and NULL is returned.
 */
static inline struct bwe_cfgfile *load_feed(const char *feed, const char *want_err)
{
	char path[] = "/tmp/bwe-test-feed-XXXXXX", err[512] = "";
	struct bwe_cfgfile *cfg = NULL;
	int fd = mkstemp(path), ret;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, CFG_FEED_HEAD "{ %s }\n", feed);
	fclose(f);
	ret = bwe_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	if (!want_err) {
		if (ret)
			fail_msg("\"%s\": %s", feed, err);
		return cfg;
	}
	if (!ret || !strstr(err, want_err))
		fail_msg("\"%s\": %d \"%s\", expected \"%s\"", feed, ret, err, want_err);
	bwe_config_free(cfg);
	return NULL;
}

#endif /* BWE_CFG_HELPERS_H */
