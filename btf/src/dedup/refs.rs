//! Phase 5: reference types (PTR, TYPEDEF, CONST, VOLATILE, RESTRICT,
//! TYPE_TAG, FUNC, DECL_TAG, ARRAY, FUNC_PROTO).
//!
//! Every chain of references ends at a primitive or a struct, canonical by
//! now, so these are deduplicated bottom up: the referenced types first, their
//! representatives' ids written back into the record, then the record (now
//! final) is hashed whole and compared exactly with its candidates. A cycle
//! made only of reference types (possible in malformed BTF) is an error.
//!
//! libbpf recurses; this walks an explicit stack in the same order (the
//! referenced ids in record order: element before index for ARRAY, return
//! type before parameters for FUNC_PROTO).

use super::signature::{equal, hash_array, hash_common, hash_fnproto, hash_int_decl_tag};
use super::{ty, Dedup, IN_PROGRESS};
use crate::record::COMMON_WORDS;
use crate::{Btf, Error, Info, Kind, Result, TypeId};

pub(super) fn dedup_ref_types(d: &mut Dedup, btf: &mut Btf) -> Result<()> {
    let mut stack = Vec::new();
    for id in btf.own_ids() {
        dedup_ref_type(d, btf, &mut stack, id.0)?;
    }
    Ok(())
}

/// One reference type waiting for the types it references.
struct Frame {
    id: u32,
    /// Index into the record's referenced-id slots of the next one to do.
    next: usize,
}

/// The word positions of the ids a reference type's identity depends on,
/// in libbpf's order.
fn ref_slot(info: Info, i: usize) -> Option<usize> {
    match info.kind() {
        Kind::Const
        | Kind::Volatile
        | Kind::Restrict
        | Kind::Ptr
        | Kind::Typedef
        | Kind::Func
        | Kind::TypeTag
        | Kind::DeclTag => (i == 0).then_some(2),
        Kind::Array => [3, 4].get(i).copied(),
        Kind::FuncProto => match i {
            0 => Some(2),
            _ => (i <= info.vlen() as usize).then(|| COMMON_WORDS + 2 * (i - 1) + 1),
        },
        _ => None,
    }
}

fn dedup_ref_type(d: &mut Dedup, btf: &mut Btf, stack: &mut Vec<Frame>, root: u32) -> Result<u32> {
    if let Some(done) = d.settled(root)? {
        return Ok(done);
    }
    d.map[root as usize] = IN_PROGRESS;
    stack.clear();
    stack.push(Frame { id: root, next: 0 });
    loop {
        let frame = stack.last_mut().expect("the root frame is popped last");
        let id = frame.id;
        let info = ty(btf, id).info();
        if let Some(slot) = ref_slot(info, frame.next) {
            let target = ty(btf, id).words()[slot];
            match d.settled(target)? {
                Some(resolved) => {
                    btf.record_mut(TypeId(id)).expect("own type")[slot] = resolved;
                    frame.next += 1;
                }
                None => {
                    d.map[target as usize] = IN_PROGRESS;
                    stack.push(Frame {
                        id: target,
                        next: 0,
                    });
                }
            }
            continue;
        }
        let new_id = d.settle(btf, id)?;
        stack.pop();
        let Some(parent) = stack.last_mut() else {
            return Ok(new_id);
        };
        let slot =
            ref_slot(ty(btf, parent.id).info(), parent.next).expect("the slot being resolved");
        btf.record_mut(TypeId(parent.id)).expect("own type")[slot] = new_id;
        parent.next += 1;
    }
}

impl Dedup {
    /// The representative of a type that needs no (more) work, `None` for a
    /// reference type still to do, an error for a reference loop.
    fn settled(&self, id: u32) -> Result<Option<u32>> {
        match self.map[id as usize] {
            IN_PROGRESS => Err(Error::Invalid {
                id: TypeId(id),
                what: "reference types form a loop without a struct or union".into(),
            }),
            _ if self.is_mapped(id) => Ok(Some(self.resolve(id))),
            _ => Ok(None),
        }
    }

    /// Picks the representative of a reference type whose referenced ids are final.
    fn settle(&mut self, btf: &Btf, id: u32) -> Result<u32> {
        let t = ty(btf, id);
        let w = t.words();
        let hash = match t.kind() {
            Kind::Const
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Ptr
            | Kind::Typedef
            | Kind::Func
            | Kind::TypeTag => hash_common(w),
            Kind::DeclTag => hash_int_decl_tag(w),
            Kind::Array => hash_array(w),
            Kind::FuncProto => hash_fnproto(w),
            kind => {
                return Err(Error::Invalid {
                    id: TypeId(id),
                    what: format!("a {} was left for the reference type phase", kind.name()),
                })
            }
        };
        let mut new_id = id;
        let mut cursor = self.table.candidates(hash);
        while let Some((cand_id, next)) = self.table.next(cursor) {
            cursor = next;
            if equal(w, ty(btf, cand_id).words()) {
                new_id = cand_id;
                break;
            }
        }
        self.map[id as usize] = new_id;
        if new_id == id {
            self.table.append(hash, id);
        }
        Ok(new_id)
    }
}
