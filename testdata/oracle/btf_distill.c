// SPDX-License-Identifier: GPL-2.0
/*
 * The libbpf oracle of kbtf's distill and relocate: for each module path
 * read from stdin (relative to IN_ROOT), parses the module's .BTF as split
 * BTF over VMLINUX's, calls btf__distill_base() and writes the distilled
 * base and the new split as btf__raw_data() gives them; then parses those
 * two blobs back (the way a loader meets a .BTF/.BTF.base pair), calls
 * btf__relocate() onto VMLINUX's BTF and writes the relocated split.
 *
 *   btf_distill VMLINUX IN_ROOT OUT_ROOT < list
 *
 * Writes OUT_ROOT/REL.base, REL.split, REL.reloc; a failing step writes
 * OUT_ROOT/REL.err holding "STEP ERRNO" instead of the files after it.
 * Built against libbpf 1.7 by testdata/ref-distill.sh.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static int put(const char *out, const char *rel, const char *ext, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s", out, rel, ext);
	if (mkdirs(path))
		return -1;
	f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

static int fail(const char *out, const char *rel, const char *step, int err)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "%s %d\n", step, err);

	return put(out, rel, "err", msg, n);
}

int main(int argc, char **argv)
{
	char line[PATH_MAX], in[2 * PATH_MAX];
	struct btf *vmlinux;
	int n = 0, failed = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s VMLINUX IN_ROOT OUT_ROOT < list\n", argv[0]);
		return 2;
	}
	libbpf_set_print(silent);
	vmlinux = btf__parse(argv[1], NULL);
	if (!vmlinux) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		struct btf *split, *base = NULL, *new_split = NULL, *base2 = NULL, *split2 = NULL;
		const void *data;
		__u32 base_len, split_len, len;
		void *base_copy = NULL, *split_copy = NULL;
		int err;

		line[strcspn(line, "\n")] = 0;
		if (!*line)
			continue;
		n++;
		snprintf(in, sizeof(in), "%s/%s", argv[2], line);
		split = btf__parse_split(in, vmlinux);
		if (!split) {
			failed |= fail(argv[3], line, "parse", -errno);
			continue;
		}
		err = btf__distill_base(split, &base, &new_split);
		if (err) {
			failed |= fail(argv[3], line, "distill", err);
			goto next;
		}
		data = btf__raw_data(base, &base_len);
		base_copy = malloc(base_len);
		memcpy(base_copy, data, base_len);
		data = btf__raw_data(new_split, &split_len);
		split_copy = malloc(split_len);
		memcpy(split_copy, data, split_len);
		failed |= put(argv[3], line, "base", base_copy, base_len);
		failed |= put(argv[3], line, "split", split_copy, split_len);

		base2 = btf__new(base_copy, base_len);
		split2 = base2 ? btf__new_split(split_copy, split_len, base2) : NULL;
		if (!split2) {
			failed |= fail(argv[3], line, "reparse", -errno);
			goto next;
		}
		err = btf__relocate(split2, vmlinux);
		if (err) {
			failed |= fail(argv[3], line, "relocate", err);
			goto next;
		}
		data = btf__raw_data(split2, &len);
		failed |= put(argv[3], line, "reloc", data, len);
next:
		btf__free(split2);
		btf__free(base2);
		btf__free(new_split);
		btf__free(base);
		btf__free(split);
		free(base_copy);
		free(split_copy);
	}
	fprintf(stderr, "btf_distill: %d modules\n", n);
	return failed ? 1 : 0;
}
