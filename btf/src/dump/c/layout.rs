//! Sizes, alignments and padding, derived from the BTF as libbpf derives
//! them.
//!
//! The pointer size is that of the first 4- or 8-byte INT spelled as some
//! `long` (8 when there is none). A scalar aligns to its size, capped at the
//! pointer size; a struct or union to its most aligned member, or to 1 when
//! some member sits off its alignment or the size is not a multiple of it
//! (it was packed). A struct whose non-bitfield members are not all
//! naturally aligned, or whose size is not a multiple of its alignment, is
//! written `__attribute__((packed))`.
//!
//! Gaps between members are filled with unnamed bitfields: first up to the
//! next boundary of the widest of `long`, `int`, `short`, `char` that fits
//! the gap (written as `TYPE: 0` where the compiler would not align there
//! by itself, or with the bit count inside a run of bitfields), then whole
//! units of that type, then the smallest type that holds the remainder.

use std::io::{self, Write};

use super::{array_of, invalid, Dumper};
use crate::{Btf, Kind};

/// The spellings of `long` libbpf recognises.
const LONG_NAMES: [&[u8]; 11] = [
    b"long",
    b"long int",
    b"int long",
    b"unsigned long",
    b"long unsigned",
    b"unsigned long int",
    b"unsigned int long",
    b"long unsigned int",
    b"long int unsigned",
    b"int unsigned long",
    b"int long unsigned",
];

/// What libbpf's size resolution gives up after.
const MAX_RESOLVE_DEPTH: usize = 32;

/// An alignment not worked out yet.
pub(super) const UNKNOWN_ALIGN: u32 = u32::MAX;

/// The host's pointer size, libbpf's fallback (bpftool runs on x86-64).
const HOST_POINTER_SIZE: u32 = 8;

/// The pointer size libbpf assumes for `btf`.
pub(super) fn pointer_size(btf: &Btf) -> u32 {
    for id in btf.all_ids() {
        let Some(t) = btf.type_by_id(id) else {
            continue;
        };
        if t.kind() != Kind::Int || (t.size() != 4 && t.size() != 8) {
            continue;
        }
        let Some(name) = btf.str_at(t.name_off()) else {
            continue;
        };
        if LONG_NAMES.contains(&name) {
            return t.size();
        }
    }
    HOST_POINTER_SIZE
}

/// `roundup(x, unit)`.
fn round_up(x: i64, unit: i64) -> i64 {
    (x + unit - 1) / unit * unit
}

impl<W: Write> Dumper<'_, W> {
    /// The alignment of `id` in bytes; 0 for types without one (void,
    /// forward declarations, functions).
    pub(super) fn align_of(&mut self, id: u32) -> io::Result<i64> {
        // A type's alignment never changes: each is worked out once.
        if let Some(&known) = self.aligns.get(id as usize) {
            if known != UNKNOWN_ALIGN {
                return Ok(known as i64);
            }
        }
        self.enter(id)?;
        let align = self.align_of_inner(id);
        self.leave();
        if let (Ok(align), Some(slot)) = (&align, self.aligns.get_mut(id as usize)) {
            *slot = *align as u32;
        }
        align
    }

    fn align_of_inner(&mut self, id: u32) -> io::Result<i64> {
        let t = self.ty(id)?;
        Ok(match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => {
                self.ptr_size.min(t.size()) as i64
            }
            Kind::Ptr => self.ptr_size as i64,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.align_of(t.type_id().0)?
            }
            Kind::Array => self.align_of(array_of(&t)?.elem_type.0)?,
            Kind::Struct | Kind::Union => {
                let mut max_align = 1;
                for m in t.members() {
                    let align = self.align_of(m.type_id.0)?;
                    if align <= 0 {
                        return Ok(align);
                    }
                    max_align = max_align.max(align);
                    if m.bitfield_size == 0 && m.bit_offset as i64 % (8 * align) != 0 {
                        return Ok(1);
                    }
                }
                if t.size() as i64 % max_align != 0 {
                    return Ok(1);
                }
                max_align
            }
            _ => 0,
        })
    }

    /// The size of `id` in bytes, or a negative number where libbpf finds
    /// none (void, forward declarations, functions, over 4 GiB).
    pub(super) fn resolve_size(&self, id: u32) -> io::Result<i64> {
        let mut id = id;
        let mut nelems: u64 = 1;
        let mut size: i64 = -1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            if id == 0 {
                break;
            }
            let t = self.ty(id)?;
            match t.kind() {
                Kind::Fwd => break,
                Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float => {
                    size = t.size() as i64;
                    break;
                }
                Kind::Ptr => {
                    size = self.ptr_size as i64;
                    break;
                }
                Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag => id = t.type_id().0,
                Kind::Array => {
                    let a = array_of(&t)?;
                    if nelems != 0 && a.nelems as u64 > u32::MAX as u64 / nelems {
                        return Ok(-1);
                    }
                    nelems *= a.nelems as u64;
                    id = a.elem_type.0;
                }
                _ => return Ok(-1),
            }
        }
        if size < 0 {
            return Ok(-1);
        }
        if nelems != 0 && size as u64 > u32::MAX as u64 / nelems {
            return Ok(-1);
        }
        Ok((nelems * size as u64) as i64)
    }

    /// Whether a struct must be written packed to keep its layout.
    pub(super) fn is_packed(&mut self, id: u32) -> io::Result<bool> {
        let t = self.ty(id)?;
        let mut max_align = 1;
        for m in t.members() {
            let align = self.align_of(m.type_id.0)?;
            if align != 0 && m.bitfield_size == 0 && m.bit_offset as i64 % (8 * align) != 0 {
                return Ok(true);
            }
            max_align = max_align.max(align);
        }
        Ok(t.size() as i64 % max_align != 0)
    }

    /// Fills the bits from `cur` to `next` (where the next member, aligned
    /// to `next_align` bytes, starts) with unnamed bitfields at indent `lvl`.
    pub(super) fn emit_padding(
        &mut self,
        cur: i64,
        next: i64,
        next_align: i64,
        in_bitfield: bool,
        lvl: usize,
    ) -> io::Result<()> {
        let pads: [(&str, i64); 4] = [
            ("long", self.ptr_size as i64 * 8),
            ("int", 32),
            ("short", 16),
            ("char", 8),
        ];
        let mut cur = cur;
        if cur >= next {
            return Ok(());
        }
        let (mut pad_type, mut pad_bits, mut new_off) = ("char", 8, 0);
        for &(name, bits) in &pads {
            pad_type = name;
            pad_bits = bits;
            new_off = round_up(cur, bits);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            let natural = if in_bitfield || new_off != next {
                None
            } else if next_align == 0 {
                return Err(invalid(
                    "a member without alignment follows a gap (libbpf divides by zero)".into(),
                ));
            } else {
                Some(round_up(cur, next_align * 8))
            };
            if in_bitfield
                || (new_off == next && natural != Some(new_off))
                || (new_off != next && next - new_off <= new_off - cur)
            {
                self.out.str("\n");
                self.indent(lvl);
                self.out.str(pad_type);
                self.out.str(": ");
                self.out.num(if in_bitfield { new_off - cur } else { 0 });
                self.out.str(";");
            }
            cur = new_off;
        }
        while cur != next {
            // A hostile size can ask for billions of these: keep the buffer bounded.
            self.out.end_record()?;
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                self.pad_line(pad_type, pad_bits, lvl);
                cur += bits;
                continue;
            }
            for &(name, size) in pads.iter().rev() {
                pad_type = name;
                pad_bits = size;
                if size < bits {
                    continue;
                }
                self.pad_line(pad_type, bits, lvl);
                cur += bits;
                break;
            }
        }
        Ok(())
    }

    fn pad_line(&mut self, ty: &str, bits: i64, lvl: usize) {
        self.out.str("\n");
        self.indent(lvl);
        self.out.str(ty);
        self.out.str(": ");
        self.out.num(bits);
        self.out.str(";");
    }
}
