//! Phase 1: rebuild the own string section from the strings the types use.
//!
//! String offsets are visited record by record, in the order of each
//! record's string slots (name, then member, value or parameter names), and
//! interned into a fresh table in that order. That order is the output's
//! string order. Offset 0 and offsets into the base stay; a split string the
//! base also has moves to the base's copy. A base BTF's fresh table starts
//! with the empty string; a split one starts empty.

use crate::record::str_off_slots;
use crate::{Btf, Error, Info, Result, StrOff, StringTable, TypeId};

/// Rewrites every own string offset of `btf` and returns the new string
/// section, which the caller installs once the whole dedup has succeeded.
pub(super) fn dedup_strings(btf: &mut Btf) -> Result<StringTable> {
    let mut fresh = if btf.base.is_some() {
        StringTable::default()
    } else {
        StringTable::new_base()
    };
    let start = btf.start_str_off;
    let base = btf.base.clone();
    // New offset by old own offset: most offsets recur (every `int` member
    // names the same string), and a lookup here is cheaper than hashing it.
    let mut done = vec![u32::MAX; btf.strings.len() as usize];
    for (i, &rec) in btf.offsets.iter().enumerate() {
        let rec = rec as usize;
        let info = Info(btf.words[rec + 1]);
        for slot in str_off_slots(info) {
            let off = btf.words[rec + slot];
            if off == 0 || off < start {
                continue;
            }
            if let Some(&new) = done.get((off - start) as usize).filter(|&&n| n != u32::MAX) {
                btf.words[rec + slot] = new;
                continue;
            }
            let s = btf
                .strings
                .get(off - start)
                .ok_or(Error::StrOffOutOfRange {
                    id: TypeId(btf.start_id + i as u32),
                    off: StrOff(off),
                    end: btf.start_str_off + btf.strings.len(),
                })?;
            let new = match base.as_deref().and_then(|b| b.find_str(s)) {
                Some(StrOff(in_base)) => in_base,
                None => start + fresh.intern(s),
            };
            done[(off - start) as usize] = new;
            btf.words[rec + slot] = new;
        }
    }
    Ok(fresh)
}
