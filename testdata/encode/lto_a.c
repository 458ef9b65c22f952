/* With lto_b.c: clang -flto links them into DWARF with cross-unit references (DW_FORM_ref_addr), which pahole merges into one unit. */
struct shared { int x; long y; };
int bfunc(struct shared *s);
__attribute__((section(".data..percpu"))) struct shared pa;
int __attribute__((noinline)) afunc(struct shared *s) { return s->x + bfunc(s); }
int main(void) { return afunc(&pa); }
