//! Phase 3: STRUCT and UNION (and TYPEDEF as libbpf 1.7).
//!
//! A struct's hash covers its name, size, member names and offsets but not
//! member types, which are not canonical yet. Each candidate of the same
//! shape gets the graph [equivalence check](super::equiv); the first
//! equivalent one becomes the representative, and without one the struct
//! becomes a candidate itself. A successful check's hypothetical map is then
//! merged into the canonical map ([`Dedup::merge_hypot`]), which resolves
//! forward declarations and maps structs of the candidate graph early.

use super::signature::{equal_typedef, hash_struct, hash_typedef, shallow_equal_struct};
use super::{ty, Dedup, UNPROCESSED};
use crate::{Btf, Error, Kind, Result};

/// The most candidates of one shape (name, size, member names and
/// offsets) a struct is compared with. Each comparison that fails leaves
/// one more candidate, so n such structs cost n²/2 graph walks: 80,000
/// structs `s { struct tN *p; }` took a minute and a half. The Debian 6.12
/// vmlinux needs 829 at most; past this many the input is refused.
pub(crate) const MAX_SAME_SHAPE: usize = 8192;

fn same_shape_limit(btf: &Btf, id: u32) -> Error {
    let t = ty(btf, id);
    Error::Limit(format!(
        "type [{id}]: more than {MAX_SAME_SHAPE} {} types named '{}' of the same layout that are \
         not the same type (real kernels have under a thousand)",
        t.kind().name(),
        btf.name(t.name_off())
    ))
}

pub(super) fn dedup_struct_types(d: &mut Dedup, btf: &Btf) -> Result<()> {
    let mut stack = Vec::new();
    for id in btf.own_ids() {
        dedup_struct_type(d, btf, &mut stack, id.0)?;
    }
    Ok(())
}

fn dedup_struct_type(d: &mut Dedup, btf: &Btf, stack: &mut Vec<(u32, u32)>, id: u32) -> Result<()> {
    // Mapped already, by an earlier struct's merge.
    if d.is_mapped(id) {
        return Ok(());
    }
    let t = ty(btf, id);
    let typedef = t.kind() == Kind::Typedef && d.libbpf_1_7;
    if !matches!(t.kind(), Kind::Struct | Kind::Union) && !typedef {
        return Ok(());
    }
    let hash = if typedef {
        hash_typedef(t.words())
    } else {
        hash_struct(t.words())
    };
    let mut new_id = id;
    let mut cursor = d.table.candidates(hash);
    let mut tried = 0usize;
    while let Some((cand_id, next)) = d.table.next(cursor) {
        cursor = next;
        // A FWD with a colliding hash would pass the check (a FWD matches a
        // struct of its name) and could close a FWD <-> struct loop.
        let shape_equal = if typedef {
            equal_typedef(t.words(), ty(btf, cand_id).words())
        } else {
            shallow_equal_struct(t.words(), ty(btf, cand_id).words())
        };
        if !shape_equal {
            continue;
        }
        tried += 1;
        if tried > MAX_SAME_SHAPE {
            return Err(same_shape_limit(btf, id));
        }
        d.clear_hypot();
        if !d.is_equiv(btf, stack, id, cand_id)? {
            continue;
        }
        d.merge_hypot(btf);
        if d.adjust_canon {
            continue;
        }
        new_id = cand_id;
        break;
    }
    d.map[id as usize] = new_id;
    if new_id == id {
        d.table.append(hash, id);
    }
    Ok(())
}

impl Dedup {
    fn clear_hypot(&mut self) {
        for &id in &self.hypot_list {
            self.hypot[id as usize] = UNPROCESSED;
        }
        self.hypot_list.clear();
        self.adjust_canon = false;
    }

    /// Records what an equivalence check established, in the order the
    /// check visited the canonical ids.
    ///
    /// A canonical FWD whose counterpart is a struct now points at it, even a
    /// base FWD (split FWDs resolve through it). Unless the check needed a
    /// base FWD changed (`adjust_canon`): a candidate FWD points at its
    /// canonical struct, and a candidate struct not yet mapped is mapped to
    /// a canonical struct that already is.
    fn merge_hypot(&mut self, btf: &Btf) {
        for i in 0..self.hypot_list.len() {
            let canon_id = self.hypot_list[i];
            let cand_id = self.hypot[canon_id as usize];
            let t_id = self.resolve(cand_id);
            let c_id = self.resolve(canon_id);
            let t_kind = ty(btf, t_id).kind();
            let c_kind = ty(btf, c_id).kind();
            if t_kind != Kind::Fwd && c_kind == Kind::Fwd {
                self.map[c_id as usize] = t_id;
            }
            if self.adjust_canon {
                continue;
            }
            if t_kind == Kind::Fwd && c_kind != Kind::Fwd {
                self.map[t_id as usize] = c_id;
            }
            if matches!(t_kind, Kind::Struct | Kind::Union)
                && c_kind != Kind::Fwd
                && self.is_mapped(c_id)
                && !self.is_mapped(t_id)
            {
                self.map[t_id as usize] = c_id;
            }
        }
    }
}
