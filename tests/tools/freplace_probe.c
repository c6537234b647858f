// SPDX-License-Identifier: GPL-2.0-only
/*
 * freplace_probe.c - can this kernel load and attach an extension program
 * (BPF_PROG_TYPE_EXT, "freplace")? libxdp's multi-program dispatcher needs
 * it; where the kernel refuses, libxdp attaches one program alone and no
 * second XDP program can run beside the enforcer. Tests that need the
 * dispatcher ask this first and skip themselves with the reason printed.
 *
 *   freplace_probe OBJ PROG     OBJ: an XDP object with BTF (clang -g),
 *                               PROG: one of its XDP functions
 *
 * It loads PROG as an XDP program, loads a second copy of it as an EXT
 * program replacing that function, and attaches it: the steps libxdp takes.
 * Nothing is attached to any interface. Prints one line:
 *   "freplace supported", exit 0;
 *   "freplace unsupported: <step>: <error>", exit 1 (EXT refused by the
 *   kernel, e.g. EPERM);
 *   "freplace_probe: <error>", exit 2 (the probe itself could not run).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define EXIT_UNSUPPORTED  1
#define EXIT_PROBE_FAILED 2
#define LIBBPF_ERRSTR_MAX 128

/* libbpf's own messages stay quiet: the one line we print says it all. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static const char *errstr(int err)
{
	static char buf[LIBBPF_ERRSTR_MAX];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

/* Open OBJ with only PROG left to load. */
static struct bpf_object *open_one(const char *path, const char *name, struct bpf_program **prog,
				   int *err)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;

	*prog = NULL;
	*err = (int)libbpf_get_error(obj);
	if (*err)
		return NULL;
	bpf_object__for_each_program(p, obj) {
		bool it = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, it);
		if (it)
			*prog = p;
	}
	if (!*prog) {
		*err = -ENOENT;
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

int main(int argc, char **argv)
{
	struct bpf_object *tobj = NULL, *eobj = NULL;
	struct bpf_program *tp, *ep;
	struct bpf_link *link = NULL;
	int err, rc = EXIT_PROBE_FAILED;

	if (argc != 3) {
		fprintf(stderr, "usage: freplace_probe OBJ PROG\n");
		return EXIT_PROBE_FAILED;
	}
	libbpf_set_print(quiet);

	tobj = open_one(argv[1], argv[2], &tp, &err);
	if (!tobj) {
		printf("freplace_probe: %s: program %s: %s\n", argv[1], argv[2], errstr(err));
		goto cleanup;
	}
	err = bpf_object__load(tobj);
	if (err) {
		printf("freplace_probe: cannot load XDP program %s: %s\n", argv[2], errstr(err));
		goto cleanup;
	}
	eobj = open_one(argv[1], argv[2], &ep, &err);
	if (!eobj) {
		printf("freplace_probe: %s: %s\n", argv[1], errstr(err));
		goto cleanup;
	}
	bpf_program__set_type(ep, BPF_PROG_TYPE_EXT);
	bpf_program__set_expected_attach_type(ep, 0);
	err = bpf_program__set_attach_target(ep, bpf_program__fd(tp), argv[2]);
	if (err) {
		printf("freplace_probe: set_attach_target: %s\n", errstr(err));
		goto cleanup;
	}
	err = bpf_object__load(eobj);
	if (err) {
		rc = EXIT_UNSUPPORTED;
		printf("freplace unsupported: loading an EXT program: %s\n", errstr(err));
		goto cleanup;
	}
	link = bpf_program__attach_freplace(ep, bpf_program__fd(tp), argv[2]);
	err = (int)libbpf_get_error(link);
	if (err) {
		link = NULL;
		rc = EXIT_UNSUPPORTED;
		printf("freplace unsupported: attaching an EXT program: %s\n", errstr(err));
		goto cleanup;
	}
	rc = 0;
	printf("freplace supported\n");
cleanup:
	bpf_link__destroy(link);
	bpf_object__close(eobj);
	bpf_object__close(tobj);
	return rc;
}
