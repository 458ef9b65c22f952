/* The "vmlinux" of the split-BTF tests: it defines the shared types. */
#include "shared.h"

struct conn base_conn;
struct conn_stats base_stats;
conn_cb_t base_cb;

int base_fn(struct conn *c, struct conn_stats *s)
{
	return c->tuple.proto + (int)s->drops;
}
