/* The add_btf oracle: appends BTF with the system libbpf's btf__add_btf.
 *
 *   btf_add [-b BASE] DST OUT SRC...
 *
 * DST is raw BTF (split over BASE when given), each SRC raw base BTF
 * (libbpf 1.1 cannot append split BTF). OUT receives DST with every SRC
 * appended in order, as btf__raw_data gives it. Built by tests with
 * `cc -O2 btf_add.c -lbpf` (Debian: libbpf-dev). */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct btf *base = NULL, *dst, *src;
	const void *raw;
	__u32 size;
	FILE *out;
	int opt, i, err;

	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt != 'b')
			goto usage;
		base = btf__parse(optarg, NULL);
		if (!base) {
			fprintf(stderr, "btf_add: %s: %s\n", optarg, strerror(errno));
			return 1;
		}
	}
	if (argc - optind < 3)
		goto usage;
	dst = btf__parse_raw_split(argv[optind], base);
	if (!dst) {
		fprintf(stderr, "btf_add: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	for (i = optind + 2; i < argc; i++) {
		src = btf__parse_raw(argv[i]);
		if (!src) {
			fprintf(stderr, "btf_add: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		err = btf__add_btf(dst, src);
		if (err < 0) {
			fprintf(stderr, "btf_add: %s: add failed: %s\n", argv[i], strerror(-err));
			return 1;
		}
		btf__free(src);
	}
	raw = btf__raw_data(dst, &size);
	out = fopen(argv[optind + 1], "wb");
	if (!out || fwrite(raw, 1, size, out) != size || fclose(out)) {
		fprintf(stderr, "btf_add: %s: %s\n", argv[optind + 1], strerror(errno));
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: btf_add [-b BASE] DST OUT SRC...\n");
	return 2;
}
