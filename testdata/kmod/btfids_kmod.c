// SPDX-License-Identifier: GPL-2.0
/*
 * A kfunc set whose source order is not its BTF id order, each kfunc with
 * its own KF_* flags: resolve_btfids sorts the set by id, and a re-run must
 * keep every function's flags (kbtf's tests check them by name, reading the
 * flags from the BTF_ID_FLAGS lines below).
 *
 * pahole numbers the functions in an order of its own; the set lists them
 * in one that is not id order (the test checks that it is not).
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/module.h>

struct kbtf_obj {
	int refs;
};

static struct kbtf_obj kbtf_the_obj;

__bpf_kfunc_start_defs();

__bpf_kfunc struct kbtf_obj *kbtf_acquire(int key)
{
	kbtf_the_obj.refs += key;
	return &kbtf_the_obj;
}

__bpf_kfunc int kbtf_bump(struct kbtf_obj *obj)
{
	return ++obj->refs;
}

__bpf_kfunc int kbtf_count(void)
{
	return kbtf_the_obj.refs;
}

__bpf_kfunc void kbtf_destroy(struct kbtf_obj *obj)
{
	obj->refs = -1;
}

__bpf_kfunc void kbtf_release(struct kbtf_obj *obj)
{
	obj->refs--;
}

__bpf_kfunc int kbtf_sleep(struct kbtf_obj *obj)
{
	return obj->refs * 2;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kbtf_kfunc_ids)
BTF_ID_FLAGS(func, kbtf_sleep, KF_SLEEPABLE)
BTF_ID_FLAGS(func, kbtf_release, KF_RELEASE)
BTF_ID_FLAGS(func, kbtf_acquire, KF_ACQUIRE | KF_RET_NULL)
BTF_ID_FLAGS(func, kbtf_destroy, KF_DESTRUCTIVE)
BTF_ID_FLAGS(func, kbtf_count)
BTF_ID_FLAGS(func, kbtf_bump, KF_TRUSTED_ARGS | KF_RCU)
BTF_KFUNCS_END(kbtf_kfunc_ids)

static const struct btf_kfunc_id_set kbtf_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &kbtf_kfunc_ids,
};

static int __init kbtf_kmod_init(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING, &kbtf_kfunc_set);
}
module_init(kbtf_kmod_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kbtf test: kfunc flags through resolve_btfids re-runs");
