//! Reordering a BTF's types, every reference rewritten: what libbpf's
//! `btf__permute` does, and the sort by name that resolve_btfids 7.x
//! applies before it writes `.BTF` (so that the kernel can look types up by
//! name with a binary search).
//!
//! Only a BTF's own types move: a base's from id 1 (void stays 0), a split
//! BTF's from its first id, its base untouched. A reference to a type that
//! moved is rewritten to its new id; a reference into the base (or to void)
//! stays as it is. Strings, the header and the kind layout do not change,
//! so the blob keeps its length.
//!
//! ```
//! use kbtf_btf::permute::sort_by_name;
//! use kbtf_btf::{linkage, Btf, TypeId};
//!
//! let mut btf = Btf::new();
//! let int = btf.add_int("int", 4, 0).unwrap(); // [1]
//! let ptr = btf.add_ptr(int).unwrap(); // [2], anonymous
//! let proto = btf.add_func_proto(int).unwrap(); // [3], anonymous
//! btf.add_func_param("p", ptr).unwrap();
//! btf.add_func("f", proto, linkage::STATIC).unwrap(); // [4]
//! let new_ids = sort_by_name(&mut btf).unwrap();
//! // Anonymous types first (in their old order), then "f" < "int".
//! assert_eq!(new_ids, [TypeId(4), TypeId(1), TypeId(2), TypeId(3)]);
//! assert_eq!(btf.get(TypeId(3)).unwrap().type_id(), TypeId(2), "f's prototype");
//! assert_eq!(btf.get(TypeId(1)).unwrap().type_id(), TypeId(4), "the pointer to int");
//! ```

use crate::record::type_id_slots;
use crate::{Btf, Error, Info, Result, TypeId};

/// Puts this BTF's own types in the order `order` gives: `order[k]` is the
/// old id of the type that becomes `start_id + k`. `order` must name each
/// own type exactly once (libbpf's `btf__permute` also drops types; kbtf
/// has no use for that). Every type-id word of every own record is
/// rewritten; a reference past the last type is an error.
///
/// Returns each own type's new id, indexed by `old id - start_id`.
pub fn permute(btf: &mut Btf, order: &[TypeId]) -> Result<Vec<TypeId>> {
    let start = btf.start_id;
    let count = btf.offsets.len();
    if order.len() != count {
        return Err(Error::Invalid {
            id: TypeId(start),
            what: format!(
                "a permutation of {} types given for a BTF of {count} own types",
                order.len()
            ),
        });
    }
    let end = btf.type_count();
    let mut new_id = vec![TypeId(0); count];
    for (k, &old) in order.iter().enumerate() {
        let slot = old
            .0
            .checked_sub(start)
            .and_then(|i| new_id.get_mut(i as usize))
            .ok_or_else(|| Error::Invalid {
                id: old,
                what: format!("not one of the BTF's own types [{start}, {end})"),
            })?;
        if slot.0 != 0 {
            return Err(Error::Invalid {
                id: old,
                what: "given twice in a permutation".into(),
            });
        }
        *slot = TypeId(start + k as u32);
    }

    let mut words = Vec::with_capacity(btf.words.len());
    let mut offsets = Vec::with_capacity(count);
    for &old in order {
        let i = (old.0 - start) as usize;
        let from = btf.offsets[i] as usize;
        let to = btf
            .offsets
            .get(i + 1)
            .map_or(btf.words.len(), |&e| e as usize);
        let at = words.len();
        offsets.push(at as u32);
        words.extend_from_slice(&btf.words[from..to]);
        let info = Info(words[at + 1]);
        for slot in type_id_slots(info) {
            let Some(w) = words.get_mut(at + slot) else {
                continue;
            };
            if *w < start {
                continue;
            }
            if *w >= end {
                return Err(Error::Invalid {
                    id: old,
                    what: format!("refers to type {}, past the last type {}", *w, end - 1),
                });
            }
            *w = new_id[(*w - start) as usize].0;
        }
    }
    btf.words = words;
    btf.offsets = offsets;
    btf.ptr_size = std::sync::OnceLock::new();
    Ok(new_id)
}

/// Sorts this BTF's own types by name (byte order, as `strcmp`), types of
/// the same name (anonymous ones included, which come first) in their old
/// order: resolve_btfids 7.x's `sort_btf_by_name`. Returns each own type's
/// new id, indexed by `old id - start_id`.
pub fn sort_by_name(btf: &mut Btf) -> Result<Vec<TypeId>> {
    let mut keyed: Vec<(&[u8], TypeId)> = Vec::with_capacity(btf.offsets.len());
    for id in btf.own_ids() {
        let off = btf.get(id)?.name_off();
        let name = btf.str_at(off).ok_or_else(|| Error::Invalid {
            id,
            what: format!("name offset {off} is outside the string section"),
        })?;
        keyed.push((name, id));
    }
    // (name, id) pairs are all distinct: an unstable sort gives the one order.
    keyed.sort_unstable();
    let order: Vec<TypeId> = keyed.into_iter().map(|(_, id)| id).collect();
    permute(btf, &order)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{linkage, Kind};

    fn names(btf: &Btf) -> Vec<String> {
        btf.own_types()
            .map(|t| format!("{}:{}", t.kind().name(), btf.name(t.name_off())))
            .collect()
    }

    #[test]
    fn base_sort_moves_every_reference() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 0).unwrap(); // 1
        let s = b.add_struct("zeta", 8).unwrap(); // 2
        b.add_field("v", int, 0, 0).unwrap();
        let ptr = b.add_ptr(s).unwrap(); // 3
        let arr = b.add_array(int, int, 4).unwrap(); // 4
        let proto = b.add_func_proto(int).unwrap(); // 5
        b.add_func_param("a", arr).unwrap();
        b.add_func_param("b", ptr).unwrap();
        let f = b.add_func("alpha", proto, linkage::GLOBAL).unwrap(); // 6
        b.add_decl_tag("bpf_kfunc", f, None).unwrap(); // 7
        let v = b.add_var("int", int, linkage::GLOBAL).unwrap(); // 8: same name as the INT
        b.add_datasec(".data", 4).unwrap(); // 9
        b.add_datasec_var(v, 0, 4).unwrap();
        let before = b.to_bytes();

        let map = sort_by_name(&mut b).unwrap();
        // Anonymous (ptr 3, array 4, proto 5) first, then ".data", "alpha",
        // "bpf_kfunc", "int" (INT 1 before VAR 8), "zeta".
        let ids: Vec<u32> = map.iter().map(|t| t.0).collect();
        assert_eq!(ids, [7, 9, 1, 2, 3, 5, 6, 8, 4]);
        assert_eq!(
            names(&b),
            [
                "PTR:",
                "ARRAY:",
                "FUNC_PROTO:",
                "DATASEC:.data",
                "FUNC:alpha",
                "DECL_TAG:bpf_kfunc",
                "INT:int",
                "VAR:int",
                "STRUCT:zeta"
            ]
        );
        let t = |id: u32| b.get(TypeId(id)).unwrap();
        assert_eq!(t(1).type_id(), TypeId(9), "ptr -> zeta");
        let a = t(2).array().unwrap();
        assert_eq!((a.elem_type, a.index_type), (TypeId(7), TypeId(7)));
        assert_eq!(t(3).type_id(), TypeId(7), "proto returns int");
        let params: Vec<TypeId> = t(3).params().map(|p| p.type_id).collect();
        assert_eq!(params, [TypeId(2), TypeId(1)]);
        assert_eq!(t(4).datasec_vars().next().unwrap().type_id, TypeId(8));
        assert_eq!(t(5).type_id(), TypeId(3), "alpha's proto");
        assert_eq!(t(6).type_id(), TypeId(5), "tag on alpha");
        assert_eq!(t(8).type_id(), TypeId(7), "var of int");
        assert_eq!(t(9).members().next().unwrap().type_id, TypeId(7));
        assert_eq!(crate::check::check_blob(&b.to_bytes(), None), vec![]);
        let after = b.to_bytes();
        assert_eq!(after.len(), before.len(), "strings and header unchanged");

        // Sorting again changes nothing.
        let again = sort_by_name(&mut b).unwrap();
        assert!(again.iter().enumerate().all(|(i, t)| t.0 == i as u32 + 1));
        assert_eq!(b.to_bytes(), after);
    }

    #[test]
    fn split_sort_moves_only_own_types() {
        let mut base = Btf::new();
        let int = base.add_int("int", 4, 0).unwrap(); // 1
        let zz = base.add_struct("zz", 4).unwrap(); // 2
        base.add_field("x", int, 0, 0).unwrap();
        let base = Arc::new(base);
        let base_bytes = base.to_bytes();

        let mut s = Btf::new_split(base.clone());
        let t3 = s.add_struct("b", 4).unwrap(); // 3
        s.add_field("x", int, 0, 0).unwrap();
        let p4 = s.add_ptr(t3).unwrap(); // 4
        let p5 = s.add_ptr(zz).unwrap(); // 5
        s.add_typedef("a", p4).unwrap(); // 6
        s.add_typedef("c", p5).unwrap(); // 7
        let map = sort_by_name(&mut s).unwrap();
        let ids: Vec<u32> = map.iter().map(|t| t.0).collect();
        // ptr 4, ptr 5, "a" 6, "b" 3, "c" 7 -> 3, 4, 5, 6, 7
        assert_eq!(ids, [6, 3, 4, 5, 7]);
        assert_eq!(s.get(TypeId(3)).unwrap().type_id(), TypeId(6), "ptr -> b");
        assert_eq!(s.get(TypeId(4)).unwrap().type_id(), zz, "base ref kept");
        assert_eq!(s.get(TypeId(5)).unwrap().type_id(), TypeId(3));
        assert_eq!(s.get(TypeId(7)).unwrap().type_id(), TypeId(4));
        assert_eq!(
            s.get(TypeId(6)).unwrap().members().next().unwrap().type_id,
            int
        );
        assert_eq!(base.to_bytes(), base_bytes);
        let blob = s.to_bytes();
        let back = Btf::parse_split(&blob, Some(base)).unwrap();
        assert_eq!(back.get(TypeId(7)).unwrap().kind(), Kind::Typedef);
    }

    #[test]
    fn refuses_what_is_no_permutation() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 0).unwrap();
        b.add_ptr(int).unwrap();
        assert!(permute(&mut b, &[TypeId(1)]).is_err(), "too short");
        assert!(permute(&mut b, &[TypeId(1), TypeId(1)]).is_err(), "twice");
        assert!(permute(&mut b, &[TypeId(0), TypeId(1)]).is_err(), "void");
        assert!(
            permute(&mut b, &[TypeId(3), TypeId(1)]).is_err(),
            "past the end"
        );
        // A dangling reference is refused, not carried along.
        let mut d = Btf::new();
        d.add_int("int", 4, 0).unwrap();
        d.add_type(crate::StrOff(0), Info::new(Kind::Ptr, false, 0), 9, &[])
            .unwrap();
        let err = permute(&mut d, &[TypeId(2), TypeId(1)]).unwrap_err();
        assert!(err.to_string().contains("refers to type 9"), "{err}");
        let ok = permute(&mut b, &[TypeId(2), TypeId(1)]).unwrap();
        assert_eq!(ok, [TypeId(2), TypeId(1)]);
        assert_eq!(b.get(TypeId(1)).unwrap().type_id(), TypeId(2));
    }
}
