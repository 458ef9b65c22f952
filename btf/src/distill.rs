//! Distilling a split BTF's base, byte for byte what libbpf 1.7.0's
//! `btf__distill_base` does: the `.BTF.base` Linux 6.12+ builds into
//! out-of-tree modules, so that the module's `.BTF` can be relocated onto
//! whatever vmlinux BTF the running kernel has ([`Btf::relocate`]).
//!
//! # The problem
//!
//! A module's split BTF refers to its vmlinux base by type id, and those ids
//! change with every kernel build. A distilled base keeps, of the base, only
//! what identifies the types the split refers to, in a form that survives a
//! rebuild of the kernel: a name, a kind and a size. Everything the split
//! needs beyond that (pointers, typedefs, arrays, function prototypes,
//! anonymous structs and enums) moves into the split itself, since those
//! cannot be found again by name.
//!
//! # Phases
//!
//! 1. `mark_needed`: walk every type id the split's own types hold; each
//!    base type met is needed, and so is every base type it refers to, except
//!    through a named struct or union (which the distilled base keeps without
//!    members). A reference from the split to a base FUNC, VAR, DATASEC or
//!    DECL_TAG is an error: such types cannot be distilled.
//! 2. `add_to_base`: in base id order, the needed INT, FLOAT and FWD types
//!    are copied into a new base BTF; named STRUCT and UNION become members-less
//!    records of the same kind and size; named ENUM and ENUM64 become an ENUM
//!    of the same size without values (libbpf's `btf__add_enum`, which refuses a
//!    size that is not 1, 2, 4 or 8).
//! 3. `copy_split`: the split's own types are copied, in order, into a new
//!    split BTF over that base, then the needed base types the base did not
//!    take (`add_to_split`: anonymous STRUCT, UNION, ENUM and ENUM64; ARRAY,
//!    TYPEDEF, PTR, modifiers, FUNC_PROTO, TYPE_TAG) are appended, in base id
//!    order. Strings are interned as the records are copied: a string the new
//!    base has is taken from it, any other is appended to the split's strings.
//! 4. `remap_ids`: every type id in the new split is rewritten: a needed base
//!    type to where phase 2 or 3 put it, a split type down by the number of
//!    base types that were dropped.
//!
//! # Invariants
//!
//! - The distilled base holds only named INT, FLOAT, FWD, STRUCT, UNION and
//!   ENUM types (plus any anonymous INT, FLOAT or FWD the split needed, which
//!   libbpf keeps and relocation then refuses), none of them referring to
//!   another type.
//! - The split's own types keep their order and come first; the base types
//!   moved into the split follow, in their base order.
//! - Type ids are copied unchanged until phase 4, so both copying phases read
//!   the source's ids, and the id map is indexed by source id.

use std::sync::Arc;

use crate::record;
use crate::{Btf, Error, Info, Kind, Result, StrOff, TypeId};

/// What [`Btf::distill_base`] makes: the distilled base and the split BTF
/// rewritten over it.
#[derive(Clone, Debug)]
pub struct Distilled {
    /// The distilled base, the `.BTF.base` of a module.
    pub base: Arc<Btf>,
    /// The split BTF over [`Distilled::base`], the module's new `.BTF`.
    pub split: Btf,
}

impl Btf {
    /// Distills this split BTF's base: libbpf 1.7.0's `btf__distill_base`.
    /// See [the module documentation](crate::distill) for what is kept.
    ///
    /// Fails, as libbpf does, when this BTF has no base, when one of its
    /// types refers to a base type of a kind that cannot be distilled (the
    /// error names that base type, as libbpf's warning does), or when a
    /// named base enum has a size libbpf cannot add.
    pub fn distill_base(&self) -> Result<Distilled> {
        if self.base.is_none() {
            return Err(Error::BadArgument(
                "distilling a base needs split BTF, and this BTF has no base".into(),
            ));
        }
        let mut dist = Distill::new(self);
        for id in self.own_ids() {
            dist.mark_needed(id)?;
        }
        let mut base = Btf::new();
        base.set_endian(self.endian);
        dist.add_to_base(&mut base)?;
        let base = Arc::new(base);
        let mut split = Btf::new_split(base.clone());
        dist.copy_split(&mut split)?;
        dist.add_to_split(&mut split)?;
        dist.remap_ids(&mut split, base.type_count());
        Ok(Distilled { base, split })
    }
}

/// The type-id words of a record as libbpf's field iterator walks them:
/// kbtf's slots, plus the `type` word of a FWD (always 0 in valid BTF, but
/// libbpf follows it). Kinds libbpf does not know are an error.
pub(crate) fn id_slots(t: &crate::TypeRef<'_>) -> Result<impl Iterator<Item = usize>> {
    let info = t.info();
    if let Kind::Unknown(raw) = info.kind() {
        return Err(Error::Invalid {
            id: t.id(),
            what: format!("kind {raw} is unknown to libbpf's type walk"),
        });
    }
    let fwd = (info.kind() == Kind::Fwd).then_some(2);
    Ok(record::type_id_slots(info).chain(fwd))
}

/// The state shared by the phases: the source split BTF and the map from
/// its base ids to where they went.
struct Distill<'a> {
    src: &'a Btf,
    /// The source split's first own id: ids below it are base ids.
    split_start: u32,
    /// Indexed by source base id: 0 when the split does not need the type;
    /// the id itself once `mark_needed` found it needed; its new id once a
    /// copying phase placed it.
    id_map: Vec<u32>,
}

impl<'a> Distill<'a> {
    fn new(src: &'a Btf) -> Distill<'a> {
        Distill {
            src,
            split_start: src.start_id,
            id_map: vec![0; src.start_id as usize],
        }
    }

    /// Phase 1: marks every base type the split type `id` needs, depth
    /// first in the order libbpf recurses (so that the first error is the
    /// one libbpf reports), with an explicit stack: a chain of base types
    /// can be as long as the base.
    fn mark_needed(&mut self, id: TypeId) -> Result<()> {
        let src = self.src;
        let mut stack = vec![(src.get(id)?, id_slots(&src.get(id)?)?)];
        while let Some((t, slots)) = stack.last_mut() {
            let Some(slot) = slots.next() else {
                stack.pop();
                continue;
            };
            let (from, target) = (t.id(), t.words()[slot]);
            if target == 0 || target >= self.split_start || self.id_map[target as usize] > 0 {
                continue;
            }
            let base_t = src.get(TypeId(target))?;
            let kind = base_t.kind();
            if !matches!(
                kind,
                Kind::Int
                    | Kind::Float
                    | Kind::Fwd
                    | Kind::Array
                    | Kind::Struct
                    | Kind::Union
                    | Kind::Typedef
                    | Kind::Enum
                    | Kind::Enum64
                    | Kind::Ptr
                    | Kind::Const
                    | Kind::Restrict
                    | Kind::Volatile
                    | Kind::FuncProto
                    | Kind::TypeTag
            ) {
                return Err(Error::Invalid {
                    id: TypeId(target),
                    what: format!(
                        "a {} of the base, referred to by type [{from}], cannot be distilled",
                        kind.name()
                    ),
                });
            }
            self.id_map[target as usize] = target;
            // A named struct or union is distilled without members, so what
            // its members refer to is not needed on its account.
            if matches!(kind, Kind::Struct | Kind::Union) && base_t.name_off().0 != 0 {
                continue;
            }
            let slots = id_slots(&base_t)?;
            stack.push((base_t, slots));
        }
        Ok(())
    }

    /// The needed base types, in id order.
    fn needed(&self) -> impl Iterator<Item = TypeId> + '_ {
        (1..self.split_start)
            .filter(|&i| self.id_map[i as usize] != 0)
            .map(TypeId)
    }

    /// Phase 2: the needed types that the distilled base keeps.
    fn add_to_base(&mut self, base: &mut Btf) -> Result<()> {
        let src = self.src;
        for id in self.needed().collect::<Vec<_>>() {
            let t = src.get(id)?;
            let named = t.name_off().0 != 0;
            let new_id = match t.kind() {
                Kind::Int | Kind::Float | Kind::Fwd => copy_record(src, &t, base)?,
                kind @ (Kind::Struct | Kind::Union) if named => {
                    let name = base.add_str(src_name(src, &t)?)?;
                    base.add_type(name, Info::new(kind, false, 0), t.size(), &[])?
                }
                Kind::Enum | Kind::Enum64 if named => {
                    let size = t.size();
                    if !size.is_power_of_two() || size > 8 {
                        return Err(Error::Invalid {
                            id,
                            what: format!(
                                "a {}-byte {} cannot be distilled: an ENUM's size must be 1, 2, 4 or 8",
                                size,
                                t.kind().name()
                            ),
                        });
                    }
                    let name = base.add_str(src_name(src, &t)?)?;
                    base.add_type(name, Info::new(Kind::Enum, false, 0), size, &[])?
                }
                _ => continue,
            };
            self.id_map[id.0 as usize] = new_id.0;
        }
        Ok(())
    }

    /// Phase 3a: the split's own types, in order, ids untouched.
    fn copy_split(&self, split: &mut Btf) -> Result<()> {
        for t in self.src.own_types() {
            copy_record(self.src, &t, split)?;
        }
        Ok(())
    }

    /// Phase 3b: the needed base types the distilled base did not take.
    fn add_to_split(&mut self, split: &mut Btf) -> Result<()> {
        let src = self.src;
        for id in self.needed().collect::<Vec<_>>() {
            let t = src.get(id)?;
            let named = t.name_off().0 != 0;
            match t.kind() {
                Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 if !named => {}
                Kind::Array
                | Kind::Typedef
                | Kind::Ptr
                | Kind::Const
                | Kind::Restrict
                | Kind::Volatile
                | Kind::FuncProto
                | Kind::TypeTag => {}
                _ => continue,
            }
            let new_id = copy_record(src, &t, split)?;
            self.id_map[id.0 as usize] = new_id.0;
        }
        Ok(())
    }

    /// Phase 4: every type id of the new split, through the id map.
    fn remap_ids(&self, split: &mut Btf, new_base_count: u32) {
        // Split ids move down by the base types the distilled base dropped.
        let shift = self.split_start - new_base_count;
        let (id_map, split_start) = (&self.id_map, self.split_start);
        let remap = |id: &mut u32| match id_map.get(*id as usize) {
            Some(&mapped) if mapped != 0 => *id = mapped,
            _ if *id >= split_start => *id -= shift,
            _ => {}
        };
        split.for_each_type_id_mut(remap);
        // kbtf's id slots skip a FWD's `type` word, which libbpf remaps too.
        for id in split.own_ids().collect::<Vec<_>>() {
            if let Some(mut r) = split.record_mut(id) {
                if Info(r[1]).kind() == Kind::Fwd {
                    remap(&mut r[2]);
                }
            }
        }
    }
}

/// The name of `t` in `src`, an error naming the type where its offset
/// leads nowhere.
fn src_name<'s>(src: &'s Btf, t: &crate::TypeRef<'_>) -> Result<&'s [u8]> {
    src.str_at(t.name_off()).ok_or_else(|| Error::Invalid {
        id: t.id(),
        what: format!("name offset {} is not a string", t.name_off()),
    })
}

/// Appends a copy of `t`'s record to `dst`, its strings interned in `dst`
/// (libbpf's `btf_add_type`); type ids are copied as they are.
fn copy_record(src: &Btf, t: &crate::TypeRef<'_>, dst: &mut Btf) -> Result<TypeId> {
    let mut words = t.words().to_vec();
    for slot in record::str_off_slots(t.info()) {
        let off = words[slot];
        if off == 0 {
            continue;
        }
        let s = src.str_at(StrOff(off)).ok_or_else(|| Error::Invalid {
            id: t.id(),
            what: format!("string offset {off} is not a string"),
        })?;
        words[slot] = dst.add_str(s)?.0;
    }
    dst.add_record(&words)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::{Btf, Error, Info, Kind};

    /// A base with `int`, `struct s { int x; }`, a pointer to it, a typedef
    /// of the pointer and an anonymous enum; a split referring to the
    /// typedef and the enum.
    fn sample() -> (Arc<Btf>, Btf) {
        let mut base = Btf::new();
        let int = base.add_int("int", 4, 1).unwrap(); // 1
        let s = base.add_struct("s", 4).unwrap(); // 2
        base.add_field("x", int, 0, 0).unwrap();
        let p = base.add_ptr(s).unwrap(); // 3
        let td = base.add_typedef("sp", p).unwrap(); // 4
        let e = base.add_enum("", 4).unwrap(); // 5
        base.add_enum_value("A", 1).unwrap();
        let base = Arc::new(base);
        let mut split = Btf::new_split(base.clone());
        let u = split.add_struct("u", 16).unwrap(); // 6
        split.add_field("p", td, 0, 0).unwrap();
        split.add_field("e", e, 64, 0).unwrap();
        split.add_ptr(u).unwrap(); // 7
        (base, split)
    }

    #[test]
    fn named_structs_lose_their_members_and_references_move_to_the_split() {
        let (_, split) = sample();
        let d = split.distill_base().unwrap();
        // The base keeps `struct s` (members gone); `int` is not needed
        // since only the members of `s` referred to it.
        assert_eq!(d.base.type_count(), 2);
        let s = d.base.get(crate::TypeId(1)).unwrap();
        assert_eq!((s.kind(), s.vlen(), s.size()), (Kind::Struct, 0, 4));
        assert_eq!(d.base.name(s.name_off()), "s");
        // The split: u (2), ptr to u (3), then ptr to s (4), typedef (5), enum (6).
        let kinds: Vec<_> = d.split.own_types().map(|t| t.kind()).collect();
        assert_eq!(
            kinds,
            [
                Kind::Struct,
                Kind::Ptr,
                Kind::Ptr,
                Kind::Typedef,
                Kind::Enum
            ]
        );
        let u = d.split.get(crate::TypeId(2)).unwrap();
        let members: Vec<_> = u.members().map(|m| m.type_id.0).collect();
        assert_eq!(members, [5, 6]);
        assert_eq!(d.split.get(crate::TypeId(3)).unwrap().type_id().0, 2);
        assert_eq!(d.split.get(crate::TypeId(4)).unwrap().type_id().0, 1);
        assert_eq!(d.split.get(crate::TypeId(5)).unwrap().type_id().0, 4);
    }

    #[test]
    fn a_base_without_a_base_is_refused() {
        let (base, _) = sample();
        assert!(matches!(base.distill_base(), Err(Error::BadArgument(_))));
    }

    #[test]
    fn a_reference_to_a_base_func_is_refused_naming_the_type() {
        let mut base = Btf::new();
        let proto = base
            .add_type(
                crate::StrOff(0),
                Info::new(Kind::FuncProto, false, 0),
                0,
                &[],
            )
            .unwrap();
        let name = base.add_str(b"f").unwrap();
        let f = base
            .add_type(name, Info::new(Kind::Func, false, 0), proto.0, &[])
            .unwrap();
        let mut split = Btf::new_split(Arc::new(base));
        let ptr = split.add_ptr(f).unwrap();
        let err = split.distill_base().unwrap_err();
        assert!(matches!(err, Error::Invalid { id, .. } if id == f), "{err}");
        let err = err.to_string();
        assert!(err.contains(&format!("[{ptr}]")), "{err}");
        assert!(err.contains("FUNC"), "{err}");
    }
}
