/* btf_type_tag / btf_decl_tag annotations (clang only) for the DWARF encoder
 * test (btf/tests/conformance_encode_compiled_vs_pahole.rs). */
#define __tag1 __attribute__((btf_type_tag("tag1")))
#define __tag2 __attribute__((btf_type_tag("tag2")))
#define __dtag(x) __attribute__((btf_decl_tag(x)))
struct s {
	int a __dtag("member_a");
	int __tag1 *p;
	int __tag1 __tag2 *pp;
	long b __dtag("member_b") __dtag("member_b2");
	unsigned c : 3;
	unsigned d : 5 __dtag("bitfield");
} __dtag("struct_s");
union un { int x; char __tag2 *q; } __dtag("union_un");
typedef struct s s_t __dtag("typedef_s");
int global_var __dtag("gvar");
__attribute__((section(".data..percpu"))) int pcpu __dtag("pcpu_tag");
__attribute__((section(".data..percpu"))) struct s pcpu_s;
int __dtag("func") f(struct s *arg __dtag("param0"), int __tag1 *b __dtag("param1"), s_t *t, union un *u) { return arg->a + *b + t->c + u->x + pcpu + pcpu_s.d; }
static int __attribute__((noinline)) g(int x __dtag("gparam")) { return x * 2; }
int h(int y) { return g(y) + g(y + 1); }
