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
 *   btf_distill VMLINUX IN_ROOT OUT_ROOT OTHER_VMLINUX OTHER_OUT_ROOT < list
 *
 * Writes OUT_ROOT/REL.base, REL.split, REL.reloc; a failing step writes
 * OUT_ROOT/REL.err holding "STEP ERRNO" and libbpf's warnings instead of
 * the files after it. With OTHER_VMLINUX (another kernel), the new split is
 * also relocated onto that kernel's BTF: OTHER_OUT_ROOT/REL.reloc, or
 * OTHER_OUT_ROOT/REL.err. Built against libbpf 1.7 by
 * testdata/ref-distill.sh.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* libbpf's warnings since the last step began: the error files keep them. */
static char warnings[4096];

static int keep_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(warnings);

	if (level == LIBBPF_WARN && used < sizeof(warnings) - 1)
		vsnprintf(warnings + used, sizeof(warnings) - used, fmt, ap);
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
	char msg[sizeof(warnings) + 64];
	int n = snprintf(msg, sizeof(msg), "%s %d\n%s", step, err, warnings);

	return put(out, rel, "err", msg, n);
}

/* Parses the distilled pair back from its bytes, relocates the split onto
 * VMLINUX and writes the result (or why not) under OUT.
 */
static int relocate(const char *out, const char *rel, struct btf *vmlinux,
		    const void *base_data, __u32 base_len, const void *split_data, __u32 split_len)
{
	struct btf *base, *split = NULL;
	const void *data;
	__u32 len;
	int err, failed = 0;

	warnings[0] = 0;
	base = btf__new(base_data, base_len);
	split = base ? btf__new_split(split_data, split_len, base) : NULL;
	if (!split) {
		failed = fail(out, rel, "reparse", -errno);
		goto out;
	}
	err = btf__relocate(split, vmlinux);
	if (err) {
		failed = fail(out, rel, "relocate", err);
		goto out;
	}
	data = btf__raw_data(split, &len);
	failed = put(out, rel, "reloc", data, len);
out:
	btf__free(split);
	btf__free(base);
	return failed;
}

int main(int argc, char **argv)
{
	char line[PATH_MAX], in[2 * PATH_MAX];
	struct btf *vmlinux, *other = NULL;
	int n = 0, failed = 0;

	if (argc != 4 && argc != 6) {
		fprintf(stderr, "usage: %s VMLINUX IN_ROOT OUT_ROOT [OTHER_VMLINUX OTHER_OUT_ROOT] < list\n",
			argv[0]);
		return 2;
	}
	libbpf_set_print(keep_warnings);
	vmlinux = btf__parse(argv[1], NULL);
	if (argc == 6)
		other = btf__parse(argv[4], NULL);
	if (!vmlinux || (argc == 6 && !other)) {
		fprintf(stderr, "%s: %s\n", vmlinux ? argv[4] : argv[1], strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		struct btf *split, *base = NULL, *new_split = NULL;
		const void *data;
		__u32 base_len, split_len;
		void *base_copy = NULL, *split_copy = NULL;
		int err;

		line[strcspn(line, "\n")] = 0;
		if (!*line)
			continue;
		n++;
		snprintf(in, sizeof(in), "%s/%s", argv[2], line);
		warnings[0] = 0;
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
		failed |= relocate(argv[3], line, vmlinux, base_copy, base_len, split_copy, split_len);
		if (other)
			failed |= relocate(argv[5], line, other, base_copy, base_len, split_copy,
					   split_len);
next:
		btf__free(new_split);
		btf__free(base);
		btf__free(split);
		free(base_copy);
		free(split_copy);
	}
	btf__free(other);
	btf__free(vmlinux);
	fprintf(stderr, "btf_distill: %d modules\n", n);
	return failed ? 1 : 0;
}
