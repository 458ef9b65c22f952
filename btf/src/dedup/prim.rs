//! Phase 2: types that reference no other type (INT, FLOAT, FWD, ENUM, ENUM64).
//!
//! Each is compared with the candidates of its hash in table order; the first
//! equal one becomes its representative, and without one it becomes a
//! candidate itself. Enums hash by name only, so a forward declaration
//! (vlen 0) meets full enums of its name: a forward merges into the first
//! compatible candidate, and a full enum redirects every compatible canonical
//! forward it passes to itself (base forwards included: split references to
//! them then resolve to the full enum).

use super::signature::{
    compat_enum, equal, hash_common, hash_enum, hash_int_decl_tag, is_enum_fwd,
};
use super::{ty, Dedup};
use crate::{Btf, Kind};

pub(super) fn dedup_prim_types(d: &mut Dedup, btf: &Btf) {
    for id in btf.own_ids() {
        dedup_prim_type(d, btf, id.0);
    }
}

fn dedup_prim_type(d: &mut Dedup, btf: &Btf, id: u32) {
    let t = ty(btf, id);
    let w = t.words();
    let hash = match t.kind() {
        Kind::Int => hash_int_decl_tag(w),
        Kind::Enum | Kind::Enum64 => hash_enum(w),
        Kind::Fwd | Kind::Float => hash_common(w),
        _ => return,
    };
    let is_enum = matches!(t.kind(), Kind::Enum | Kind::Enum64);
    let mut new_id = id;
    let mut cursor = d.table.candidates(hash);
    while let Some((cand_id, next)) = d.table.next(cursor) {
        cursor = next;
        let cand = ty(btf, cand_id).words();
        if equal(w, cand) {
            new_id = cand_id;
            break;
        }
        if is_enum && compat_enum(w, cand) {
            if is_enum_fwd(w) {
                new_id = cand_id;
                break;
            }
            d.map[cand_id as usize] = id;
        }
    }
    d.map[id as usize] = new_id;
    if new_id == id {
        d.table.append(hash, id);
    }
}
