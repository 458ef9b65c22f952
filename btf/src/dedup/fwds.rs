//! Phase 4: resolve the forward declarations no graph comparison reached.
//!
//! A FWD is resolved during the struct phase only when some struct's graph
//! met it next to the full type. A `struct foo;` used only through pointers
//! in one unit never is, so this phase maps each own FWD still standing for
//! itself to *the* canonical struct or union of its name (base included),
//! when its name has exactly one and the FWD's kind flag agrees.

use hashbrown::hash_map::Entry;
use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

use super::{ty, Dedup};
use crate::{Btf, Kind};

/// Marks a name shared by several canonical structs/unions (id 0 is void, never one).
const AMBIGUOUS: u32 = 0;

pub(super) fn resolve_fwds(d: &mut Dedup, btf: &Btf) {
    let mut by_name: HashMap<u32, u32, FxBuildHasher> = HashMap::default();
    for id in 1..btf.type_count() {
        let t = ty(btf, id);
        if !matches!(t.kind(), Kind::Struct | Kind::Union) || d.map[id as usize] != id {
            continue;
        }
        match by_name.entry(t.name_off().0) {
            Entry::Vacant(e) => {
                e.insert(id);
            }
            Entry::Occupied(mut e) => {
                e.insert(AMBIGUOUS);
            }
        }
    }
    for id in btf.own_ids() {
        let id = id.0;
        let t = ty(btf, id);
        if t.kind() != Kind::Fwd || d.map[id as usize] != id {
            continue;
        }
        let Some(&cand_id) = by_name.get(&t.name_off().0) else {
            continue;
        };
        if cand_id == AMBIGUOUS {
            continue;
        }
        let declared = if t.kind_flag() {
            Kind::Union
        } else {
            Kind::Struct
        };
        if ty(btf, cand_id).kind() == declared {
            d.map[id as usize] = cand_id;
        }
    }
}
