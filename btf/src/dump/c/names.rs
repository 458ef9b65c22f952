//! Names as the header spells them.
//!
//! C has one namespace for struct, union and enum tags and one for
//! ordinary identifiers (typedefs, enum values); a BTF can hold the same
//! name many times over (split BTF, or types the dedup could not merge).
//! Each namespace counts the uses of each name; the first use keeps the
//! name, the N-th becomes `NAME___N`. A type's name is settled the first
//! time it is written and kept; each enum value counts anew every time its
//! enum is written. Forward declarations and enums without values keep
//! their names, being only declarations.

use std::borrow::Cow;
use std::io::Write;

use rustc_hash::FxHashMap;

use super::{Dumper, Name};
use crate::Kind;

/// libbpf builds renamed names in a 256-byte buffer.
const MAX_NAME: usize = 255;

/// Which namespace a name lives in.
#[derive(Copy, Clone)]
pub(super) enum Namespace {
    /// Struct, union and enum tags (and, as libbpf counts them, ints).
    Tags,
    /// Typedefs and enum values.
    Idents,
}

/// Counts one more use of `name`; returns the count.
pub(super) fn count_use<'b>(map: &mut FxHashMap<&'b [u8], usize>, name: &'b [u8]) -> usize {
    let n = map.entry(name).or_insert(0);
    *n += 1;
    *n
}

/// `NAME___N`, cut to libbpf's buffer.
pub(super) fn suffixed(name: &[u8], n: usize) -> Vec<u8> {
    let mut s = Vec::with_capacity(name.len() + 8);
    s.extend_from_slice(name);
    s.extend_from_slice(b"___");
    s.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    s.truncate(MAX_NAME);
    s
}

impl<'b, W: Write> Dumper<'b, W> {
    /// The name of type `id` in `ns`, settled on first use.
    pub(super) fn resolve_name(&mut self, id: u32, ns: Namespace) -> std::io::Result<Name<'b>> {
        let t = self.ty(id)?;
        if t.name_off().0 == 0 {
            return Ok(Cow::Borrowed(b""));
        }
        let orig = self.raw_name(&t);
        if self.state(id)?.name_resolved {
            return Ok(match self.renamed.get(&id) {
                Some(name) => Cow::Owned(name.clone()),
                None => Cow::Borrowed(orig),
            });
        }
        self.state(id)?.name_resolved = true;
        if t.kind() == Kind::Fwd || (t.kind() == Kind::Enum && t.vlen() == 0) {
            return Ok(Cow::Borrowed(orig));
        }
        let map = match ns {
            Namespace::Tags => &mut self.type_names,
            Namespace::Idents => &mut self.ident_names,
        };
        let n = count_use(map, orig);
        if n > 1 {
            let name = suffixed(orig, n);
            self.renamed.insert(id, name.clone());
            return Ok(Cow::Owned(name));
        }
        Ok(Cow::Borrowed(orig))
    }

    /// The tag of a struct, union, enum or forward declaration.
    pub(super) fn type_name(&mut self, id: u32) -> std::io::Result<Name<'b>> {
        self.resolve_name(id, Namespace::Tags)
    }

    /// The identifier of a typedef.
    pub(super) fn ident_name(&mut self, id: u32) -> std::io::Result<Name<'b>> {
        self.resolve_name(id, Namespace::Idents)
    }
}
