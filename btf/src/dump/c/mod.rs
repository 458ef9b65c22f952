//! The C header of `bpftool btf dump file FILE format c`, byte for byte: the
//! `vmlinux.h` BPF programs include. The oracle is Debian bookworm's bpftool
//! (7.1.0+6.1.192, libbpf from Linux 6.1 with stable fixes). kbtf follows
//! libbpf 1.1.2's `btf_dump` (padding, packing, `struct x {}` on one line),
//! which that bpftool matches on the whole corpus but for two points: it
//! writes `(void)` for a prototype without parameters (a 2024 libbpf fix),
//! and it does not give enums of 1 or 8 bytes libbpf 1.1's
//! `mode(byte)`/`mode(word)` attributes. kbtf does as that bpftool does.
//!
//! The header is bpftool's preamble (an include guard named `__VMLINUX_H__`
//! and `#pragma clang attribute push` of `preserve_access_index` for every
//! record, unless `BPF_NO_PRESERVE_ACCESS_INDEX` is defined), the types, and
//! the matching epilogue. The types are dumped one root at a time, in id
//! order from 1 (base types included, for a split BTF), or only the roots
//! of [`COptions::roots`]; each root brings along what its definition
//! needs, once. Per root there are two passes:
//!
//! 1. Ordering ([`order`]): a depth-first walk that queues, dependencies
//!    first, the named definitions (structs, unions, enums, forward
//!    declarations, typedefs) the root needs. A member embedded by value
//!    needs its type fully defined first (a *strong* link); a named struct
//!    or union reached through a pointer only needs a forward declaration
//!    (a *weak* link), which breaks the cycles C allows. An anonymous type
//!    is defined inline where it is used, so its own needs become its
//!    user's. A cycle of strong links cannot be written in C and is an error.
//! 2. Emitting ([`emit`]): each queued type is written as a definition;
//!    a struct that refers back to one still being written gets a forward
//!    declaration (`struct x;`) first, and a typedef met that way is written
//!    early. Declarations are built from the chain of modifiers, pointers,
//!    arrays and function prototypes the C way round (`int (*f[4])(void)`).
//!
//! Names ([`names`]): structs, unions and enums share one namespace, typedefs
//! and enum values another; a name met again in its namespace gets `___N`
//! appended (its N-th use). Layout ([`layout`]): alignments and sizes are
//! derived from the BTF as libbpf does, a struct whose members are not all
//! naturally aligned is marked `__attribute__((packed))`, and the gaps
//! between members are written as unnamed bitfields (`long: 64;`) so that
//! the compiler lays the struct out as the BTF says.
//!
//! With [`BpftoolVersion::V7_8`] the header is bpftool 7.8's (Debian sid's,
//! libbpf 1.8; the oracle of that mode). After the preamble it defines
//! `__ksym`, `__weak` and `__bpf_fastcall`; a whole-BTF dump takes its
//! roots in sorted order ([`sort`]) unless [`COptions::unsorted`], and ends
//! with the kfunc prototypes ([`kfuncs`]); a dump of roots is neither
//! sorted nor followed by kfuncs. libbpf 1.8 also gives enums of 1 and 8
//! bytes `mode(byte)`/`mode(word)` and writes a type tag with kind_flag
//! set as the attribute it names. (bpftool 7.8 refuses more than 16 roots
//! or one named twice; kbtf takes them.)
//!
//! Where libbpf would crash or loop (an id past the end, a pointer to
//! itself, a struct that embeds itself), kbtf stops with an error instead;
//! the walks are bounded by [`MAX_DEPTH`].
//!
//! ```
//! use kbtf_btf::{dump, Btf, Info, Kind, TypeId};
//!
//! let mut btf = Btf::new();
//! let int = btf.add_str(b"int").unwrap();
//! btf.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020]).unwrap();
//! let pair = btf.add_str(b"pair").unwrap();
//! let (a, b) = (btf.add_str(b"a").unwrap(), btf.add_str(b"b").unwrap());
//! btf.add_type(pair, Info::new(Kind::Struct, false, 2), 8, &[a.0, 1, 0, b.0, 1, 32])
//!     .unwrap();
//! let mut text = Vec::new();
//! let opts = dump::COptions { roots: vec![TypeId(2)], ..Default::default() };
//! dump::write_c(&btf, &opts, &mut text).unwrap();
//! let text = String::from_utf8(text).unwrap();
//! assert!(text.contains("struct pair {\n\tint a;\n\tint b;\n};\n\n"));
//! ```

mod emit;
mod kfuncs;
mod layout;
mod names;
mod order;
mod sort;

use std::borrow::Cow;
use std::io::{self, Write};

use rustc_hash::FxHashMap;

use super::out::Out;
use crate::{Btf, Kind, TypeId, TypeRef};

/// How deep the walks over types may go (struct in struct, pointer to
/// pointer, nested declarations) before the dump stops with an error. The
/// corpus vmlinux needs between 17 and 24 (it fails with 16, passes with 24).
pub const MAX_DEPTH: u32 = 256;

/// What [`write_c`] dumps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct COptions {
    /// The types to dump, with what they need, in this order (bpftool's
    /// root types); empty for every type.
    pub roots: Vec<TypeId>,
    /// The bpftool whose header to write.
    pub bpftool: BpftoolVersion,
    /// bpftool 7.8's `format c unsorted`: every type in id order, as 7.1
    /// always does, instead of 7.8's sorted order. Roots are never sorted.
    pub unsorted: bool,
}

/// The bpftool generations whose C header kbtf writes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BpftoolVersion {
    /// Debian bookworm's bpftool 7.1 (libbpf 1.1): types in id order.
    #[default]
    V7_1,
    /// bpftool 7.8 (libbpf 1.8, Debian sid): `__ksym`, `__weak` and
    /// `__bpf_fastcall` defined up front; types sorted by kind and name
    /// unless [`COptions::unsorted`]; a whole-BTF dump ends with the kfunc
    /// prototypes; enums of 1 and 8 bytes get `mode(byte)` and
    /// `mode(word)`; a type tag with kind_flag set is written as a plain
    /// attribute (`__attribute__((address_space(1)))`).
    V7_8,
}

const PREAMBLE: &str = "#ifndef __VMLINUX_H__\n\
#define __VMLINUX_H__\n\
\n\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n\
#endif\n\n";

/// What bpftool 7.8 writes after [`PREAMBLE`]: the attributes its kfunc
/// prototypes use, unless the program defines them itself.
const KFUNC_MACROS: &str = "#ifndef __ksym\n\
#define __ksym __attribute__((section(\".ksyms\")))\n\
#endif\n\
\n\
#ifndef __weak\n\
#define __weak __attribute__((weak))\n\
#endif\n\
\n\
#ifndef __bpf_fastcall\n\
#if __has_attribute(bpf_fastcall)\n\
#define __bpf_fastcall __attribute__((bpf_fastcall))\n\
#else\n\
#define __bpf_fastcall\n\
#endif\n\
#endif\n\n";

const EPILOGUE: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n\
#pragma clang attribute pop\n\
#endif\n\
\n\
#endif /* __VMLINUX_H__ */\n";

/// Writes `btf` as the C header `bpftool btf dump file FILE format c`
/// prints (bpftool 7.1's, or 7.8's per [`COptions::bpftool`]): every type
/// (a split BTF's base types too, as bpftool does), or the roots of `opts`
/// and what they need.
///
/// An error (a type id past the end, a kind C cannot show, a cycle C cannot
/// write, nesting past [`MAX_DEPTH`]) stops the dump; what was written
/// before stays written, as with bpftool, without the epilogue.
pub fn write_c(btf: &Btf, opts: &COptions, w: impl Write) -> io::Result<()> {
    let mut d = Dumper::new(btf, opts.bpftool, w)?;
    d.out.str(PREAMBLE);
    if opts.bpftool == BpftoolVersion::V7_8 {
        d.out.str(KFUNC_MACROS);
    }
    let result = d.dump_all(opts);
    if result.is_ok() {
        d.out.str(EPILOGUE);
    }
    let finished = d.out.finish();
    result.and(finished)
}

/// Where a type is in the ordering pass.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
enum OrderState {
    #[default]
    NotOrdered,
    Ordering,
    Ordered,
}

/// Where a type is in the emitting pass.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
enum EmitState {
    #[default]
    NotEmitted,
    Emitting,
    Emitted,
}

/// What the dump knows about one type.
#[derive(Copy, Clone, Debug, Default)]
struct TypeState {
    order: OrderState,
    emit: EmitState,
    /// A forward declaration (or, for a typedef, the definition) is out.
    fwd_emitted: bool,
    /// The type's name in its namespace is settled.
    name_resolved: bool,
    /// Some other type refers to this one.
    referenced: bool,
}

/// The state of one dump.
struct Dumper<'b, W: Write> {
    btf: &'b Btf,
    version: BpftoolVersion,
    out: Out<W>,
    /// Bytes in a pointer and a `long`, as libbpf guesses them.
    ptr_size: u32,
    states: Vec<TypeState>,
    /// Each type's alignment once known, else [`layout::UNKNOWN_ALIGN`].
    aligns: Vec<u32>,
    /// Names that got a `___N` suffix.
    renamed: FxHashMap<u32, Vec<u8>>,
    /// Uses so far of each struct, union and enum name.
    type_names: FxHashMap<&'b [u8], usize>,
    /// Uses so far of each typedef and enum value name.
    ident_names: FxHashMap<&'b [u8], usize>,
    /// The current root's definitions, in the order to write them.
    queue: Vec<u32>,
    /// The chains of types of the declarations being written, innermost
    /// declaration on top.
    decl_stack: Vec<u32>,
    /// How deep the current walk is.
    depth: u32,
}

/// libbpf's void: kind 0, no name, no size.
static VOID_WORDS: [u32; 3] = [0, 0, 0];

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl<'b, W: Write> Dumper<'b, W> {
    fn new(btf: &'b Btf, version: BpftoolVersion, w: W) -> io::Result<Dumper<'b, W>> {
        let count = btf.type_count() as usize;
        let mut states = vec![TypeState::default(); count];
        states[0].order = OrderState::Ordered;
        states[0].emit = EmitState::Emitted;
        let mut d = Dumper {
            btf,
            version,
            out: Out::new(w),
            ptr_size: layout::pointer_size(btf),
            states,
            aligns: vec![layout::UNKNOWN_ALIGN; count],
            renamed: FxHashMap::default(),
            type_names: FxHashMap::default(),
            ident_names: FxHashMap::default(),
            queue: Vec::new(),
            decl_stack: Vec::new(),
            depth: 0,
        };
        d.mark_referenced()?;
        Ok(d)
    }

    fn dump_all(&mut self, opts: &COptions) -> io::Result<()> {
        if opts.roots.is_empty() {
            let v7_8 = self.version == BpftoolVersion::V7_8;
            if v7_8 && !opts.unsorted {
                // bpftool dumps its sorted list from the second entry on
                // (see [`sort`]).
                for id in sort::sorted_ids(self.btf)?.into_iter().skip(1) {
                    self.dump_root(id)?;
                }
            } else {
                for id in 1..self.btf.type_count() {
                    self.dump_root(id)?;
                }
            }
            if v7_8 {
                self.emit_kfuncs()?;
            }
        } else {
            for &root in &opts.roots {
                if root.0 >= self.btf.type_count() {
                    return Err(invalid(format!("root type {} does not exist", root.0)));
                }
                self.dump_root(root.0)?;
            }
        }
        Ok(())
    }

    /// One root: order what it needs, then write it.
    fn dump_root(&mut self, id: u32) -> io::Result<()> {
        self.queue.clear();
        self.order_type(id, false)?;
        for i in 0..self.queue.len() {
            let id = self.queue[i];
            self.emit_type(id, 0)?;
            self.out.end_record()?;
        }
        Ok(())
    }

    /// The record of `id`; id 0 is void (kind 0).
    fn ty(&self, id: u32) -> io::Result<TypeRef<'b>> {
        if id == 0 {
            return Ok(TypeRef::new(TypeId(0), &VOID_WORDS));
        }
        self.btf
            .type_by_id(TypeId(id))
            .ok_or_else(|| invalid(format!("type {id} does not exist")))
    }

    fn state(&mut self, id: u32) -> io::Result<&mut TypeState> {
        self.states
            .get_mut(id as usize)
            .ok_or_else(|| invalid(format!("type {id} does not exist")))
    }

    /// A name as libbpf reads it: empty for offset 0, `(null)` (what
    /// printf shows for libbpf's NULL) for an offset past the strings.
    fn raw_name(&self, t: &TypeRef<'b>) -> &'b [u8] {
        self.str_at(t.name_off().0)
    }

    fn str_at(&self, off: u32) -> &'b [u8] {
        self.btf.str_at(crate::StrOff(off)).unwrap_or(b"(null)")
    }

    /// Enters one level of a walk; pair with [`Dumper::leave`].
    fn enter(&mut self, id: u32) -> io::Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(invalid(format!(
                "types nest deeper than {MAX_DEPTH} levels at type {id}"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }
}

/// Whether a kind is a struct or union.
fn is_composite(kind: Kind) -> bool {
    matches!(kind, Kind::Struct | Kind::Union)
}

/// Whether a kind is one libbpf drops before arrays and function prototypes.
fn is_modifier(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
    )
}

/// A name, owned only when renamed.
type Name<'b> = Cow<'b, [u8]>;

/// An ARRAY's element, index type and length.
fn array_of(t: &TypeRef<'_>) -> io::Result<crate::ArrayData> {
    t.array()
        .ok_or_else(|| invalid(format!("type {} is not an array", t.id().0)))
}

#[cfg(test)]
mod tests;
