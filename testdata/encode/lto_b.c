/* See lto_a.c. */
struct shared { int x; long y; };
__attribute__((section(".data..percpu"))) long pb;
int __attribute__((noinline)) bfunc(struct shared *s) { return s->y + pb; }
