/* Seed source for the fuzz targets: a little of every construct gcc's DWARF
 * and pahole -J turn into BTF. Built by make.sh. */
#include <stddef.h>

typedef unsigned long long u64;
enum color { RED, GREEN = 7, BLUE = -1 };
enum wide { SMALL = 1, HUGE = 0x1234567890ULL };
struct list { struct list *next, *prev; };
struct opaque;
union word { int i; float f; char bytes[4]; };
struct packet {
	struct list node;
	unsigned int len : 12, flags : 4;
	const volatile char *restrict data;
	union word w;
	enum color color;
	enum wide wide;
	double weight;
	struct opaque *priv;
	int (*handler)(struct packet *, void *, ...);
	u64 stamps[3];
	_Bool ok;
};
_Thread_local int per_thread;
struct packet template_packet;

int handle(struct packet *p, void *ctx, ...)
{
	return p->len + (ctx != NULL);
}

long sum(const struct packet *p, size_t n)
{
	long s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i].len * p[i].weight;
	return s;
}
