// SPDX-License-Identifier: GPL-2.0-only
/*
 * prog_lines - where each source line of a loaded BPF program landed in its
 * JIT image: one line "ADDRESS FILE:LINE SOURCE" per line-info record, the
 * address (hex, no 0x) the kernel's, as perf reports a sample's. With the
 * samples of `perf record -e cpu-clock` this gives a profile by source
 * line where bpftool has no disassembler and the VM no PMU
 * (bench/line_profile.sh). Reads the program's line info, its JIT
 * addresses and its BTF from the kernel (bpf_prog_info); needs root.
 *
 * usage: prog_lines ID | prog_lines --name NAME (the newest program of that name)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

static void usage(void)
{
	fprintf(stderr, "usage: prog_lines ID | prog_lines --name NAME\n");
	exit(2);
}

/* The id of the newest loaded program named name, 0 if none. */
static __u32 prog_by_name(const char *name)
{
	__u32 id = 0, found = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name))
			found = id;
		close(fd);
	}
	return found;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = { 0 }, lines = { 0 };
	struct bpf_line_info *li = NULL;
	__u64 *jl = NULL;
	struct btf *btf = NULL;
	__u32 id, len = sizeof(info), i, n;
	int fd, rc = 1;
	char *end;

	if (argc == 3 && !strcmp(argv[1], "--name")) {
		id = prog_by_name(argv[2]);
		if (!id) {
			fprintf(stderr, "prog_lines: no loaded program named %s\n", argv[2]);
			return 1;
		}
	} else if (argc == 2) {
		errno = 0;
		id = (__u32)strtoul(argv[1], &end, 10);
		if (errno || *end || !id)
			usage();
	} else {
		usage();
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "prog_lines: program %u: %s\n", id, strerror(errno));
		return 1;
	}
	if (!info.nr_line_info || !info.nr_jited_line_info || !info.btf_id) {
		fprintf(stderr, "prog_lines: program %u has no line info or no JIT image\n", id);
		goto out;
	}
	n = info.nr_line_info < info.nr_jited_line_info ? info.nr_line_info
							: info.nr_jited_line_info;
	li = calloc(info.nr_line_info, sizeof(*li));
	jl = calloc(info.nr_jited_line_info, sizeof(*jl));
	if (!li || !jl) {
		fprintf(stderr, "prog_lines: out of memory\n");
		goto out;
	}
	lines.nr_line_info = info.nr_line_info;
	lines.line_info_rec_size = sizeof(*li);
	lines.line_info = (__u64)(unsigned long)li;
	lines.nr_jited_line_info = info.nr_jited_line_info;
	lines.jited_line_info_rec_size = sizeof(*jl);
	lines.jited_line_info = (__u64)(unsigned long)jl;
	len = sizeof(lines);
	if (bpf_obj_get_info_by_fd(fd, &lines, &len)) {
		fprintf(stderr, "prog_lines: program %u: line info: %s\n", id, strerror(errno));
		goto out;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf) {
		fprintf(stderr, "prog_lines: program %u: BTF %u: %s\n", id, info.btf_id,
			strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);
		const char *src = btf__name_by_offset(btf, li[i].line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		printf("%llx %s:%u %s\n", (unsigned long long)jl[i],
		       base   ? base + 1
		       : file ? file
			      : "?",
		       BPF_LINE_INFO_LINE_NUM(li[i].line_col), src ? src : "");
	}
	rc = 0;
out:
	btf__free(btf);
	free(li);
	free(jl);
	close(fd);
	return rc;
}
