/* Split seed source: encoded by make.sh against base.btf (the fuzz crate's
 * every-kind base), so it refers to that base's 'int', 'task' and 'run'. */
struct task { int a; char name[16]; int bits : 5; };
struct module { struct task *owner; int refs; const char *name; };
static struct module this_module;
struct module *module_of(struct task *t, int refs)
{
	this_module.owner = t;
	this_module.refs = refs;
	return &this_module;
}
