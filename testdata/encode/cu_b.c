#include "shared.h"

/* Same name as cu_a.c's, another prototype. */
static unsigned int __attribute__((noinline)) lookup(const struct conn *c, unsigned int key, int depth)
{
	return (unsigned int)c->state + key + (unsigned int)depth;
}

__attribute__((section(".data..percpu"))) struct conn_stats conn_stats_pcpu;

int conn_b(struct conn *c, unsigned int key, conn_cb_t cb)
{
	return (int)lookup(c, key, 2) + cb(c, CONN_CLOSED) + conn_stats_pcpu.drops;
}
