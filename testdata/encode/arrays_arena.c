/* What pahole 1.32 encodes differently again: multi-dimensional arrays are
 * nested (1.24 and 1.30 flatten them), and with `attributes` the pointers of
 * arena kfuncs (KF_ARENA_RET, KF_ARENA_ARG1, KF_ARENA_ARG2) point through a
 * TYPE_TAG "address_space(1)". */
#include "shared.h"

struct grid {
	int cells[3][4];
	char planes[2][3][5];
	struct tuple routes[2][2];
};

struct grid the_grid;
long matrix[4][8];
const unsigned short cube[2][2][2] = { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } };

__attribute__((noipa)) void *arena_alloc(void *arena, long size)
{
	return (char *)arena + size;
}

__attribute__((noipa)) long arena_free(void *arena, void *ptr)
{
	return (char *)ptr - (char *)arena;
}

__attribute__((noipa)) long plain_kfunc(struct grid *g)
{
	return g->cells[1][2] + g->planes[1][2][3];
}

/* BTF_SET8_START(arena_kfuncs) with BTF_SET8_KFUNCS, then BTF_ID_FLAGS:
 * arena_alloc KF_ARENA_RET | KF_ARENA_ARG1 (1 << 13 | 1 << 14),
 * arena_free KF_ARENA_ARG1 | KF_ARENA_ARG2 (1 << 14 | 1 << 15),
 * plain_kfunc no flags. */
asm(".pushsection .BTF_ids,\"a\"\n"
    ".local __BTF_ID__set8__arena_kfuncs\n"
    "__BTF_ID__set8__arena_kfuncs:\n"
    ".zero 4\n"
    ".long 1\n"
    ".local __BTF_ID__func__arena_alloc__1\n"
    ".type __BTF_ID__func__arena_alloc__1, STT_OBJECT\n"
    ".size __BTF_ID__func__arena_alloc__1, 4\n"
    "__BTF_ID__func__arena_alloc__1:\n"
    ".zero 4\n"
    ".long 24576\n"
    ".local __BTF_ID__func__arena_free__2\n"
    ".type __BTF_ID__func__arena_free__2, STT_OBJECT\n"
    ".size __BTF_ID__func__arena_free__2, 4\n"
    "__BTF_ID__func__arena_free__2:\n"
    ".zero 4\n"
    ".long 49152\n"
    ".local __BTF_ID__func__plain_kfunc__3\n"
    ".type __BTF_ID__func__plain_kfunc__3, STT_OBJECT\n"
    ".size __BTF_ID__func__plain_kfunc__3, 4\n"
    "__BTF_ID__func__plain_kfunc__3:\n"
    ".zero 4\n"
    ".long 0\n"
    ".size __BTF_ID__set8__arena_kfuncs, . - __BTF_ID__set8__arena_kfuncs\n"
    ".popsection\n");

long use_arrays_arena(void *arena, long i)
{
	void *p = arena_alloc(arena, i);
	return matrix[i & 3][i & 7] + cube[i & 1][1][0] + the_grid.cells[2][3] + arena_free(arena, p) + plain_kfunc(&the_grid);
}
