//! Human-readable dumps of BTF, in the formats of `bpftool btf dump file`.
//!
//! [`write_raw`] writes the text of `bpftool btf dump file FILE` (bpftool 7.1,
//! libbpf 1.1) byte for byte, [`write_json`] the value of
//! `bpftool -j btf dump file FILE`, and [`write_c`] the C header of
//! `bpftool btf dump file FILE format c` byte for byte (bpftool 7.1's, or
//! with [`BpftoolVersion::V7_8`] bpftool 7.8's, sorted or unsorted). The raw and JSON
//! dumps of a split BTF show only its own types, from its base's type count
//! on; its C header has the base's types too, as bpftool's.
//!
//! Where bpftool 7.1 cannot show a BTF at all, kbtf still prints it, as follows:
//! - A vlen above 0xffff: libbpf 1.1 reads vlen as 16 bits, so it would cut
//!   such a record short and misread every record after it. kbtf prints the
//!   full 24-bit vlen and every element.
//! - A kind bpftool does not know (above 19, readable only with a kind-layout
//!   section): bpftool's name for such kinds, `UNKNOWN`, followed by
//!   ` raw_kind=K vlen=V` (JSON: `"raw_kind":K,"vlen":V`).
//!
//! ```
//! use kbtf_btf::{dump, Btf, Info, Kind};
//!
//! let mut btf = Btf::new();
//! let name = btf.add_str(b"int").unwrap();
//! btf.add_type(name, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020]).unwrap();
//! let mut text = Vec::new();
//! dump::write_raw(&btf, &mut text).unwrap();
//! assert_eq!(
//!     text,
//!     b"[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n"
//! );
//! ```

mod c;
mod json;
mod out;
mod raw;

use std::{fmt, io};

use crate::{int_encoding, linkage, Btf, Kind, StrOff, TypeRef};

pub use c::{write_c, BpftoolVersion, COptions, MAX_DEPTH};
pub use json::write_json;
pub use raw::write_raw;

/// The output formats of a dump.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// bpftool's plain text (`format raw`).
    #[default]
    Raw,
    /// bpftool's `-j` output.
    Json,
    /// bpftool's `format c`: a C header of every type (see [`write_c`]).
    C,
}

/// Writes `btf` in `format` (raw and JSON: its own types only, for split BTF).
pub fn write(btf: &Btf, format: Format, w: impl io::Write) -> io::Result<()> {
    match format {
        Format::Raw => write_raw(btf, w),
        Format::Json => write_json(btf, w),
        Format::C => write_c(btf, &COptions::default(), w),
    }
}

/// A type shown as [`write_raw`] shows it, made by [`TypeRef::display`]:
/// `{}` is its first line, `{:#}` adds a tab-indented line per member,
/// value, parameter or entry. Neither ends with a newline; names that are
/// not UTF-8 show with U+FFFD in their place.
///
/// ```
/// use kbtf_btf::{int_encoding, Btf};
///
/// let mut btf = Btf::new();
/// let int = btf.add_int("int", 4, int_encoding::SIGNED).unwrap();
/// let pair = btf.add_struct("pair", 8).unwrap();
/// btf.add_field("a", int, 0, 0).unwrap();
/// btf.add_field("b", int, 32, 0).unwrap();
/// let t = btf.get(pair).unwrap();
/// assert_eq!(t.display(&btf).to_string(), "[2] STRUCT 'pair' size=8 vlen=2");
/// assert_eq!(
///     format!("{:#}", t.display(&btf)),
///     "[2] STRUCT 'pair' size=8 vlen=2\n\
///      \t'a' type_id=1 bits_offset=0\n\
///      \t'b' type_id=1 bits_offset=32"
/// );
/// ```
#[derive(Copy, Clone, Debug)]
pub struct DisplayType<'a> {
    btf: &'a Btf,
    t: TypeRef<'a>,
}

impl<'a> TypeRef<'a> {
    /// The type as `bpftool btf dump` prints it (see [`DisplayType`]);
    /// `btf` holds its names (and, for a DATASEC, its entries' types).
    pub fn display(self, btf: &'a Btf) -> DisplayType<'a> {
        DisplayType { btf, t: self }
    }
}

impl fmt::Display for DisplayType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::new();
        let mut out = out::Out::with_capacity(&mut text, 128);
        raw::write_type(&mut out, self.btf, self.t, f.alternate());
        out.finish().map_err(|_| fmt::Error)?;
        f.write_str(&String::from_utf8_lossy(&text))
    }
}

/// bpftool's name of a type or member: `(anon)` for offset 0, `(invalid)`
/// for an offset with no string.
fn name(btf: &Btf, off: StrOff) -> &[u8] {
    if off.0 == 0 {
        return b"(anon)";
    }
    btf.str_at(off).unwrap_or(b"(invalid)")
}

/// bpftool's name of a kind; kind 0 (void) and kinds it does not know are `UNKNOWN`.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Unknown(_) => "UNKNOWN",
        kind => kind.name(),
    }
}

/// The kind and name bpftool shows for a DATASEC entry's type: void (id 0)
/// reads as libbpf's zeroed void record; ids past the end show nothing.
fn entry_kind_name(btf: &Btf, id: crate::TypeId) -> Option<(&'static str, &[u8])> {
    if id.0 == 0 {
        return Some(("UNKNOWN", b"(anon)"));
    }
    let t = btf.type_by_id(id)?;
    Some((kind_name(t.kind()), name(btf, t.name_off())))
}

fn int_encoding_name(encoding: u8) -> &'static str {
    match encoding {
        0 => "(none)",
        int_encoding::SIGNED => "SIGNED",
        int_encoding::CHAR => "CHAR",
        int_encoding::BOOL => "BOOL",
        _ => "UNKN",
    }
}

/// FUNC linkage (the FUNC's vlen) and VAR linkage share their names.
fn linkage_name(value: u32) -> &'static str {
    match value {
        linkage::STATIC => "static",
        linkage::GLOBAL => "global",
        linkage::EXTERN => "extern",
        _ => "(unknown)",
    }
}

fn fwd_kind_name(kind_flag: bool) -> &'static str {
    if kind_flag {
        "union"
    } else {
        "struct"
    }
}

fn enum_encoding_name(kind_flag: bool) -> &'static str {
    if kind_flag {
        "SIGNED"
    } else {
        "UNSIGNED"
    }
}

#[cfg(test)]
mod tests;
