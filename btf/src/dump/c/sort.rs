//! bpftool 7.8's order of roots (`format c`, sorted by default since
//! bpftool 7.5): a `vmlinux.h` that changes little when the kernel does.
//!
//! Every id from 0 (void) to the last, base types included, gets a key, and
//! the ids are sorted by it:
//!
//! 1. A rank: anonymous enums (constants) first, then named enums, then
//!    ints and floats, named structs and unions, named function prototypes;
//!    a typedef, modifier, pointer, array or decl tag that carries a name
//!    (its own or its user's) takes the rank of what it points at, as if
//!    named; everything else (anonymous composites, forward declarations,
//!    functions, variables, sections, void) comes last.
//! 2. A sort name: the type's own name, except that a typedef, modifier,
//!    pointer, array or decl tag sorts under the name of what it points at
//!    (`typedef struct foo foo_t` sorts as `foo`), and an anonymous enum
//!    under the name of its first value.
//! 3. Its own name, then a hash of its shape (its name, its values' or
//!    members' names and their types' names, an array's length), then the
//!    id. The key is unique, so the order is too, whatever sort does it.
//!
//! bpftool then dumps the sorted ids from the second on: the first one
//! (the anonymous enum whose first value sorts first, when there is one)
//! is never a root, and void is (a root that writes nothing). kbtf does
//! the same, so the first anonymous enum is missing from the header.
//!
//! Names past the strings sort as empty; walks along pointers and
//! modifiers stop with an error past [`super::MAX_DEPTH`], where bpftool
//! would recurse until it crashes.

use std::cmp::Ordering;
use std::io;

use super::invalid;
use crate::{Btf, Kind, StrOff, TypeId, TypeRef};

/// The rank of anything not ranked before it.
const LAST_RANK: u8 = 10;

/// What one id sorts by.
struct SortKey<'b> {
    id: u32,
    rank: u8,
    sort_name: &'b [u8],
    own_name: &'b [u8],
    shape_hash: u64,
}

/// The ids `0..btf.type_count()` in bpftool 7.8's sorted order.
pub(super) fn sorted_ids(btf: &Btf) -> io::Result<Vec<u32>> {
    let keys = Keys { btf };
    let mut all = Vec::with_capacity(btf.type_count() as usize);
    for id in 0..btf.type_count() {
        let t = keys.ty(id)?;
        all.push(SortKey {
            id,
            rank: keys.rank(id, false, 0)?,
            sort_name: keys.sort_name(id, false, 0)?,
            own_name: keys.name(t.name_off().0),
            shape_hash: keys.shape_hash(id, true, 0)?,
        });
    }
    all.sort_unstable_by(compare);
    Ok(all.into_iter().map(|k| k.id).collect())
}

fn compare(a: &SortKey<'_>, b: &SortKey<'_>) -> Ordering {
    a.rank
        .cmp(&b.rank)
        .then_with(|| a.sort_name.cmp(b.sort_name))
        .then_with(|| a.own_name.cmp(b.own_name))
        .then_with(|| a.shape_hash.cmp(&b.shape_hash))
        .then_with(|| a.id.cmp(&b.id))
}

/// The pieces of a key, read from one BTF.
struct Keys<'b> {
    btf: &'b Btf,
}

/// libbpf's void record.
static VOID_WORDS: [u32; 3] = [0, 0, 0];

impl<'b> Keys<'b> {
    fn ty(&self, id: u32) -> io::Result<TypeRef<'b>> {
        if id == 0 {
            return Ok(TypeRef::new(TypeId(0), &VOID_WORDS));
        }
        self.btf
            .type_by_id(TypeId(id))
            .ok_or_else(|| invalid(format!("type {id} does not exist")))
    }

    fn name(&self, off: u32) -> &'b [u8] {
        self.btf.str_at(StrOff(off)).unwrap_or_default()
    }

    fn deeper(depth: u32, id: u32) -> io::Result<u32> {
        if depth >= super::MAX_DEPTH {
            return Err(invalid(format!(
                "type {id}: a chain of pointers and modifiers deeper than {}",
                super::MAX_DEPTH
            )));
        }
        Ok(depth + 1)
    }

    /// The rank of `id`; `named` when a user of it along the chain has a name.
    fn rank(&self, id: u32, named: bool, depth: u32) -> io::Result<u8> {
        let t = self.ty(id)?;
        let named = named || t.name_off().0 != 0;
        Ok(match t.kind() {
            Kind::Enum | Kind::Enum64 => u8::from(named),
            Kind::Int | Kind::Float => 2,
            Kind::Struct | Kind::Union if named => 3,
            Kind::FuncProto if named => 4,
            Kind::Array if named => {
                let elem = super::array_of(&t)?.elem_type.0;
                self.rank(elem, true, Self::deeper(depth, id)?)?
            }
            Kind::TypeTag
            | Kind::Const
            | Kind::Ptr
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Typedef
            | Kind::DeclTag
                if named =>
            {
                self.rank(t.type_id().0, true, Self::deeper(depth, id)?)?
            }
            _ => LAST_RANK,
        })
    }

    /// The name `id` sorts under; `via_ref` when reached from a user.
    fn sort_name(&self, id: u32, via_ref: bool, depth: u32) -> io::Result<&'b [u8]> {
        let t = self.ty(id)?;
        Ok(match t.kind() {
            Kind::Enum | Kind::Enum64 => {
                let first_value = match t.kind() {
                    Kind::Enum => t.enum_values().next().map(|v| v.name_off),
                    _ => t.enum64_values().next().map(|v| v.name_off),
                };
                match first_value {
                    Some(off) if !via_ref && t.name_off().0 == 0 => self.name(off.0),
                    _ => self.name(t.name_off().0),
                }
            }
            Kind::Array => {
                let elem = super::array_of(&t)?.elem_type.0;
                self.sort_name(elem, true, Self::deeper(depth, id)?)?
            }
            Kind::TypeTag
            | Kind::Const
            | Kind::Ptr
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Typedef
            | Kind::DeclTag => self.sort_name(t.type_id().0, true, Self::deeper(depth, id)?)?,
            _ => self.name(t.name_off().0),
        })
    }

    /// The shape hash of `id`: `h * 31 + x` over its parts, in u64.
    fn shape_hash(&self, id: u32, with_members: bool, depth: u32) -> io::Result<u64> {
        let t = self.ty(id)?;
        let mut h = self.name_hash(0, t.name_off().0);
        match t.kind() {
            Kind::Enum => {
                for v in t.enum_values() {
                    h = self.name_hash(h, v.name_off.0);
                }
            }
            Kind::Enum64 => {
                for v in t.enum64_values() {
                    h = self.name_hash(h, v.name_off.0);
                }
            }
            Kind::Struct | Kind::Union if with_members => {
                let depth = Self::deeper(depth, id)?;
                for m in t.members() {
                    h = self.name_hash(h, m.name_off.0);
                    h = mix(h, self.shape_hash(m.type_id.0, false, depth)?);
                }
            }
            Kind::TypeTag
            | Kind::Const
            | Kind::Ptr
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Typedef
            | Kind::DeclTag => {
                let depth = Self::deeper(depth, id)?;
                h = mix(h, self.shape_hash(t.type_id().0, with_members, depth)?);
            }
            Kind::Array => {
                let a = super::array_of(&t)?;
                h = mix(h, u64::from(a.nelems));
                let depth = Self::deeper(depth, id)?;
                h = mix(h, self.shape_hash(a.elem_type.0, with_members, depth)?);
            }
            _ => {}
        }
        Ok(h)
    }

    /// Mixes in the hash of the name at `off`; offset 0 adds nothing.
    fn name_hash(&self, h: u64, off: u32) -> u64 {
        if off == 0 {
            return h;
        }
        mix(h, str_hash(self.name(off)))
    }
}

fn mix(h: u64, x: u64) -> u64 {
    h.wrapping_mul(31).wrapping_add(x)
}

/// libbpf's string hash: `h * 31 + c` over the bytes, each read as a
/// signed `char` (x86), so bytes from 0x80 count as negative.
fn str_hash(s: &[u8]) -> u64 {
    s.iter()
        .fold(0u64, |h, &c| mix(h, i64::from(c as i8) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_hash_reads_signed_chars() {
        assert_eq!(str_hash(b""), 0);
        assert_eq!(str_hash(b"ab"), 97 * 31 + 98);
        assert_eq!(str_hash(&[0xff]), u64::MAX);
    }

    #[test]
    fn first_anonymous_enum_sorts_first() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, crate::int_encoding::SIGNED).unwrap();
        let named = b.add_str(b"e").unwrap();
        let (x, y) = (b.add_str(b"X").unwrap(), b.add_str(b"Y").unwrap());
        let info = |n| crate::Info::new(Kind::Enum, false, n);
        let anon_y = b.add_type(StrOff(0), info(1), 4, &[y.0, 0]).unwrap();
        let anon_x = b.add_type(StrOff(0), info(1), 4, &[x.0, 0]).unwrap();
        let e = b.add_type(named, info(1), 4, &[x.0, 1]).unwrap();
        let ids = sorted_ids(&b).unwrap();
        assert_eq!(ids, vec![anon_x.0, anon_y.0, e.0, int.0, 0]);
    }

    #[test]
    fn a_typedef_of_itself_is_an_error() {
        let mut b = Btf::new();
        let name = b.add_str(b"p").unwrap();
        // A named typedef of itself: the rank, name and hash walks all loop.
        b.add_type(name, crate::Info::new(Kind::Typedef, false, 0), 1, &[])
            .unwrap();
        assert!(sorted_ids(&b).is_err());
    }
}
