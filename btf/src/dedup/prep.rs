//! Phase 0, split BTF only: make the base's types candidates.
//!
//! The base is already deduplicated and must not change, so every base type
//! is its own representative. Each is entered into the candidate table under
//! the hash its kind's phase will look it up by, so split types can merge
//! into base types. VAR and DATASEC are never candidates.

use super::signature::{
    hash_array, hash_common, hash_enum, hash_fnproto, hash_int_decl_tag, hash_struct,
};
use super::table::CandidateTable;
use super::{ty, Dedup};
use crate::{Btf, Kind};

pub(super) fn hash_base(d: &mut Dedup, btf: &Btf) {
    mark_base(d);
    hash_types(&mut d.table, btf, d.start_id);
}

/// [`hash_base`] with the table made beforehand by [`hash_types`].
pub(super) fn take_base(d: &mut Dedup, table: CandidateTable) {
    mark_base(d);
    d.table = table;
}

fn mark_base(d: &mut Dedup) {
    for id in 1..d.start_id {
        d.map[id as usize] = id;
    }
}

/// Enters types `1..end` of `btf` into `table`.
pub(super) fn hash_types(table: &mut CandidateTable, btf: &Btf, end: u32) {
    table.reserve(end as usize);
    for id in 1..end {
        let t = ty(btf, id);
        let w = t.words();
        let hash = match t.kind() {
            Kind::Var | Kind::Datasec => continue,
            Kind::Int | Kind::DeclTag => hash_int_decl_tag(w),
            Kind::Enum | Kind::Enum64 => hash_enum(w),
            Kind::Struct | Kind::Union => hash_struct(w),
            Kind::Array => hash_array(w),
            Kind::FuncProto => hash_fnproto(w),
            // Modifiers, PTR, TYPEDEF, FUNC, FWD, FLOAT; the base parsed,
            // so there are no unknown kinds left to refuse.
            _ => hash_common(w),
        };
        table.append(hash, id);
    }
}
