//! The DWARF -> BTF encoder (cargo feature `dwarf`): what `pahole -J`
//! (version 1.24, 1.30 or 1.32: [`PaholeVersion`]) builds from a vmlinux or a
//! kernel module, before dedup.
//!
//! The jobs are kept apart:
//! * `reloc`: relocating the `.debug_*` sections of ET_REL files;
//! * `symbols`: the ELF symbol index (function names, per-CPU variables);
//! * `walk` (with `die` and `recode`): the DWARF walk, one `CuModel` per unit;
//! * `funcs` and `percpu`: which functions and variables are encoded;
//! * `elf_functions`, `glibc`, `saved_funcs` and `kfuncs`: pahole 1.30's
//!   function table, its sort and lookups, the functions it collects across
//!   units and emits after the last one, and the kfuncs of `.BTF_ids`;
//! * `emit`: the BTF builder, appending CUs in order.
//!
//! Units are walked in parallel and appended in unit order, so the result
//! does not depend on the number of threads. Deduplication is a separate
//! pass (`btf__dedup` in libbpf terms); [`encode_file`] returns the BTF
//! pahole would hand to it.

mod abbrev;
mod cu;
mod die;
mod elf_functions;
mod emit;
mod funcs;
mod glibc;
mod kfuncs;
mod lang;
mod lto;
mod percpu;
mod recode;
pub(crate) mod reloc;
mod saved_funcs;
mod strmemo;
pub(crate) mod symbols;
mod walk;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use gimli::constants as dw;
use object::read::elf::{ElfFile, ElfFile32, ElfFile64, FileHeader};
use object::{Object, ObjectSection};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::input::FileBytes;
use crate::{Btf, Endian, Error, Result};

pub use lang::{language_by_name, LanguageFilter};

/// The DWARF reader type: a borrowed, runtime-endian slice.
pub(crate) type R<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

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
    /// Whose encoding to reproduce. The three features below exist from
    /// pahole 1.26 on and are ignored for 1.24.
    pub version: PaholeVersion,
    /// `optimized_func` (`--btf_gen_optimized`): a function whose symbol
    /// has a suffix (`.isra.0`, `.cold`, ...) is encoded under its DWARF name.
    pub optimized_func: bool,
    /// `consistent_func` (`--skip_encoding_btf_inconsistent_proto`): drop
    /// functions whose definitions disagree across units or take a
    /// parameter in an unexpected register.
    pub consistent_func: bool,
    /// `decl_tag_kfuncs`: `bpf_kfunc` (and `bpf_fastcall`) decl tags on the
    /// kfuncs of the input's `.BTF_ids`.
    pub decl_tag_kfuncs: bool,
    /// `attributes` (pahole 1.32): the pointers a kfunc's `.BTF_ids` flags
    /// mark as arena pointers (KF_ARENA_RET/ARG1/ARG2) point through a
    /// `TYPE_TAG "address_space(1)"` with kind_flag 1.
    pub attributes: bool,
    /// `distilled_base` (pahole 1.28+, out-of-tree modules of Linux 6.x):
    /// a split BTF is written over its distilled base ([`crate::Btf::distill_base`]),
    /// as `.BTF` and `.BTF.base`. The encoding itself is the same; whoever
    /// writes the result distills it.
    pub distilled_base: bool,
}

/// The pahole version whose output the encoder reproduces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PaholeVersion {
    /// Debian bookworm's: functions per unit, exact symbol names only.
    #[default]
    V1_24,
    /// Debian trixie's (libbpf 1.5.0): functions collected over all units
    /// and emitted last, sorted by name; VARs named after DWARF.
    V1_30,
    /// Debian sid's (libbpf 1.7.0): 1.30's functions with symbols grouped by
    /// name, multi-dimensional arrays nested, arena type tags.
    V1_32,
}

impl PaholeVersion {
    /// `"1.24"`, `"v1.24"`, `"124"` and the like.
    pub fn parse(s: &str) -> Option<PaholeVersion> {
        match s.trim().trim_start_matches('v') {
            "1.24" | "124" => Some(PaholeVersion::V1_24),
            "1.30" | "130" => Some(PaholeVersion::V1_30),
            "1.32" | "132" => Some(PaholeVersion::V1_32),
            _ => None,
        }
    }

    /// What that pahole's `--version` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            PaholeVersion::V1_24 => "v1.24",
            PaholeVersion::V1_30 => "v1.30",
            PaholeVersion::V1_32 => "v1.32",
        }
    }
}

impl std::fmt::Display for PaholeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

    /// What Linux (6.12 for 1.30, 7.2 for 1.32) passes to that pahole
    /// version: for 1.30,
    /// `--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,
    /// optimized_func,consistent_func,decl_tag_kfuncs --lang_exclude=rust`.
    pub fn kernel_for(version: PaholeVersion) -> EncodeOptions {
        match version {
            PaholeVersion::V1_24 => EncodeOptions::kernel(),
            PaholeVersion::V1_30 => EncodeOptions {
                force: true,
                version,
                optimized_func: true,
                consistent_func: true,
                decl_tag_kfuncs: true,
                ..EncodeOptions::kernel()
            },
            // Linux 7.2 adds `--btf_features=attributes` (and `layout`,
            // which Debian's pahole 1.32 leaves off: its libbpf lacks it).
            PaholeVersion::V1_32 => EncodeOptions {
                version,
                attributes: true,
                ..EncodeOptions::kernel_for(PaholeVersion::V1_30)
            },
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
    let run = || -> Result<Btf> { encode_mapped(&FileBytes::open(path)?, base, opts) };
    run().map_err(|e| e.in_file(path))
}

/// [`encode_file`] on the bytes of an ELF file.
pub fn encode_elf(bytes: &[u8], base: Option<Arc<Btf>>, opts: &EncodeOptions) -> Result<Btf> {
    encode_elf_kind(bytes, base, opts, &|_| {}).map_err(|e| unrelocated_hint(bytes, e))
}

/// [`encode_elf`] on a file's bytes, letting the encoded DWARF of a mapped
/// file leave the resident set as it goes (see [`FileBytes::release`]): a
/// vmlinux's 200 MiB of `.debug_info` would otherwise stay to the end.
pub fn encode_mapped(
    bytes: &FileBytes,
    base: Option<Arc<Btf>>,
    opts: &EncodeOptions,
) -> Result<Btf> {
    encode_elf_kind(bytes, base, opts, &|part| bytes.release(part))
        .map_err(|e| unrelocated_hint(bytes, e))
}

/// Told which bytes of the input the encoder is done with (see
/// [`FileBytes::release`]).
type Release<'r> = &'r (dyn Fn(&[u8]) + Sync);

/// A DWARF error of an ET_REL file whose `.debug_info` has no relocations
/// (`objcopy --remove-section .rela.debug_*`) says so: its offsets into the
/// other DWARF sections are then unrelocated, and the error alone puzzles.
/// (pahole 1.24 prints a libdw error for such a file but exits 0.)
fn unrelocated_hint(bytes: &[u8], e: Error) -> Error {
    let Error::Dwarf { offset, what } = e else {
        return e;
    };
    // Only where the toolchain made relocations (other sections have them)
    // and .debug_info's are gone: an object that never had any (hand-made,
    // or needing none) gets the plain error.
    let unrelocated = object::File::parse(bytes).is_ok_and(|f| {
        f.kind() == object::ObjectKind::Relocatable
            && f.section_by_name(".debug_info")
                .is_some_and(|s| s.relocations().next().is_none())
            && f.sections().any(|s| s.relocations().next().is_some())
    });
    let what = if unrelocated {
        format!("{what} (an ET_REL file without relocations for .debug_info: .rela.debug_info removed?)")
    } else {
        what
    };
    Error::Dwarf { offset, what }
}

fn encode_elf_kind(
    bytes: &[u8],
    base: Option<Arc<Btf>>,
    opts: &EncodeOptions,
    release: Release<'_>,
) -> Result<Btf> {
    match object::FileKind::parse(bytes)? {
        object::FileKind::Elf32 => encode::<object::elf::FileHeader32<object::Endianness>>(
            &ElfFile32::parse(bytes)?,
            base,
            opts,
            release,
        ),
        object::FileKind::Elf64 => encode::<object::elf::FileHeader64<object::Endianness>>(
            &ElfFile64::parse(bytes)?,
            base,
            opts,
            release,
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

/// The argument registers (DWARF numbers) pahole 1.30 expects on a machine
/// (its `arch__set_register_params`; other machines get no check).
fn register_params(e_machine: object::elf::Machine) -> &'static [u8] {
    match e_machine {
        object::elf::EM_X86_64 => die::X86_64_ARG_REGS,
        object::elf::EM_S390 => &[2, 3, 4, 5, 6],
        object::elf::EM_ARM | object::elf::EM_AARCH64 => &[0, 1, 2, 3, 4, 5, 6, 7],
        _ => &[],
    }
}

/// Location lists: read only for pahole 1.30's unexpected-register rule.
const LOCATION_SECTIONS: &[&str] = &[".debug_loc", ".debug_loclists"];

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
    release: Release<'_>,
) -> Result<Btf> {
    let is_rel = file.kind() == object::ObjectKind::Relocatable;
    let v130 = opts.version >= PaholeVersion::V1_30;
    let needs_locations = v130 && (opts.consistent_func || opts.version >= PaholeVersion::V1_32);
    let layout = reloc::Layout::new(file);
    let mut sections: FxHashMap<&str, Cow<'_, [u8]>> = FxHashMap::default();
    for section in file.sections() {
        let Ok(name) = section.name() else { continue };
        // Like libdw: sections in a group (comdat type units of a .o) are
        // skipped, and of two sections with one name the first is kept.
        let in_group = matches!(section.flags(),
            object::SectionFlags::Elf { sh_flags, .. } if sh_flags.0 & object::elf::SHF_GROUP.0 != 0);
        let wanted = DWARF_SECTIONS_READ.contains(&name)
            || (needs_locations && LOCATION_SECTIONS.contains(&name));
        if !wanted || in_group || sections.contains_key(name) {
            continue;
        }
        let data = if is_rel {
            reloc::relocated(file, &section, &layout)?
        } else {
            crate::input::section_data(&section)?
        };
        sections.insert(name, data);
    }
    if is_rel {
        // The relocated copies are what the encoder reads: the mapped
        // originals and their relocations (mlx5_core.ko: 21 MB of
        // .debug_info, 29 MB of .rela.debug_info) need not stay resident.
        for section in file.sections() {
            let copied = section.name().is_ok_and(|name| {
                let relocations_of = name
                    .strip_prefix(".rela")
                    .or_else(|| name.strip_prefix(".rel"));
                matches!(sections.get(name), Some(Cow::Owned(_)))
                    || relocations_of.is_some_and(|target| {
                        DWARF_SECTIONS_READ.contains(&target) || LOCATION_SECTIONS.contains(&target)
                    })
            });
            if copied {
                if let Ok(data) = section.data() {
                    release(data);
                }
            }
        }
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
    let mut symbols = symbols::SymbolIndex::read(
        file,
        |i| layout.base(i),
        !opts.skip_vars && !v130,
        opts.force,
        v130,
        opts.version >= PaholeVersion::V1_32,
    )?;
    if let Some(s) = symbols.v130.as_mut() {
        if opts.decl_tag_kfuncs {
            for (name, flags) in kfuncs::collect(file)? {
                if let Some(i) = s.functions.find_exact(name) {
                    s.functions.entries[i].kfunc_flags = Some(flags);
                }
            }
        }
    }

    let mut btf = match base {
        Some(base) => Btf::new_split(base),
        None => Btf::new(),
    };
    btf.set_endian(if file.is_little_endian() {
        Endian::Little
    } else {
        Endian::Big
    });
    let debug_str = sections.get(".debug_str").map_or(&[][..], |d| &d[..]);
    let mut builder = emit::BtfBuilder::new(btf, opts, &symbols, debug_str);
    let walk_opts = walk::WalkOptions {
        little_endian: file.is_little_endian(),
        decl_tags: !opts.skip_decl_tags,
        type_tags: !opts.skip_type_tags,
        unspecified_is_void: v130,
        nested_arrays: opts.version >= PaholeVersion::V1_32,
        params_132: opts.version >= PaholeVersion::V1_32,
        register_params: if needs_locations {
            register_params(file.elf_header().e_machine(file.endian()))
        } else {
            &[]
        },
    };

    let mut headers = Vec::new();
    let mut units = dwarf.units();
    while let Some(h) = units.next().map_err(|e| dwarf_error(0, e))? {
        headers.push(h);
    }
    let abbrevs = {
        use gimli::Section;
        abbrev::scan(
            dwarf.debug_abbrev.reader(),
            headers.iter().map(|h| h.debug_abbrev_offset().0),
        )?
    };
    if lto::merged_dwarf(file, abbrevs.uses_ref_addr) {
        let model = decode_units(&dwarf, &headers, walk_opts)?;
        if let Some(model) = model {
            add_cu(&mut builder, &model, opts, 0)?;
        }
        return finish(builder);
    }
    // Decode a few units per thread at a time (bounded memory), and decode
    // the next batch while this one is added to the BTF: adding is serial,
    // in unit order, so the output is the same for any thread count.
    let chunk = rayon::current_num_threads().max(1) * 4;
    let debug_info = sections.get(".debug_info").map_or(&[][..], |d| &d[..]);
    let mut released = 0;
    let decode = |batch| decode_batch(&dwarf, batch, walk_opts);
    let mut batches = headers.chunks(chunk);
    let mut pending = batches.next().map(|b| (b, decode(b)));
    while let Some((batch, models)) = pending.take() {
        let next = batches.next();
        let (added, decoded) = rayon::join(
            || -> Result<()> {
                for (h, model) in batch.iter().zip(models) {
                    if let Some(model) = model? {
                        add_cu(&mut builder, &model, opts, unit_offset(h))?;
                    }
                }
                Ok(())
            },
            || next.map(|b| (b, decode(b))),
        );
        added?;
        // The units before the next batch are encoded: their DWARF need not
        // stay resident (vmlinux has 200 MiB of it).
        let done = decoded
            .as_ref()
            .and_then(|(b, _)| b.first())
            .map_or(debug_info.len(), |h| unit_offset(h) as usize)
            .clamp(released, debug_info.len());
        release(&debug_info[released..done]);
        released = done;
        pending = decoded;
    }
    finish(builder)
}

/// The built BTF, if every type id in it names a type. Damaged DWARF can
/// leave a reference to a type the encoder skipped, as it does pahole 1.24,
/// whose dedup (libbpf) then fails; the encoder says so itself, so that
/// nobody gets BTF the parser would refuse. Only the types built here are
/// checked: a base's are its own (dedup checks them, once for all the
/// modules of a batch), and reading a vmlinux base's again cost every
/// module a pass over 150k types.
fn finish(builder: emit::BtfBuilder<'_, '_>) -> Result<Btf> {
    let btf = builder.finish()?;
    crate::dedup::check_own_input(&btf)?;
    Ok(btf)
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

/// Decodes each unit of `batch` on its own, in parallel.
fn decode_batch<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    batch: &[gimli::UnitHeader<R<'a>>],
    opts: walk::WalkOptions,
) -> Vec<Result<Option<cu::CuModel<'a>>>> {
    batch
        .par_iter()
        .map(|h| decode_units(dwarf, std::slice::from_ref(h), opts))
        .collect()
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
    let btf = encode_file(path, base, opts)?;
    crate::dedup::dedup_owned(btf, &dedup_options(opts), None).map_err(|e| e.in_file(path))
}

/// How the emulated pahole's libbpf deduplicates what it encoded: the
/// strings as interned (libbpf keeps the string section of BTF it built),
/// and libbpf 1.7.0's rules for pahole 1.32 (Debian sid links that one).
pub fn dedup_options(opts: &EncodeOptions) -> crate::dedup::DedupOptions {
    crate::dedup::DedupOptions {
        rebuild_strings: false,
        libbpf_1_7: opts.version >= PaholeVersion::V1_32,
    }
}
