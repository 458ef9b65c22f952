/* A per-CPU symbol whose name BTF cannot hold (encoder test, --btf_encode_force). */
asm(".pushsection .data..percpu,\"aw\"\n.globl bad$sym\n.type bad$sym,@object\n.size bad$sym,4\nbad$sym: .long 0\n.popsection\n");
__attribute__((section(".data..percpu"))) int good_pcpu;
int f(int x) { return x + good_pcpu; }
