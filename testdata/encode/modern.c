/* What pahole 1.26+ treats differently from 1.24: a parameter in another
 * register than the ABI's (consistent_func drops the function), a kfunc set
 * in .BTF_ids with KF_FASTCALL (decl_tag_kfuncs), a per-CPU variable
 * declared first and defined later (DW_AT_specification). */
#include "shared.h"

struct big { long a[6]; };

/* Returned in memory: the hidden pointer takes %rdi, `seed` comes in %rsi. */
__attribute__((noipa)) struct big make_big(long seed)
{
	struct big b = { { seed, seed + 1, seed * 2, seed - 3, seed ^ 5, seed | 8 } };
	return b;
}

__attribute__((noipa)) long kfunc_plain(long x)
{
	return x * 3;
}

__attribute__((noipa)) long kfunc_fast(long x, long y)
{
	return x - y;
}

__attribute__((noipa)) long not_a_kfunc(long x)
{
	return x + 1;
}

/* The kernel's BTF_SET8_START / BTF_ID_FLAGS / BTF_SET8_END, flags
 * BTF_SET8_KFUNCS, the second function with KF_FASTCALL (1 << 12). A
 * func id outside any kfunc set names not_a_kfunc. */
asm(".pushsection .BTF_ids,\"a\"\n"
    ".local __BTF_ID__set8__my_kfuncs\n"
    "__BTF_ID__set8__my_kfuncs:\n"
    ".zero 4\n"
    ".long 1\n"
    ".local __BTF_ID__func__kfunc_plain__1\n"
    ".type __BTF_ID__func__kfunc_plain__1, STT_OBJECT\n"
    ".size __BTF_ID__func__kfunc_plain__1, 4\n"
    "__BTF_ID__func__kfunc_plain__1:\n"
    ".zero 4\n"
    ".long 0\n"
    ".local __BTF_ID__func__kfunc_fast__2\n"
    ".type __BTF_ID__func__kfunc_fast__2, STT_OBJECT\n"
    ".size __BTF_ID__func__kfunc_fast__2, 4\n"
    "__BTF_ID__func__kfunc_fast__2:\n"
    ".zero 4\n"
    ".long 4096\n"
    ".size __BTF_ID__set8__my_kfuncs, . - __BTF_ID__set8__my_kfuncs\n"
    ".local __BTF_ID__func__not_a_kfunc__3\n"
    ".type __BTF_ID__func__not_a_kfunc__3, STT_OBJECT\n"
    ".size __BTF_ID__func__not_a_kfunc__3, 4\n"
    "__BTF_ID__func__not_a_kfunc__3:\n"
    ".zero 4\n"
    ".popsection\n");

/* Declared, then defined: the definition's DIE points back with
 * DW_AT_specification, and the VAR takes the declaration's name and type. */
extern struct conn percpu_conn;
__attribute__((section(".data..percpu"))) struct conn percpu_conn;
__attribute__((section(".data..percpu"))) static long percpu_counter;

long use_modern(long x)
{
	struct big b = make_big(x);
	percpu_counter += b.a[2];
	return kfunc_plain(x) + kfunc_fast(x, 2) + not_a_kfunc(b.a[0]) + percpu_conn.bytes + percpu_counter;
}
