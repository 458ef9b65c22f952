/* The `btfids` fuzz target's seed (see make-btfids.sh): a `.BTF_ids`
 * section laid out as the kernel's include/linux/btf_ids.h lays it out
 * (written here with macros of the same shape), plus the types and
 * functions it names, whose BTF pahole -J adds:
 *   a BTF_ID_LIST of a struct, a union, a typedef, a function, a name
 *     with no BTF (unresolved) and an unused slot;
 *   a BTF_SET of functions listed out of id order;
 *   a BTF_SET8 of kfuncs with flags, out of id order.
 */


/* One id slot: a local symbol __BTF_ID__<kind>__<name>__<N> of 4 bytes. */
#define ID(kind, name, n)                                                    \
	".local __BTF_ID__" #kind "__" #name "__" #n "\n"                     \
	".type __BTF_ID__" #kind "__" #name "__" #n ", @object\n"             \
	".size __BTF_ID__" #kind "__" #name "__" #n ", 4\n"                   \
	"__BTF_ID__" #kind "__" #name "__" #n ": .zero 4\n"

asm(".pushsection .BTF_ids, \"a\"\n"
    /* BTF_ID_LIST(fuzz_list): a plain label, then the slots. */
    ".globl fuzz_list\nfuzz_list:\n"
    ID(struct, fuzz_obj, 1)
    ID(union, fuzz_val, 2)
    ID(typedef, fuzz_key_t, 3)
    ID(func, fuzz_lookup, 4)
    ID(struct, fuzz_missing, 5)
    ".zero 4\n" /* BTF_ID_UNUSED */

    /* BTF_SET_START(fuzz_set) ... BTF_SET_END: cnt, then ids. */
    ".local __BTF_ID__set__fuzz_set\n"
    ".type __BTF_ID__set__fuzz_set, @object\n"
    "__BTF_ID__set__fuzz_set: .zero 4\n"
    ID(func, fuzz_lookup, 6)
    ID(func, fuzz_zap, 7)
    ID(func, fuzz_insert, 8)
    ".size __BTF_ID__set__fuzz_set, . - __BTF_ID__set__fuzz_set\n"

    /* BTF_KFUNCS_START(fuzz_kfuncs) ... END: cnt, flags, then (id, flags). */
    ".balign 4\n"
    ".local __BTF_ID__set8__fuzz_kfuncs\n"
    ".type __BTF_ID__set8__fuzz_kfuncs, @object\n"
    "__BTF_ID__set8__fuzz_kfuncs: .zero 4\n.long 1\n"
    ID(func, fuzz_release, 9) ".long 2\n"
    ID(func, fuzz_acquire, 10) ".long 5\n"
    ID(func, fuzz_zap, 11) ".long 0\n"
    ID(func, fuzz_insert, 12) ".long 0x20\n"
    ".size __BTF_ID__set8__fuzz_kfuncs, . - __BTF_ID__set8__fuzz_kfuncs\n"
    ".popsection\n");

struct fuzz_obj {
	int refs;
	struct fuzz_obj *next;
};

union fuzz_val {
	int i;
	long l;
};

typedef unsigned int fuzz_key_t;

struct fuzz_obj *fuzz_acquire(fuzz_key_t key);
void fuzz_release(struct fuzz_obj *o);
struct fuzz_obj *fuzz_lookup(fuzz_key_t key, union fuzz_val *v);
int fuzz_insert(struct fuzz_obj *o);
void fuzz_zap(void);

static struct fuzz_obj the_obj;

struct fuzz_obj *fuzz_acquire(fuzz_key_t key)
{
	the_obj.refs += key;
	return &the_obj;
}

void fuzz_release(struct fuzz_obj *o)
{
	o->refs--;
}

struct fuzz_obj *fuzz_lookup(fuzz_key_t key, union fuzz_val *v)
{
	v->i = key;
	return the_obj.next;
}

int fuzz_insert(struct fuzz_obj *o)
{
	o->next = the_obj.next;
	the_obj.next = o;
	return 0;
}

void fuzz_zap(void)
{
	the_obj.next = 0;
}
