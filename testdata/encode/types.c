/* C constructs for the DWARF encoder test (btf/tests/conformance_encode_compiled_vs_pahole.rs):
 * compiled by gcc at several DWARF versions and optimisation levels, then
 * encoded by kbtf and by pahole 1.24; both must dedup to the same BTF. */
#include <stdarg.h>
typedef unsigned long long u64;
typedef signed char s8;
enum neg { NEG_A = -5, NEG_B = 3, NEG_C = 0x7fffffff };
enum big { BIG_A = 1, BIG_B = 0x100000000ULL };
enum sbig { SBIG_A = -1, SBIG_B = 0x100000000LL };
enum small8 { S8A = 1, S8B = 2 } __attribute__((packed));
struct bits {
	unsigned int a : 3;
	signed int b : 5;
	enum small8 e : 4;
	unsigned long long c : 40;
	u64 d : 24;
	_Bool f : 1;
	char g;
	unsigned short h : 9;
	unsigned short i : 7;
};
struct __attribute__((packed)) packed { char c; int i; short s : 3; long long l; };
union u { int i; float f; double d; long double ld; struct { int x, y; }; };
struct flex { int n; int data[]; };
struct zero { int n; int z[0]; };
struct nested { struct inner { int a; } in; union { long l; void *p; }; int m[2][3]; };
typedef int (*cb_t)(const char *restrict fmt, ...);
struct ops { cb_t cb; void (*fn)(struct ops *, volatile int *); const struct ops *next; };
__int128 i128; unsigned __int128 u128;
float f; double d; long double ld;
_Bool bb;
__attribute__((section(".data..percpu"))) struct bits pcpu_bits;
__attribute__((section(".data..percpu"))) static int pcpu_static = 3;
__attribute__((section(".data..percpu"))) int pcpu_arr[4];
struct fwd_only;
struct fwd_only *fwd_ptr;
static int __attribute__((noinline)) helper(struct bits *b, int x) { return b->a + x; }
static inline int inl(struct nested *n) { return n->in.a + n->m[1][2]; }
int use_inl(struct nested *n) { return inl(n) * 2; }
int call(struct bits *b, ...) { va_list ap; va_start(ap, b); int v = va_arg(ap, int); va_end(ap); return helper(b, v); }
static int __attribute__((noinline)) unused_param(int a, int b) { return a * 3; }
int use_unused(int x) { return unused_param(x, 7) + unused_param(x + 1, 7); }
long sum(union u *u, struct packed *p, struct flex *fl, struct zero *z, struct ops *o, enum neg n, enum big b, enum sbig sb, s8 c) {
	return u->i + p->l + fl->n + z->n + (o->cb ? o->cb("x") : 0) + n + b + sb + c + i128 + u128 + f + d + ld + bb;
}
