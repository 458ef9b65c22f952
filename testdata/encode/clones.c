/* Clones gcc -O2 makes besides .isra and .constprop: a function split into
 * its hot part and a `.cold` part, and a partially inlined one whose
 * out-of-line rest is a `.part` clone. pahole's optimized_func encodes each
 * under its DWARF name. */
#include "shared.h"

__attribute__((cold, noinline)) void conn_warn(const struct conn *c, const char *why);

/* The unlikely branch goes to check_conn.cold. */
int check_conn(struct conn *c, int limit)
{
	if (__builtin_expect(c->bytes > (uint64_t)limit, 0)) {
		conn_warn(c, "over limit");
		c->state = CONN_CLOSED;
		c->packets = 0;
		return -1;
	}
	return (int)c->bytes;
}

/* A cheap test inlined into callers, the costly rest out of line. */
static int walk_conns(struct conn *c, int depth)
{
	int n = 0;

	if (!c)
		return 0;
	for (; c && depth > 0; c = c->next, depth--) {
		n += c->tuple.sport * 31 + c->tuple.dport;
		n ^= (int)(c->bytes >> 3) + c->pair.a * c->pair.b;
		if (c->state == CONN_OPEN)
			n += check_conn(c, depth * 1000);
		n += c->data[depth & 3] * (int)c->packets;
	}
	return n;
}

int count_a(struct conn *c)
{
	return walk_conns(c, 16) + 1;
}

int count_b(struct conn *c)
{
	return walk_conns(c, 64) * 2;
}

void conn_warn(const struct conn *c, const char *why)
{
	asm volatile("" : : "r"(c), "r"(why) : "memory");
}
