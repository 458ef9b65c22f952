/* Two units linked with `ld -r`: same-named static functions with different
 * prototypes, and functions gcc -O2 turns into .isra / .constprop clones. */
#include "shared.h"

static int __attribute__((noinline)) lookup(struct conn *c, int key)
{
	return c->tuple.src ^ key;
}

/* Passed by value, two fields read, one argument unused: lookup_field.isra.0. */
static int __attribute__((noinline)) lookup_field(struct conn c, int unused)
{
	return c.tuple.dst * 3 + c.tuple.sport;
}

/* Always called with the same constant: scale.constprop.0. */
static long __attribute__((noinline)) scale(long v, int factor)
{
	return v * factor + (factor >> 1);
}

int conn_a(struct conn *c, int key)
{
	return lookup(c, key) + lookup_field(*c, key) + lookup_field(*c->next, 1) + (int)scale(c->bytes, 7) + (int)scale(c->packets, 7);
}
