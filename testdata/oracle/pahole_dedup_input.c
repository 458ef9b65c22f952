/* Captures pahole's dedup input: an LD_PRELOAD shim around the system
 * libbpf's btf__dedup that first writes the BTF it is given, raw, to the file
 * named by $KBTF_DEDUP_INPUT, then runs the real dedup.
 *
 *   LD_PRELOAD=./pahole_dedup_input.so KBTF_DEDUP_INPUT=in.btf pahole -J ...
 *
 * Built by tests with `cc -O2 -shared -fPIC pahole_dedup_input.c -ldl -lbpf`
 * (Debian: libbpf-dev); pahole must link libbpf dynamically (Debian's does). */
#define _GNU_SOURCE
#include <bpf/btf.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int btf__dedup(struct btf *btf, const struct btf_dedup_opts *opts)
{
	int (*real)(struct btf *, const struct btf_dedup_opts *);
	const char *path = getenv("KBTF_DEDUP_INPUT");
	const void *raw;
	__u32 size;
	FILE *out;

	real = dlsym(RTLD_NEXT, "btf__dedup");
	if (!real)
		return -ENOSYS;
	if (path) {
		raw = btf__raw_data(btf, &size);
		out = fopen(path, "wb");
		if (!raw || !out || fwrite(raw, 1, size, out) != size || fclose(out)) {
			fprintf(stderr, "pahole_dedup_input: cannot write %s\n", path);
			return -EIO;
		}
	}
	return real(btf, opts);
}
