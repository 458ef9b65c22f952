//! Relocating a split BTF from its distilled base onto a real base, byte
//! for byte what libbpf 1.7.0's `btf__relocate` does: how a module built
//! with a `.BTF.base` ([`Btf::distill_base`]) gets type ids of the running
//! kernel's vmlinux BTF.
//!
//! # The problem
//!
//! The distilled base holds only named INT, FLOAT, ENUM, FWD, STRUCT and
//! UNION records, with sizes but without members or values. Each must be
//! found again in the real base, by name and kind, and by size where the
//! name alone is ambiguous or the size matters (a struct the split embeds,
//! rather than points to, must have kept its size). Then every reference of
//! the split is rewritten: a distilled base id to the real base id it was
//! found as, a split id up or down by the difference of the two bases' type
//! counts, and string offsets likewise.
//!
//! # Phases
//!
//! 1. `validate_distilled_base`: every distilled base type is named and of
//!    one of the six kinds above.
//! 2. `mark_embedded`: a distilled struct or union a split struct or union
//!    holds by value (through typedefs, modifiers, type tags and arrays, not
//!    through a pointer) is marked as needing a size match.
//! 3. `map_distilled_base`: the distilled types are sorted by name, then by
//!    size (largest first). Each named real base type of a matching kind is
//!    looked up in that order: INT, FLOAT, ENUM and ENUM64 by name and size,
//!    FWD by name, STRUCT and UNION by name, and by size too when the real
//!    base has several of that name. Every distilled type found is checked
//!    for compatibility and mapped; found twice is an error, as is a
//!    distilled type found never. Compatible, as libbpf has it: a FWD with
//!    a FWD of the same kind_flag, a STRUCT whose kind_flag is clear or a
//!    UNION whose kind_flag is set (libbpf reads the real type's bitfield
//!    flag there, not the FWD's struct-or-union flag, and kbtf does the
//!    same); an INT with an INT of the same encoding; a FLOAT with a FLOAT;
//!    an ENUM with an ENUM or ENUM64; a STRUCT or UNION with any of the
//!    real types looked up (a FWD too), of the same size if the split
//!    embeds it.
//! 4. `rewrite_ids` and `rewrite_strings`: the split's records, through the
//!    id map and the string map (a distilled base name becomes the real
//!    base's name; a split string moves by the difference of the two bases'
//!    string sections).
//!
//! # Invariants
//!
//! - The split's records keep their order, length and strings; only id and
//!   string-offset words change, so the result's string section is the
//!   split's own, unchanged.
//! - Both bases are base BTF (not split), as libbpf assumes.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::distill::id_slots;
use crate::record;
use crate::{Btf, Error, Kind, Result, StrOff, TypeId};

/// In the id map, a distilled struct or union a split composite embeds,
/// before it is mapped (libbpf's `BTF_IS_EMBEDDED`).
const EMBEDDED: u32 = u32::MAX;

impl Btf {
    /// This split BTF relocated from its distilled base onto `base`:
    /// libbpf 1.7.0's `btf__relocate`. See [the module
    /// documentation](crate::relocate) for how types are matched.
    ///
    /// Fails, naming the type, where libbpf does: a distilled base type that
    /// is anonymous or of another kind, one `base` has no match for, or
    /// several matches of the same size, or a split string that points into
    /// the distilled base but not at a name that was mapped. Also fails when
    /// this BTF has no base, when `base` is that base, or when either base
    /// is itself split.
    pub fn relocate(&self, base: Arc<Btf>) -> Result<Btf> {
        let Some(dist) = self.base.clone() else {
            return Err(Error::BadArgument(
                "relocation needs split BTF, and this BTF has no base".into(),
            ));
        };
        if Arc::ptr_eq(&dist, &base) {
            return Err(Error::BadArgument(
                "relocation onto the base the split BTF already has".into(),
            ));
        }
        if dist.base.is_some() || base.base.is_some() {
            return Err(Error::BadArgument(
                "relocation needs a distilled base and a new base that are not split BTF".into(),
            ));
        }
        let mut r = Relocate::new(self, &dist, &base);
        r.validate_distilled_base()?;
        r.mark_embedded()?;
        r.map_distilled_base()?;
        let mut out = self.clone();
        out.base = Some(base.clone());
        out.start_id = base.type_count();
        out.start_str_off = base.str_end();
        out.ptr_size = std::sync::OnceLock::new();
        r.rewrite_ids(&mut out)?;
        r.rewrite_strings(&mut out)?;
        Ok(out)
    }
}

/// What the phases share.
struct Relocate<'a> {
    split: &'a Btf,
    dist: &'a Btf,
    base: &'a Btf,
    /// Indexed by the split's ids (distilled base ids first): the new id.
    id_map: Vec<u32>,
    /// Indexed by distilled base string offset: the real base's offset.
    str_map: Vec<u32>,
}

/// A distilled type, or the real base type looked up among them: libbpf's
/// `btf_name_info`. Sizes are kept to 31 bits, as libbpf's bitfield does.
#[derive(Clone, Copy)]
struct NameInfo<'a> {
    name: &'a [u8],
    needs_size: bool,
    size: u32,
    id: u32,
}

/// By name, then (when both sides need it) by size, largest first.
fn cmp_name_size(a: &NameInfo<'_>, b: &NameInfo<'_>) -> Ordering {
    a.name.cmp(b.name).then_with(|| {
        if a.needs_size && b.needs_size {
            b.size.cmp(&a.size)
        } else {
            Ordering::Equal
        }
    })
}

impl<'a> Relocate<'a> {
    fn new(split: &'a Btf, dist: &'a Btf, base: &'a Btf) -> Relocate<'a> {
        let nr_dist = dist.type_count();
        let nr_base = base.type_count();
        // Split ids move by the difference of the bases' type counts.
        let id_map = (0..split.type_count())
            .map(|id| {
                if id < nr_dist {
                    0
                } else {
                    id - nr_dist + nr_base
                }
            })
            .collect();
        Relocate {
            split,
            dist,
            base,
            id_map,
            str_map: vec![0; dist.str_end() as usize],
        }
    }

    /// Phase 1: only named INT, FLOAT, ENUM, STRUCT, UNION and FWD.
    fn validate_distilled_base(&self) -> Result<()> {
        for t in self.dist.own_types() {
            let kind = t.kind();
            let what = match kind {
                Kind::Int | Kind::Float | Kind::Enum | Kind::Struct | Kind::Union | Kind::Fwd => {
                    if t.name_off().0 != 0 {
                        continue;
                    }
                    format!("an anonymous {} cannot be in a distilled base", kind.name())
                }
                _ => format!("a {} cannot be in a distilled base", kind.name()),
            };
            return Err(Error::Invalid { id: t.id(), what });
        }
        Ok(())
    }

    /// Phase 2: distilled structs and unions held by value in a split
    /// struct or union.
    fn mark_embedded(&mut self) -> Result<()> {
        let (split, nr_dist) = (self.split, self.dist.type_count());
        for t in split.own_types() {
            if !matches!(t.kind(), Kind::Struct | Kind::Union) {
                continue;
            }
            for m in t.members() {
                // Each step follows one record; a chain longer than the
                // type count loops (typedef A of typedef A).
                let mut next = m.type_id.0;
                let mut steps = 0u32;
                while next != 0 {
                    steps += 1;
                    if steps > split.type_count() {
                        return Err(Error::Invalid {
                            id: t.id(),
                            what: format!(
                                "the type of member {} loops through modifiers or typedefs",
                                split.name(m.name_off)
                            ),
                        });
                    }
                    let inner = split.get(TypeId(next))?;
                    next = match inner.kind() {
                        Kind::Const
                        | Kind::Restrict
                        | Kind::Volatile
                        | Kind::Typedef
                        | Kind::TypeTag => inner.type_id().0,
                        Kind::Array => inner.array().map_or(0, |a| a.elem_type.0),
                        Kind::Struct | Kind::Union => {
                            if next < nr_dist {
                                self.id_map[next as usize] = EMBEDDED;
                            }
                            0
                        }
                        _ => 0,
                    };
                }
            }
        }
        Ok(())
    }

    /// Phase 3: the id map of the distilled base and its string map.
    fn map_distilled_base(&mut self) -> Result<()> {
        let (dist, base) = (self.dist, self.base);
        let nr_dist = dist.type_count();
        // Void is entry 0, as in libbpf: never a match for a named type.
        let mut infos = Vec::with_capacity(nr_dist as usize);
        infos.push(NameInfo {
            name: b"",
            needs_size: true,
            size: 0,
            id: 0,
        });
        for t in dist.own_types() {
            infos.push(NameInfo {
                name: dist.str_at(t.name_off()).unwrap_or_default(),
                needs_size: true,
                size: t.size() & 0x7fff_ffff,
                id: t.id().0,
            });
        }
        // Stable, as glibc's qsort (a merge sort) is on this input.
        infos.sort_by(cmp_name_size);

        // Names of several real structs or unions need a size to pick one.
        let mut name_count = vec![0u8; base.str_end() as usize];
        for t in base.own_types() {
            let off = t.name_off().0 as usize;
            if matches!(t.kind(), Kind::Struct | Kind::Union) && off != 0 {
                if let Some(n) = name_count.get_mut(off) {
                    *n = n.saturating_add(1);
                }
            }
        }

        for base_t in base.own_types() {
            if base_t.name_off().0 == 0 {
                continue;
            }
            let base_kind = base_t.kind();
            let size = base_t.size() & 0x7fff_ffff;
            let (needs_size, size) = match base_kind {
                Kind::Int | Kind::Float | Kind::Enum | Kind::Enum64 => (true, size),
                Kind::Fwd => (false, 0),
                Kind::Struct | Kind::Union => (
                    name_count
                        .get(base_t.name_off().0 as usize)
                        .is_some_and(|&n| n > 1),
                    size,
                ),
                _ => continue,
            };
            let key = NameInfo {
                name: base.str_at(base_t.name_off()).unwrap_or_default(),
                needs_size,
                size,
                id: base_t.id().0,
            };
            let first = infos.partition_point(|v| cmp_name_size(&key, v) == Ordering::Greater);
            for found in infos[first..]
                .iter()
                .take_while(|v| cmp_name_size(&key, v) == Ordering::Equal)
            {
                if found.id == 0 {
                    return Err(Error::Invalid {
                        id: base_t.id(),
                        what: "a base type that matches void in the distilled base".into(),
                    });
                }
                let dist_t = dist.get(TypeId(found.id))?;
                let compatible = match dist_t.kind() {
                    Kind::Fwd => match base_kind {
                        Kind::Fwd => dist_t.kind_flag() == base_t.kind_flag(),
                        Kind::Struct => !base_t.kind_flag(),
                        Kind::Union => base_t.kind_flag(),
                        _ => false,
                    },
                    Kind::Int => {
                        base_kind == Kind::Int
                            && int_encoding(base_t.words()) == int_encoding(dist_t.words())
                    }
                    Kind::Float => base_kind == Kind::Float,
                    Kind::Enum => matches!(base_kind, Kind::Enum | Kind::Enum64),
                    Kind::Struct | Kind::Union => {
                        self.id_map[found.id as usize] != EMBEDDED || base_t.size() == dist_t.size()
                    }
                    _ => false,
                };
                if !compatible {
                    continue;
                }
                let mapped = self.id_map[found.id as usize];
                if mapped != 0 && mapped != EMBEDDED {
                    return Err(Error::Invalid {
                        id: TypeId(found.id),
                        what: format!(
                            "distilled base type '{}' of size {} has several candidates of that size in the base: [{}] and [{}]",
                            String::from_utf8_lossy(key.name),
                            base_t.size(),
                            key.id,
                            mapped
                        ),
                    });
                }
                self.id_map[found.id as usize] = key.id;
                if let Some(s) = self.str_map.get_mut(dist_t.name_off().0 as usize) {
                    *s = base_t.name_off().0;
                }
            }
        }

        for t in dist.own_types() {
            let mapped = self.id_map[t.id().0 as usize];
            if mapped == 0 || mapped == EMBEDDED {
                return Err(Error::Invalid {
                    id: t.id(),
                    what: format!(
                        "distilled base {} '{}' of size {} has no match in the base",
                        t.kind().name(),
                        dist.name(t.name_off()),
                        t.size()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Phase 4a: every type id of the split's records.
    fn rewrite_ids(&self, out: &mut Btf) -> Result<()> {
        for id in out.own_ids().collect::<Vec<_>>() {
            let slots: Vec<usize> = id_slots(&out.get(id)?)?.collect();
            let Some(mut r) = out.record_mut(id) else {
                continue;
            };
            for slot in slots {
                let old = r[slot];
                r[slot] = *self
                    .id_map
                    .get(old as usize)
                    .ok_or(Error::TypeIdOutOfRange {
                        id,
                        target: TypeId(old),
                        last: self.split.type_count() - 1,
                    })?;
            }
        }
        Ok(())
    }

    /// Phase 4b: every string offset of the split's records.
    fn rewrite_strings(&self, out: &mut Btf) -> Result<()> {
        let dist_len = self.dist.str_end();
        let base_len = self.base.str_end();
        for id in out.own_ids().collect::<Vec<_>>() {
            let info = out.get(id)?.info();
            let Some(mut r) = out.record_mut(id) else {
                continue;
            };
            for slot in record::str_off_slots(info) {
                let off = r[slot];
                if off == 0 {
                    continue;
                }
                r[slot] = if off >= dist_len {
                    (off - dist_len)
                        .checked_add(base_len)
                        .ok_or_else(|| Error::Invalid {
                            id,
                            what: format!(
                                "string offset {off} does not fit 32 bits over a base of {base_len} string bytes"
                            ),
                        })?
                } else {
                    match self.str_map.get(off as usize) {
                        Some(&mapped) if mapped != 0 => mapped,
                        _ => {
                            return Err(Error::Invalid {
                                id,
                                what: format!(
                                    "string '{}' at offset {} of the distilled base is not the name of a type mapped to the base",
                                    self.split.name(StrOff(off)),
                                    off
                                ),
                            })
                        }
                    }
                };
            }
        }
        Ok(())
    }
}

/// An INT record's encoding bits (signed, char, bool).
fn int_encoding(words: &[u32]) -> u32 {
    words.get(3).map_or(0, |w| (w >> 24) & 0x0f)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::{Btf, Error, TypeId};

    /// A base and a split over it: `struct s` (embedded in the split's
    /// struct), `int`, and a typedef of a pointer to `struct p`.
    fn sample() -> (Arc<Btf>, Btf) {
        let mut base = Btf::new();
        let int = base.add_int("int", 4, 1).unwrap(); // 1
        let s = base.add_struct("s", 8).unwrap(); // 2
        base.add_field("x", int, 0, 0).unwrap();
        base.add_field("y", int, 32, 0).unwrap();
        let p = base.add_struct("p", 4).unwrap(); // 3
        base.add_field("x", int, 0, 0).unwrap();
        let pp = base.add_ptr(p).unwrap(); // 4
        let base = Arc::new(base);
        let mut split = Btf::new_split(base.clone());
        split.add_struct("u", 24).unwrap();
        split.add_field("s", s, 0, 0).unwrap();
        split.add_field("i", int, 64, 0).unwrap();
        split.add_field("p", pp, 128, 0).unwrap();
        (base, split)
    }

    /// A base like [`sample`]'s with more types before them, so ids move.
    fn bigger_base(s_size: u32) -> Arc<Btf> {
        let mut base = Btf::new();
        base.add_int("char", 1, 2).unwrap();
        let int = base.add_int("int", 4, 1).unwrap();
        base.add_struct("s", s_size).unwrap();
        base.add_field("x", int, 0, 0).unwrap();
        base.add_struct("p", 4).unwrap();
        base.add_field("x", int, 0, 0).unwrap();
        Arc::new(base)
    }

    #[test]
    fn distilled_then_relocated_onto_another_base() {
        let (_, split) = sample();
        let d = split.distill_base().unwrap();
        let base = bigger_base(8);
        let r = d.split.relocate(base.clone()).unwrap();
        assert_eq!(r.start_id(), TypeId(5));
        let u = r.get(TypeId(5)).unwrap();
        assert_eq!(r.name(u.name_off()), "u");
        let members: Vec<_> = u.members().map(|m| m.type_id.0).collect();
        // s is 3 and int is 2 in the new base; the pointer moved into the split.
        assert_eq!(members[..2], [3, 2]);
        let ptr = r.get(TypeId(members[2])).unwrap();
        assert_eq!(ptr.type_id(), TypeId(4), "the pointer points at p");
        // Parses back over the new base.
        Btf::parse_split(&r.to_bytes(), Some(base)).unwrap();
    }

    #[test]
    fn an_embedded_struct_of_another_size_has_no_match() {
        let (_, split) = sample();
        let d = split.distill_base().unwrap();
        let err = d.split.relocate(bigger_base(16)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Invalid { .. }), "{msg}");
        assert!(msg.contains("'s'") && msg.contains("no match"), "{msg}");
    }

    #[test]
    fn relocating_onto_its_own_base_is_refused() {
        let (_, split) = sample();
        let d = split.distill_base().unwrap();
        assert!(matches!(
            d.split.relocate(d.base.clone()),
            Err(Error::BadArgument(_))
        ));
    }

    #[test]
    fn a_distilled_base_with_a_pointer_is_refused_naming_it() {
        let (base, split) = sample();
        // The sample's own base is not distilled: it holds a PTR (id 4).
        let err = split.relocate(bigger_base(8)).unwrap_err().to_string();
        assert!(err.contains("[4]") && err.contains("PTR"), "{err}");
        drop(base);
    }
}
