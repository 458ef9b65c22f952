//! Lookups a BPF tool needs on top of raw records: types by name (with an
//! index built once), through modifiers and typedefs, sizes and
//! alignments, and members by name through anonymous structs and unions,
//! as CO-RE relocation does (`task_struct.pid`).
//!
//! ```no_run
//! use kbtf_btf::{Btf, Kind};
//!
//! let vmlinux = Btf::from_file("/sys/kernel/btf/vmlinux")?;
//! let task = vmlinux.find_by_name_kind(b"task_struct", Kind::Struct).unwrap();
//! let pid = vmlinux.find_member(task, "pid")?.unwrap();
//! println!("task_struct.pid at byte {}", pid.bit_offset / 8);
//! # Ok::<(), kbtf_btf::Error>(())
//! ```
//!
//! Walks through references are bounded by [`MAX_CHAIN`]: a BTF with a
//! loop of typedefs or modifiers gives an error, not a hang.

use std::collections::HashMap;

use crate::{Btf, Error, Kind, Result, TypeId};

/// The longest chain of modifiers, typedefs or nested anonymous members
/// followed (libbpf gives up at 32 for modifiers; kernels nest far less).
pub const MAX_CHAIN: usize = 32;

/// A member found by name, possibly inside anonymous members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoundMember {
    /// The member's type.
    pub ty: TypeId,
    /// Offset from the start of the outer type, in bits.
    pub bit_offset: u32,
    /// Bits of a bitfield member, 0 for others.
    pub bitfield_size: u32,
}

/// Every type id by name, built once for many lookups (a linear scan per
/// lookup costs a vmlinux's 100,000 types each time).
#[derive(Debug, Default)]
pub struct NameIndex {
    ids: HashMap<Vec<u8>, Vec<TypeId>>,
}

impl NameIndex {
    /// Indexes every named type of `btf` and its bases.
    pub fn new(btf: &Btf) -> NameIndex {
        let mut ids: HashMap<Vec<u8>, Vec<TypeId>> = HashMap::new();
        for id in btf.all_ids() {
            let Some(t) = btf.type_by_id(id) else {
                continue;
            };
            match btf.str_at(t.name_off()) {
                Some(name) if !name.is_empty() => ids.entry(name.to_vec()).or_default().push(id),
                _ => {}
            }
        }
        NameIndex { ids }
    }

    /// Every type named `name`, in id order.
    pub fn all(&self, name: &str) -> &[TypeId] {
        self.ids.get(name.as_bytes()).map_or(&[], Vec::as_slice)
    }

    /// The first type named `name` of `kind`.
    pub fn find(&self, btf: &Btf, name: &str, kind: Kind) -> Option<TypeId> {
        self.all(name)
            .iter()
            .copied()
            .find(|&id| btf.type_by_id(id).is_some_and(|t| t.kind() == kind))
    }
}

impl Btf {
    /// The first type named `name`, of any kind.
    pub fn find_by_name(&self, name: &str) -> Option<TypeId> {
        self.all_ids().find(|&id| {
            self.type_by_id(id)
                .is_some_and(|t| self.str_at(t.name_off()) == Some(name.as_bytes()))
        })
    }

    /// Every type named `name`, in id order.
    pub fn find_all_by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = TypeId> + 'a {
        self.all_ids().filter(move |&id| {
            self.type_by_id(id)
                .is_some_and(|t| self.str_at(t.name_off()) == Some(name.as_bytes()))
        })
    }

    /// The type `id` names once modifiers (const, volatile, restrict,
    /// type tags) and typedefs are skipped: libbpf's
    /// `skip_mods_and_typedefs`. `void` stays `void`.
    pub fn skip_mods_and_typedefs(&self, id: TypeId) -> Result<TypeId> {
        self.follow(id, |k| {
            matches!(
                k,
                Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag | Kind::Typedef
            )
        })
    }

    /// Like [`Btf::skip_mods_and_typedefs`], but typedefs are kept.
    pub fn skip_mods(&self, id: TypeId) -> Result<TypeId> {
        self.follow(id, |k| {
            matches!(
                k,
                Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag
            )
        })
    }

    fn follow(&self, mut id: TypeId, skip: impl Fn(Kind) -> bool) -> Result<TypeId> {
        for _ in 0..MAX_CHAIN {
            if id == TypeId::VOID {
                return Ok(id);
            }
            let t = self.get(id)?;
            if !skip(t.kind()) {
                return Ok(id);
            }
            id = t.type_id();
        }
        Err(chain_error(id))
    }

    /// The size of a pointer, as libbpf guesses it: that of the first INT
    /// named `long int`, `long unsigned int`, `long` or `unsigned long`,
    /// else 8. BTF does not record it; a kernel's `long` tells.
    pub fn pointer_size(&self) -> u32 {
        *self.ptr_size.get_or_init(|| self.find_pointer_size())
    }

    fn find_pointer_size(&self) -> u32 {
        const LONGS: [&[u8]; 4] = [b"long int", b"long unsigned int", b"long", b"unsigned long"];
        self.all_ids()
            .filter_map(|id| self.type_by_id(id))
            .find(|t| {
                t.kind() == Kind::Int
                    && self
                        .str_at(t.name_off())
                        .is_some_and(|n| LONGS.contains(&n))
            })
            .map_or(8, |t| t.size())
    }

    /// The size in bytes of any type with one (libbpf's
    /// `btf__resolve_size`): through modifiers and typedefs, arrays times
    /// their length, pointers [`Btf::pointer_size`]. Errors for `void`,
    /// functions and forward declarations, which have no size.
    pub fn resolve_size(&self, id: TypeId) -> Result<u64> {
        let mut nelems: u64 = 1;
        let mut id = id;
        for _ in 0..MAX_CHAIN {
            let t = self.get(id)?;
            let size = match t.kind() {
                Kind::Int
                | Kind::Float
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec => t.size() as u64,
                Kind::Ptr => self.pointer_size() as u64,
                Kind::Typedef
                | Kind::Const
                | Kind::Volatile
                | Kind::Restrict
                | Kind::TypeTag
                | Kind::Var
                | Kind::DeclTag => {
                    id = t.type_id();
                    continue;
                }
                Kind::Array => {
                    let a = t.array().ok_or(Error::NoSuchType(id))?;
                    nelems = nelems
                        .checked_mul(a.nelems as u64)
                        .ok_or_else(|| overflow(id))?;
                    id = a.elem_type;
                    continue;
                }
                k => {
                    return Err(Error::Invalid {
                        id,
                        what: format!("{} has no size", k.name()),
                    })
                }
            };
            return size.checked_mul(nelems).ok_or_else(|| overflow(id));
        }
        Err(chain_error(id))
    }

    /// The alignment in bytes of a type (libbpf's `btf__align_of`):
    /// scalars align to their size (at most 8), arrays to their element,
    /// structs and unions to their strictest member, or 1 when packed.
    pub fn alignment(&self, id: TypeId) -> Result<u32> {
        self.alignment_at(id, 0)
    }

    fn alignment_at(&self, id: TypeId, depth: usize) -> Result<u32> {
        if depth > MAX_CHAIN {
            return Err(chain_error(id));
        }
        let t = self.get(id)?;
        Ok(match t.kind() {
            Kind::Int | Kind::Float | Kind::Enum | Kind::Enum64 => t.size().clamp(1, 8),
            Kind::Ptr => self.pointer_size(),
            Kind::Typedef | Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => {
                self.alignment_at(t.type_id(), depth + 1)?
            }
            Kind::Array => {
                let elem = t.array().ok_or(Error::NoSuchType(id))?.elem_type;
                self.alignment_at(elem, depth + 1)?
            }
            Kind::Struct | Kind::Union => {
                let mut align = 1;
                for m in t.members() {
                    let a = self.alignment_at(m.type_id, depth + 1)?;
                    // A member off its natural alignment means a packed type.
                    if m.bit_offset % (a * 8) != 0 {
                        return Ok(1);
                    }
                    align = align.max(a);
                }
                if t.size() % align != 0 {
                    1
                } else {
                    align
                }
            }
            k => {
                return Err(Error::Invalid {
                    id,
                    what: format!("{} has no alignment", k.name()),
                })
            }
        })
    }

    /// The member `name` of struct or union `id` (through modifiers and
    /// typedefs), looked for inside anonymous struct and union members too,
    /// as CO-RE field relocation does. `None` when there is no such member.
    pub fn find_member(&self, id: TypeId, name: &str) -> Result<Option<FoundMember>> {
        self.find_member_at(id, name.as_bytes(), 0, 0)
    }

    fn find_member_at(
        &self,
        id: TypeId,
        name: &[u8],
        base_bits: u32,
        depth: usize,
    ) -> Result<Option<FoundMember>> {
        if depth > MAX_CHAIN {
            return Err(chain_error(id));
        }
        let id = self.skip_mods_and_typedefs(id)?;
        let t = self.get(id)?;
        if !matches!(t.kind(), Kind::Struct | Kind::Union) {
            return Err(Error::Invalid {
                id,
                what: format!("{} has no members", t.kind().name()),
            });
        }
        for m in t.members() {
            let bit_offset = base_bits.saturating_add(m.bit_offset);
            let bitfield_size = m.bitfield_size;
            match self.str_at(m.name_off) {
                Some(n) if n == name => {
                    return Ok(Some(FoundMember {
                        ty: m.type_id,
                        bit_offset,
                        bitfield_size,
                    }))
                }
                Some(b"") | None => {
                    let inner = self.skip_mods_and_typedefs(m.type_id)?;
                    let is_record = self
                        .type_by_id(inner)
                        .is_some_and(|t| matches!(t.kind(), Kind::Struct | Kind::Union));
                    if is_record {
                        if let Some(found) =
                            self.find_member_at(inner, name, bit_offset, depth + 1)?
                        {
                            return Ok(Some(found));
                        }
                    }
                }
                Some(_) => {}
            }
        }
        Ok(None)
    }
}

fn chain_error(id: TypeId) -> Error {
    Error::Invalid {
        id,
        what: format!("a chain of more than {MAX_CHAIN} references (a loop?)"),
    }
}

fn overflow(id: TypeId) -> Error {
    Error::Invalid {
        id,
        what: "its size overflows 64 bits".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::{int_encoding, Btf, Kind, TypeId};

    /// `struct task { int a; union { long pid; char c; }; const typedef ... }`
    #[test]
    fn members_through_anonymous_unions_and_typedefs() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let long = b.add_int("long int", 8, int_encoding::SIGNED).unwrap();
        let anon = b.add_union("", 8).unwrap();
        b.add_field("pid", long, 0, 0).unwrap();
        let task = b.add_struct("task", 24).unwrap();
        b.add_field("a", int, 0, 0).unwrap();
        b.add_field("", anon, 64, 0).unwrap();
        b.add_field("flags", int, 128, 3).unwrap();
        let td = b.add_typedef("task_t", task).unwrap();
        let c = b.add_const(td).unwrap();
        let arr = b.add_array(c, int, 4).unwrap();

        assert_eq!(b.skip_mods_and_typedefs(c).unwrap(), task);
        assert_eq!(b.skip_mods(c).unwrap(), td);
        let pid = b.find_member(c, "pid").unwrap().unwrap();
        assert_eq!((pid.ty, pid.bit_offset, pid.bitfield_size), (long, 64, 0));
        let flags = b.find_member(task, "flags").unwrap().unwrap();
        assert_eq!((flags.bit_offset, flags.bitfield_size), (128, 3));
        assert_eq!(b.find_member(task, "nope").unwrap(), None);
        assert_eq!(b.resolve_size(arr).unwrap(), 96);
        assert_eq!(b.alignment(c).unwrap(), 8);
        assert_eq!(b.pointer_size(), 8);
        assert!(b.resolve_size(TypeId::VOID).is_err());

        let index = super::NameIndex::new(&b);
        assert_eq!(index.find(&b, "task", Kind::Struct), Some(task));
        assert_eq!(index.all("task_t"), &[td]);
        assert_eq!(b.find_by_name("long int"), Some(long));
    }

    #[test]
    fn a_typedef_loop_is_an_error() {
        let mut b = Btf::new();
        let a = b.add_str(b"a").unwrap();
        let info = crate::Info::new(Kind::Typedef, false, 0);
        // Raw records: the typed builders refuse forward references.
        b.add_type(a, info, 2, &[]).unwrap();
        b.add_type(a, info, 1, &[]).unwrap();
        let err = b.skip_mods_and_typedefs(TypeId(1)).unwrap_err().to_string();
        assert!(err.contains("loop"), "{err}");
        assert!(b.resolve_size(TypeId(1)).is_err());
    }
}
