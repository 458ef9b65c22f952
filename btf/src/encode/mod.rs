//! The DWARF -> BTF encoder (cargo feature `dwarf`): what `pahole -J`
//! (version 1.24) builds from a vmlinux or a kernel module, before dedup.
//!
//! The jobs are kept apart:
//! * [`reloc`]: relocating the `.debug_*` sections of ET_REL files;
//! * [`symbols`]: the ELF symbol index (function names, per-CPU variables);
//! * `walk` (with `die`): the DWARF walk, one `CuModel` per unit;
//! * `funcs` and `percpu`: which functions and variables are encoded;
//! * `emit`: the BTF builder, appending CUs in order.
//!
//! Units are walked in parallel and appended in unit order, so the result
//! does not depend on the number of threads. Deduplication is a separate
//! pass (`btf__dedup` in libbpf terms); [`encode_file`] returns the BTF
//! pahole would hand to it.

mod cu;
mod die;
mod emit;
mod funcs;
mod percpu;
pub mod reloc;
pub mod symbols;
mod walk;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use gimli::constants as dw;
use object::read::elf::{ElfFile, ElfFile32, ElfFile64, FileHeader, SectionHeader};
use object::{Object, ObjectSection};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::input::FileBytes;
use crate::{Btf, Endian, Error, Result};

/// The DWARF reader type: a borrowed, runtime-endian slice.
pub(crate) type R<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

/// Which compilation units to encode, by `DW_AT_language` (pahole's
/// `--lang` / `--lang_exclude`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LanguageFilter {
    #[default]
    All,
    Only(Vec<u16>),
    Exclude(Vec<u16>),
}

impl LanguageFilter {
    fn accepts(&self, lang: u64) -> bool {
        match self {
            LanguageFilter::All => true,
            LanguageFilter::Only(l) => l.iter().any(|&x| x as u64 == lang),
            LanguageFilter::Exclude(l) => !l.iter().any(|&x| x as u64 == lang),
        }
    }
}

/// The `DW_LANG_*` code of a language as pahole names it (`"rust"`, `"c11"`,
/// `"c++"`; case-insensitive).
pub fn language_by_name(name: &str) -> Option<u16> {
    const NAMES: &[(&str, gimli::DwLang)] = &[
        ("ada83", dw::DW_LANG_Ada83),
        ("ada95", dw::DW_LANG_Ada95),
        ("bliss", dw::DW_LANG_BLISS),
        ("c11", dw::DW_LANG_C11),
        ("c89", dw::DW_LANG_C89),
        ("c99", dw::DW_LANG_C99),
        ("c", dw::DW_LANG_C),
        ("cobol74", dw::DW_LANG_Cobol74),
        ("cobol85", dw::DW_LANG_Cobol85),
        ("c++03", dw::DW_LANG_C_plus_plus_03),
        ("c++11", dw::DW_LANG_C_plus_plus_11),
        ("c++14", dw::DW_LANG_C_plus_plus_14),
        ("c++", dw::DW_LANG_C_plus_plus),
        ("d", dw::DW_LANG_D),
        ("dylan", dw::DW_LANG_Dylan),
        ("fortran03", dw::DW_LANG_Fortran03),
        ("fortran08", dw::DW_LANG_Fortran08),
        ("fortran77", dw::DW_LANG_Fortran77),
        ("fortran90", dw::DW_LANG_Fortran90),
        ("fortran95", dw::DW_LANG_Fortran95),
        ("go", dw::DW_LANG_Go),
        ("haskell", dw::DW_LANG_Haskell),
        ("java", dw::DW_LANG_Java),
        ("julia", dw::DW_LANG_Julia),
        ("modula2", dw::DW_LANG_Modula2),
        ("modula3", dw::DW_LANG_Modula3),
        ("objc", dw::DW_LANG_ObjC),
        ("objc++", dw::DW_LANG_ObjC_plus_plus),
        ("ocaml", dw::DW_LANG_OCaml),
        ("opencl", dw::DW_LANG_OpenCL),
        ("pascal83", dw::DW_LANG_Pascal83),
        ("pli", dw::DW_LANG_PLI),
        ("python", dw::DW_LANG_Python),
        ("renderscript", dw::DW_LANG_RenderScript),
        ("rust", dw::DW_LANG_Rust),
        ("swift", dw::DW_LANG_Swift),
        ("upc", dw::DW_LANG_UPC),
    ];
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, l)| l.0)
}

/// What to encode, with pahole's option names in the docs.
#[derive(Clone, Debug, Default)]
pub struct EncodeOptions {
    /// `--btf_gen_floats`: DW_ATE_float as FLOAT (else an INT without encoding).
    pub gen_floats: bool,
    /// `--skip_encoding_btf_vars`: no per-CPU VARs and DATASEC.
    pub skip_vars: bool,
    /// `--skip_encoding_btf_decl_tag`.
    pub skip_decl_tags: bool,
    /// `--skip_encoding_btf_type_tag`.
    pub skip_type_tags: bool,
    /// `--skip_encoding_btf_enum64`: 64-bit enums as ENUM with truncated values.
    pub skip_enum64: bool,
    /// `--lang` / `--lang_exclude`.
    pub languages: LanguageFilter,
    /// `--btf_encode_force`: skip per-CPU symbols with names BTF cannot
    /// hold and per-CPU variables of void type, instead of failing.
    pub force: bool,
}

impl EncodeOptions {
    /// What Linux 6.x passes to pahole 1.24:
    /// `-J --btf_gen_floats --lang_exclude=rust`.
    pub fn kernel() -> EncodeOptions {
        EncodeOptions {
            gen_floats: true,
            languages: LanguageFilter::Exclude(vec![dw::DW_LANG_Rust.0]),
            ..EncodeOptions::default()
        }
    }
}

/// Encodes the DWARF of an ELF file (vmlinux or a module) as BTF, split
/// over `base` when one is given, exactly as pahole 1.24 does before dedup.
/// A result without types of its own is where pahole writes no file.
/// Errors name the file and, for DWARF problems, the `.debug_info` offset.
pub fn encode_file(
    path: impl AsRef<Path>,
    base: Option<Arc<Btf>>,
    opts: &EncodeOptions,
) -> Result<Btf> {
    let path = path.as_ref();
    let run = || -> Result<Btf> {
        let bytes = FileBytes::open(path)?;
        encode_elf(&bytes, base, opts)
    };
    run().map_err(|e| e.in_file(path))
}

/// [`encode_file`] on the bytes of an ELF file.
pub fn encode_elf(bytes: &[u8], base: Option<Arc<Btf>>, opts: &EncodeOptions) -> Result<Btf> {
    match object::FileKind::parse(bytes)? {
        object::FileKind::Elf32 => encode::<object::elf::FileHeader32<object::Endianness>>(
            &ElfFile32::parse(bytes)?,
            base,
            opts,
        ),
        object::FileKind::Elf64 => encode::<object::elf::FileHeader64<object::Endianness>>(
            &ElfFile64::parse(bytes)?,
            base,
            opts,
        ),
        other => Err(Error::Elf(format!("not an ELF file ({other:?})"))),
    }
}

/// The DWARF sections the encoder reads (gimli parses a unit's line
/// program header when it opens the unit); the others (frames, location
/// and range lists) are neither loaded nor relocated.
const DWARF_SECTIONS_READ: &[&str] = &[
    ".debug_info",
    ".debug_line",
    ".debug_abbrev",
    ".debug_str",
    ".debug_str_offsets",
    ".debug_line_str",
    ".debug_addr",
];

fn dwarf_error(offset: u64, what: impl std::fmt::Display) -> Error {
    Error::Dwarf {
        offset,
        what: what.to_string(),
    }
}

fn encode<H: FileHeader>(
    file: &ElfFile<'_, H>,
    base: Option<Arc<Btf>>,
    opts: &EncodeOptions,
) -> Result<Btf> {
    let is_rel = file.kind() == object::ObjectKind::Relocatable;
    let layout = reloc::Layout::new(file);
    let mut sections: FxHashMap<&str, Cow<'_, [u8]>> = FxHashMap::default();
    for section in file.sections() {
        let Ok(name) = section.name() else { continue };
        // Like libdw: sections in a group (comdat type units of a .o) are
        // skipped, and of two sections with one name the first is kept.
        let in_group = matches!(section.flags(),
            object::SectionFlags::Elf { sh_flags, .. } if sh_flags.0 & object::elf::SHF_GROUP.0 != 0);
        if !DWARF_SECTIONS_READ.contains(&name) || in_group || sections.contains_key(name) {
            continue;
        }
        let data = if is_rel {
            reloc::relocated(file, &section, &layout)?
        } else {
            section.uncompressed_data()?
        };
        sections.insert(name, data);
    }
    let endian = if file.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let dwarf = gimli::Dwarf::load(|id| -> Result<R<'_>> {
        let data = sections.get(id.name()).map_or(&[][..], |d| &d[..]);
        Ok(gimli::EndianSlice::new(data, endian))
    })?;
    let symbols =
        symbols::SymbolIndex::read(file, |i| layout.base(i), !opts.skip_vars, opts.force)?;

    let mut btf = match base {
        Some(base) => Btf::new_split(base),
        None => Btf::new(),
    };
    btf.set_endian(if file.is_little_endian() {
        Endian::Little
    } else {
        Endian::Big
    });
    let mut builder = emit::BtfBuilder::new(btf, opts, &symbols);
    let walk_opts = walk::WalkOptions {
        little_endian: file.is_little_endian(),
        decl_tags: !opts.skip_decl_tags,
        type_tags: !opts.skip_type_tags,
    };

    let mut headers = Vec::new();
    let mut units = dwarf.units();
    while let Some(h) = units.next().map_err(|e| dwarf_error(0, e))? {
        headers.push(h);
    }
    if merged_dwarf(file, &dwarf, &headers)? {
        let model = decode_units(&dwarf, &headers, walk_opts)?;
        if let Some(model) = model {
            add_cu(&mut builder, &model, opts, 0)?;
        }
        return builder.finish();
    }
    // Decode a few units per thread at a time: bounded memory, any thread count.
    let chunk = rayon::current_num_threads().max(1) * 4;
    for batch in headers.chunks(chunk) {
        let models: Vec<Result<Option<cu::CuModel<'_>>>> = batch
            .par_iter()
            .map(|h| decode_units(&dwarf, std::slice::from_ref(h), walk_opts))
            .collect();
        for (h, model) in batch.iter().zip(models) {
            if let Some(model) = model? {
                add_cu(&mut builder, &model, opts, unit_offset(h))?;
            }
        }
    }
    builder.finish()
}

fn unit_offset(h: &gimli::UnitHeader<R<'_>>) -> u64 {
    h.offset().0 as u64
}

fn add_cu(
    builder: &mut emit::BtfBuilder<'_, '_>,
    model: &cu::CuModel<'_>,
    opts: &EncodeOptions,
    unit: u64,
) -> Result<()> {
    if !opts.languages.accepts(model.language) {
        return Ok(());
    }
    builder.add_cu(model).map_err(|e| {
        dwarf_error(
            if e.die != 0 { e.die } else { unit },
            format_args!("{} (in the unit at {unit:#x})", e.what),
        )
    })
}

/// Walks `headers` into one model (one unit, or all of them when merged).
/// None for units pahole skips.
fn decode_units<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    headers: &[gimli::UnitHeader<R<'a>>],
    opts: walk::WalkOptions,
) -> Result<Option<cu::CuModel<'a>>> {
    let units = headers
        .iter()
        .map(|h| dwarf.unit(*h).map_err(|e| dwarf_error(unit_offset(h), e)))
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = units.first() else {
        return Ok(None);
    };
    let mut walker = walk::Walker::new(dwarf, first, opts);
    let mut any = false;
    for (unit, h) in units.iter().zip(headers) {
        walker.set_unit(unit);
        let fail = |e: walk::WalkError| match e {
            walk::WalkError::Dwarf(e) => dwarf_error(unit_offset(h), e),
            walk::WalkError::Unsupported { die, what } => {
                dwarf_error(die.max(unit_offset(h)), what)
            }
        };
        any |= walker.walk_unit().map_err(fail)?;
    }
    if !any {
        return Ok(None);
    }
    walker
        .finish()
        .map(Some)
        .map_err(|what| dwarf_error(unit_offset(&headers[0]), what))
}

/// pahole merges all units into one when the kernel was built with LTO
/// (a `Linux` note of type 0x101 that says so) or any unit refers across
/// units (`DW_FORM_ref_addr`).
fn merged_dwarf<H: FileHeader>(
    file: &ElfFile<'_, H>,
    dwarf: &gimli::Dwarf<R<'_>>,
    headers: &[gimli::UnitHeader<R<'_>>],
) -> Result<bool> {
    use gimli::Section;
    const LINUX_ELFNOTE_BUILD_LTO: u32 = 0x101;
    let endian = file.endian();
    for section in file.elf_section_table().iter() {
        let Ok(Some(mut notes)) = section.notes(endian, file.data()) else {
            continue;
        };
        while let Ok(Some(note)) = notes.next() {
            if note.n_type(endian).0 == LINUX_ELFNOTE_BUILD_LTO && note.name() == b"Linux" {
                let desc = note.desc();
                if desc.len() >= 4 {
                    let v = if file.is_little_endian() {
                        u32::from_le_bytes([desc[0], desc[1], desc[2], desc[3]])
                    } else {
                        u32::from_be_bytes([desc[0], desc[1], desc[2], desc[3]])
                    };
                    return Ok(v != 0);
                }
            }
        }
    }
    let abbrev = dwarf.debug_abbrev.reader();
    let mut seen = rustc_hash::FxHashSet::default();
    for h in headers {
        let offset = h.debug_abbrev_offset().0;
        if seen.insert(offset) && abbrevs_use_ref_addr(abbrev, offset) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the abbreviation table at `offset` has an attribute of form
/// `DW_FORM_ref_addr` (a malformed table counts as not).
fn abbrevs_use_ref_addr(section: &R<'_>, offset: usize) -> bool {
    use gimli::Reader;
    let mut r = *section;
    if r.skip(offset).is_err() {
        return false;
    }
    let mut scan = || -> gimli::Result<bool> {
        loop {
            if r.read_uleb128()? == 0 {
                return Ok(false);
            }
            r.read_uleb128()?; // tag
            r.read_u8()?; // children
            loop {
                let name = r.read_uleb128()?;
                let form = r.read_uleb128()?;
                if form == dw::DW_FORM_implicit_const.0 as u64 {
                    r.read_sleb128()?;
                }
                if name == 0 && form == 0 {
                    break;
                }
                if form == dw::DW_FORM_ref_addr.0 as u64 {
                    return Ok(true);
                }
            }
        }
    };
    scan().unwrap_or(false)
}

/// Encodes and deduplicates, as `pahole -J` does: the `.BTF` pahole 1.24
/// writes for this file (split over `base` when one is given).
///
/// The strings keep the order in which encoding interned them, unused ones
/// included: pahole's libbpf does not rebuild the string section of BTF it
/// built itself, and the bytes depend on it.
pub fn encode_deduped(
    path: impl AsRef<Path>,
    base: Option<Arc<Btf>>,
    opts: &EncodeOptions,
) -> Result<Btf> {
    let path = path.as_ref();
    let mut btf = encode_file(path, base, opts)?;
    let keep_strings = crate::dedup::DedupOptions {
        rebuild_strings: false,
    };
    crate::dedup::dedup(&mut btf, &keep_strings).map_err(|e| e.in_file(path))?;
    Ok(btf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_by_pahole_name() {
        assert_eq!(language_by_name("Rust"), Some(dw::DW_LANG_Rust.0));
        assert_eq!(language_by_name("c11"), Some(dw::DW_LANG_C11.0));
        assert_eq!(language_by_name("klingon"), None);
        let kernel = EncodeOptions::kernel().languages;
        assert!(!kernel.accepts(dw::DW_LANG_Rust.0 as u64));
        assert!(kernel.accepts(dw::DW_LANG_C11.0 as u64));
        assert!(LanguageFilter::Only(vec![dw::DW_LANG_C.0]).accepts(dw::DW_LANG_C.0 as u64));
    }
}
