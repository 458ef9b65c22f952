// SPDX-License-Identifier: GPL-2.0
/*
 * What Linux 7.x's BTF step (gen-btf.sh: pahole 1.32, then resolve_btfids
 * --btf) does to a module, in one small out-of-tree module:
 * - a kfunc set whose source order is not its BTF id order, with KF_FASTCALL
 *   (pahole tags it bpf_fastcall) and KF_IMPLICIT_ARGS (resolve_btfids adds
 *   `<name>_impl` with the full prototype and gives the kfunc one without
 *   the verifier-supplied `struct bpf_prog_aux *`);
 * - a sorted set (BTF_SET_START) and an unsorted list (BTF_ID_LIST).
 * Built out of tree, it also gets a distilled .BTF.base.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/module.h>

struct kbtf7_obj {
	int refs;
	long weight;
};

static struct kbtf7_obj kbtf7_the_obj;

__bpf_kfunc_start_defs();

__bpf_kfunc struct kbtf7_obj *kbtf7_acquire(int key)
{
	kbtf7_the_obj.refs += key;
	return &kbtf7_the_obj;
}

__bpf_kfunc void kbtf7_release(struct kbtf7_obj *obj)
{
	obj->refs--;
}

__bpf_kfunc int kbtf7_fast(int a, int b)
{
	return a * b + kbtf7_the_obj.refs;
}

__bpf_kfunc int kbtf7_with_aux(struct kbtf7_obj *obj, int key, struct bpf_prog_aux *aux)
{
	return obj->refs + key + (aux ? 1 : 0);
}

__bpf_kfunc long kbtf7_weigh(struct kbtf7_obj *obj, struct bpf_prog_aux *aux)
{
	return obj->weight + (aux ? 2 : 0);
}

__bpf_kfunc int kbtf7_count(void)
{
	return kbtf7_the_obj.refs;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kbtf7_kfunc_ids)
BTF_ID_FLAGS(func, kbtf7_weigh, KF_IMPLICIT_ARGS)
BTF_ID_FLAGS(func, kbtf7_release, KF_RELEASE)
BTF_ID_FLAGS(func, kbtf7_fast, KF_FASTCALL)
BTF_ID_FLAGS(func, kbtf7_acquire, KF_ACQUIRE | KF_RET_NULL)
BTF_ID_FLAGS(func, kbtf7_with_aux, KF_IMPLICIT_ARGS | KF_RCU)
BTF_ID_FLAGS(func, kbtf7_count)
BTF_KFUNCS_END(kbtf7_kfunc_ids)

/* Sorted by id by resolve_btfids. */
BTF_SET_START(kbtf7_set)
BTF_ID(func, kbtf7_release)
BTF_ID(func, kbtf7_acquire)
BTF_ID(struct, kbtf7_obj)
BTF_SET_END(kbtf7_set)

/* Left in source order. */
BTF_ID_LIST(kbtf7_list)
BTF_ID(struct, kbtf7_obj)
BTF_ID(func, kbtf7_count)
BTF_ID(struct, task_struct)

static const struct btf_kfunc_id_set kbtf7_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &kbtf7_kfunc_ids,
};

static int __init kbtf7_init(void)
{
	if (!btf_id_set_contains(&kbtf7_set, kbtf7_list[1]))
		pr_debug("kbtf7: count is not in the set\n");
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING, &kbtf7_kfunc_set);
}
module_init(kbtf7_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kbtf test: Linux 7.x BTF step (KF_IMPLICIT_ARGS, KF_FASTCALL, distilled base)");
