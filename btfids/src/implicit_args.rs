//! The BTF rewrite of one kfunc flagged `KF_IMPLICIT_ARGS`, as resolve_btfids
//! 7.x makes it.
//!
//! Such a kfunc takes trailing arguments that the verifier supplies (a
//! `struct bpf_prog_aux *`, a `struct btf_struct_meta *`); BPF programs must
//! see it without them. So `f(int a, struct bpf_prog_aux *aux)` becomes two
//! functions in BTF:
//!
//! - `f_impl`, with `f`'s original prototype and linkage and every decl tag
//!   of `f` except `bpf_kfunc` (not added if a FUNC of that name exists: the
//!   source declared it, the older convention);
//! - `f` itself, pointed at a new FUNC_PROTO holding the parameters before the
//!   first implicit one (always added, even if an equal one exists).
//!
//! Types are only appended (in that order: FUNC, its tags, FUNC_PROTO), never
//! deduplicated, and strings are added as libbpf adds them (found in the base
//! or the BTF's own strings first).

use kbtf_btf::{Btf, Info, Kind, StrOff, TypeId};

use crate::{Error, Result};

/// The suffix of the function that keeps the full prototype.
pub const IMPL_SUFFIX: &str = "_impl";

/// The struct names a pointer to which is an implicit argument.
pub const IMPLICIT_ARG_STRUCTS: [&[u8]; 2] = [b"bpf_prog_aux", b"btf_struct_meta"];

/// Longest symbol name the kernel allows (`KSYM_NAME_LEN`), NUL included.
const KSYM_NAME_LEN: usize = 512;

/// The decl tag that marks kfuncs.
pub const BPF_KFUNC_TAG: &[u8] = b"bpf_kfunc";

fn kfunc_error(name: &[u8], what: String) -> Error {
    Error::Kfunc {
        name: String::from_utf8_lossy(name).into_owned(),
        what,
    }
}

/// Follows CONST, VOLATILE, RESTRICT and TYPE_TAG (not TYPEDEF), as libbpf's `btf_is_mod`.
fn skip_qualifiers(btf: &Btf, mut id: TypeId) -> Result<(TypeId, Option<Kind>)> {
    // A chain longer than the BTF has types is a cycle.
    for _ in 0..=btf.type_count() {
        if id == TypeId::VOID {
            return Ok((id, None));
        }
        let t = btf.get(id)?;
        match t.kind() {
            Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => id = t.type_id(),
            k => return Ok((id, Some(k))),
        }
    }
    Err(kbtf_btf::Error::Invalid {
        id,
        what: "a cycle of qualifiers".into(),
    }
    .into())
}

/// Whether a parameter of type `ty` is one the verifier supplies: a
/// pointer to one of [`IMPLICIT_ARG_STRUCTS`], qualifiers aside.
pub fn is_implicit_arg(btf: &Btf, ty: TypeId) -> Result<bool> {
    let (ptr, kind) = skip_qualifiers(btf, ty)?;
    if kind != Some(Kind::Ptr) {
        return Ok(false);
    }
    let (target, kind) = skip_qualifiers(btf, btf.get(ptr)?.type_id())?;
    if kind != Some(Kind::Struct) {
        return Ok(false);
    }
    let name = btf.str_at(btf.get(target)?.name_off()).unwrap_or_default();
    Ok(IMPLICIT_ARG_STRUCTS.contains(&name))
}

/// Rewrites kfunc `func` (named `name`) as the module doc says. `tags` are
/// the DECL_TAG ids of the BTF as it was before any rewrite. A kfunc of the
/// base (a module's set naming a vmlinux function) gets its new types in
/// `btf`, but keeps its prototype: the base is not written.
pub fn rewrite(btf: &mut Btf, func: TypeId, name: &[u8], tags: &[TypeId]) -> Result<()> {
    let t = btf.get(func)?;
    if t.kind() != Kind::Func {
        return Err(kfunc_error(name, format!("type {func} is not a FUNC")));
    }
    let linkage = t.vlen();
    let proto = t.type_id();
    if btf.get(proto)?.kind() != Kind::FuncProto {
        return Err(kfunc_error(
            name,
            format!("type {proto} (its type) is not a FUNC_PROTO"),
        ));
    }
    let mut impl_name = name.to_vec();
    impl_name.extend_from_slice(IMPL_SUFFIX.as_bytes());
    if impl_name.len() >= KSYM_NAME_LEN {
        return Err(kfunc_error(
            name,
            format!("the name with {IMPL_SUFFIX} is longer than {KSYM_NAME_LEN} bytes"),
        ));
    }

    if btf.find_by_name_kind(&impl_name, Kind::Func).is_none() {
        let off = btf.add_str(&impl_name)?;
        let impl_func = btf.add_type(off, Info::new(Kind::Func, false, linkage), proto.0, &[])?;
        for &tag in tags {
            let t = btf.get(tag)?;
            if t.type_id() != func {
                continue;
            }
            let value = btf.str_at(t.name_off()).unwrap_or_default().to_vec();
            if value == BPF_KFUNC_TAG {
                continue;
            }
            let component = t.words().get(3).copied().unwrap_or(u32::MAX);
            let info = Info::new(Kind::DeclTag, t.kind_flag(), 0);
            let off = btf.add_str(&value)?;
            btf.add_type(off, info, impl_func.0, &[component])?;
        }
    }

    let p = btf.get(proto)?;
    let ret = p.type_id();
    let params: Vec<(Vec<u8>, TypeId)> = p
        .params()
        .map(|q| {
            (
                btf.str_at(q.name_off).unwrap_or_default().to_vec(),
                q.type_id,
            )
        })
        .collect();
    let mut kept: Vec<u32> = Vec::with_capacity(2 * params.len());
    for (pname, ty) in params {
        if is_implicit_arg(btf, ty)? {
            break;
        }
        let off = if pname.is_empty() {
            StrOff(0)
        } else {
            btf.add_str(&pname)?
        };
        kept.extend_from_slice(&[off.0, ty.0]);
    }
    let info = Info::new(Kind::FuncProto, false, kept.len() as u32 / 2);
    let new_proto = btf.add_type(StrOff(0), info, ret.0, &kept)?;
    if let Some(mut rec) = btf.record_mut(func) {
        rec[2] = new_proto.0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kbtf_btf::linkage;

    /// `f(int a, const struct bpf_prog_aux *aux, int b)`, tagged.
    fn kfunc_btf() -> (Btf, TypeId, Vec<TypeId>) {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 0).unwrap();
        let aux = b.add_struct("bpf_prog_aux", 8).unwrap();
        let c = b.add_const(aux).unwrap();
        let ptr = b.add_ptr(c).unwrap();
        let proto = b.add_func_proto(int).unwrap();
        b.add_func_param("a", int).unwrap();
        b.add_func_param("aux", ptr).unwrap();
        b.add_func_param("b", int).unwrap();
        let f = b.add_func("f", proto, linkage::GLOBAL).unwrap();
        let t1 = b.add_decl_tag("bpf_kfunc", f, None).unwrap();
        let t2 = b.add_decl_tag("bpf_fastcall", f, None).unwrap();
        let t3 = b.add_decl_tag("nonnull", f, Some(0)).unwrap();
        (b, f, vec![t1, t2, t3])
    }

    #[test]
    fn adds_impl_with_tags_and_a_shorter_proto() {
        let (mut b, f, tags) = kfunc_btf();
        let before = b.type_count();
        let old_proto = b.get(f).unwrap().type_id();
        rewrite(&mut b, f, b"f", &tags).unwrap();
        // FUNC f_impl, two tags (bpf_kfunc not copied), FUNC_PROTO.
        assert_eq!(b.type_count(), before + 4);
        let impl_f = TypeId(before);
        let t = b.get(impl_f).unwrap();
        assert_eq!(b.name(t.name_off()), "f_impl");
        assert_eq!((t.type_id(), t.vlen()), (old_proto, linkage::GLOBAL));
        let tag = |id: u32| {
            let t = b.get(TypeId(id)).unwrap();
            (
                b.name(t.name_off()).into_owned(),
                t.type_id(),
                t.decl_tag_component_idx(),
            )
        };
        assert_eq!(tag(before + 1), ("bpf_fastcall".into(), impl_f, Some(-1)));
        assert_eq!(tag(before + 2), ("nonnull".into(), impl_f, Some(0)));
        let proto = TypeId(before + 3);
        assert_eq!(b.get(f).unwrap().type_id(), proto);
        let names: Vec<String> = b
            .get(proto)
            .unwrap()
            .params()
            .map(|p| b.name(p.name_off).into_owned())
            .collect();
        assert_eq!(names, ["a"], "stops at the first implicit argument");
        assert_eq!(kbtf_btf::check::check_blob(&b.to_bytes(), None), vec![]);
    }

    #[test]
    fn existing_impl_gets_only_the_proto() {
        let (mut b, f, tags) = kfunc_btf();
        let old_proto = b.get(f).unwrap().type_id();
        b.add_func("f_impl", old_proto, linkage::STATIC).unwrap();
        let before = b.type_count();
        rewrite(&mut b, f, b"f", &tags).unwrap();
        assert_eq!(b.type_count(), before + 1);
        assert_eq!(b.get(f).unwrap().type_id(), TypeId(before));
        // Twice: a second prototype, never deduplicated.
        rewrite(&mut b, f, b"f", &tags).unwrap();
        assert_eq!(b.type_count(), before + 2);
    }

    #[test]
    fn implicit_args_are_pointers_to_two_structs() {
        let mut b = Btf::new();
        let aux = b.add_struct("bpf_prog_aux", 8).unwrap();
        let other = b.add_struct("task_struct", 8).unwrap();
        let meta = b.add_struct("btf_struct_meta", 8).unwrap();
        let td = b.add_typedef("aux_t", aux).unwrap();
        let p_aux = b.add_ptr(aux).unwrap();
        let v = b.add_volatile(p_aux).unwrap();
        let p_other = b.add_ptr(other).unwrap();
        let p_meta = b.add_ptr(meta).unwrap();
        let p_td = b.add_ptr(td).unwrap();
        let f = |ty| is_implicit_arg(&b, ty).unwrap();
        assert!(f(p_aux) && f(v) && f(p_meta));
        assert!(!f(p_other) && !f(aux) && !f(TypeId::VOID));
        assert!(!f(p_td), "typedefs are not skipped");
    }

    #[test]
    fn refuses_a_kfunc_that_is_no_function() {
        let (mut b, f, tags) = kfunc_btf();
        let err = rewrite(&mut b, TypeId(1), b"int", &tags).unwrap_err();
        assert!(err.to_string().contains("is not a FUNC"), "{err}");
        let int = TypeId(1);
        let bad = b.add_func_proto(int).unwrap();
        b.record_mut(f).unwrap()[2] = 1;
        let err = rewrite(&mut b, f, b"f", &tags).unwrap_err();
        assert!(err.to_string().contains("not a FUNC_PROTO"), "{err}");
        let _ = bad;
    }
}
