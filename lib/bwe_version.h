/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bwe_version.h - the release version of bwenforce, in one place: bwctld
 * (BWCTLD_VERSION), bwctl (BWCTL_VERSION), the Makefile (VERSION, make deb)
 * and debian/changelog all take it from here; tests/e2e_package.sh checks
 * that debian/changelog agrees. Bump it together with a debian/changelog
 * entry (dch -v X.Y.Z).
 */
#ifndef BWE_VERSION_H
#define BWE_VERSION_H

#define BWE_VERSION "0.1.0"

#endif /* BWE_VERSION_H */
