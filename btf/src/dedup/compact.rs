//! Phase 6: keep the representatives, renumber, and rewrite every type id.
//!
//! Own types with `map[id] == id` are kept in input order and numbered from
//! the first own id; base ids never change. The hypothetical map, free now,
//! becomes the old id to new id table. Every type id in the kept records
//! then becomes `new_id[resolve(id)]`.

use super::{Dedup, MAX_NR_TYPES, UNPROCESSED};
use crate::record::type_id_slots;
use crate::{Btf, Error, Info, Kind, Result, TypeId};

/// Builds the compacted records; the caller installs them.
pub(super) fn compact_and_remap(d: &mut Dedup, btf: &Btf) -> Result<(Vec<u32>, Vec<u32>)> {
    let new_id = &mut d.hypot;
    for (id, slot) in new_id.iter_mut().enumerate() {
        *slot = if (id as u32) < d.start_id {
            id as u32
        } else {
            UNPROCESSED
        };
    }
    let mut words = Vec::with_capacity(btf.words.len());
    let mut offsets = Vec::new();
    let mut next = d.start_id;
    for (i, &start) in btf.offsets.iter().enumerate() {
        let id = d.start_id + i as u32;
        if d.map[id as usize] != id {
            continue;
        }
        let end = btf
            .offsets
            .get(i + 1)
            .map_or(btf.words.len(), |&e| e as usize);
        offsets.push(words.len() as u32);
        words.extend_from_slice(&btf.words[start as usize..end]);
        new_id[id as usize] = next;
        next += 1;
    }

    for (i, &start) in offsets.iter().enumerate() {
        let start = start as usize;
        let info = Info(words[start + 1]);
        // libbpf visits a FWD's third word as a type id too; it is 0 in any
        // BTF a compiler made, which maps to 0.
        let fwd = (info.kind() == Kind::Fwd).then_some(2);
        for slot in type_id_slots(info).chain(fwd) {
            let old = words[start + slot];
            let new = d.hypot[d.resolve(old) as usize];
            if new > MAX_NR_TYPES {
                return Err(Error::Invalid {
                    id: TypeId(d.start_id + i as u32),
                    what: format!("dedup left referenced type [{old}] without a representative"),
                });
            }
            words[start + slot] = new;
        }
    }
    Ok((words, offsets))
}

/// Old own id to new id, once [`compact_and_remap`] made the new ids.
pub(super) fn id_map(d: &Dedup, btf: &Btf) -> Vec<TypeId> {
    (0..btf.own_ids().len() as u32)
        .map(|i| TypeId(d.hypot[d.resolve(d.start_id + i) as usize]))
        .collect()
}
