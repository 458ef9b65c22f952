/* Parameters the x86-64 ABI passes on the stack: a seventh and eighth
 * integer argument, a struct too big for registers, and a packed struct.
 * pahole 1.30+'s consistent_func checks each parameter's DWARF location
 * against the register the ABI expects. */
#include "shared.h"

struct wide { long a, b, c; };
struct __attribute__((packed)) tight { char c; long l; short s; };

__attribute__((noipa)) long eight_args(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + g * 7 + h * 8;
}

__attribute__((noipa)) long wide_by_value(struct wide w, long x)
{
	return w.a + w.b + w.c + x;
}

__attribute__((noipa)) long tight_by_value(long x, struct tight t, int y)
{
	return x + t.c + t.l + t.s + y;
}

long use_stack_args(long x)
{
	struct wide w = { x, x + 1, x + 2 };
	struct tight t = { (char)x, x * 3, (short)x };
	return eight_args(x, 1, 2, 3, 4, 5, 6, 7) + wide_by_value(w, x) + tight_by_value(x, t, 9);
}
