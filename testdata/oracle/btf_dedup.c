/* The dedup oracle: runs the system libbpf's btf__dedup on a BTF blob.
 *
 *   btf_dedup [-b BASE] IN OUT [IN OUT]...
 *
 * IN is raw BTF (split over BASE when given); BASE is raw BTF or an ELF with
 * .BTF. OUT receives the deduplicated raw BTF (only the split part for split
 * input), exactly as btf__raw_data gives it. Several pairs share one parse of
 * BASE. Built by tests with `cc -O2 btf_dedup.c -lbpf` (Debian: libbpf-dev). */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct btf *base = NULL, *btf;
	const void *raw;
	__u32 size;
	FILE *out;
	int opt, err;

	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt != 'b')
			goto usage;
		base = btf__parse(optarg, NULL);
		if (!base) {
			fprintf(stderr, "btf_dedup: %s: %s\n", optarg, strerror(errno));
			return 1;
		}
	}
	if (argc - optind < 2 || (argc - optind) % 2)
		goto usage;
	for (; optind < argc; optind += 2) {
		btf = btf__parse_raw_split(argv[optind], base);
		if (!btf) {
			fprintf(stderr, "btf_dedup: %s: %s\n", argv[optind], strerror(errno));
			return 1;
		}
		err = btf__dedup(btf, NULL);
		if (err) {
			fprintf(stderr, "btf_dedup: %s: dedup failed: %s\n", argv[optind], strerror(-err));
			return 1;
		}
		raw = btf__raw_data(btf, &size);
		out = fopen(argv[optind + 1], "wb");
		if (!out || fwrite(raw, 1, size, out) != size || fclose(out)) {
			fprintf(stderr, "btf_dedup: %s: %s\n", argv[optind + 1], strerror(errno));
			return 1;
		}
		btf__free(btf);
	}
	return 0;
usage:
	fprintf(stderr, "usage: btf_dedup [-b BASE] IN OUT [IN OUT]...\n");
	return 2;
}
