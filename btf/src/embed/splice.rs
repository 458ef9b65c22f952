//! Adding or replacing whole sections of an ELF file in memory.
//!
//! The rewrite is a list of splices on the file's bytes: each replaced
//! section's bytes, the section name table when names are added, and the
//! section header table (preceded by the data of new sections) are cut out
//! and their new contents put in their place. Everything between splices is
//! copied as it is, so every other section keeps its bytes, its header
//! fields other than `sh_offset`, and its index: symbols, relocations and
//! groups, which refer to sections by index, stay valid without being read.
//!
//! A splice that changes the length of the file moves what follows it by a
//! multiple of the largest alignment among the things that follow, so each
//! keeps its alignment and its padding. Same-length splices move nothing:
//! writing a section's own bytes back gives the input file unchanged.
//!
//! Linked files (ET_EXEC, ET_DYN) are rewritten only where no segment moves:
//! sections may change size only after the last segment's bytes.

use std::borrow::Cow;

use object::elf;

use super::elf::{elf_err, patch_section_table_fields, Layout, Shdr, Writer, SHT_NOBITS};
use crate::Result;

/// Largest section alignment a resized splice honours: a bigger one would
/// make every later section move by that much.
const MAX_ALIGN: u64 = 1 << 24;

/// Returns a copy of the ELF file `elf` in which each `(name, bytes)` of
/// `sections` is the content of the section `name`: an existing section
/// keeps its header (type, flags, alignment, links; `SHF_COMPRESSED` is
/// dropped since the bytes are stored as given) and a missing one is
/// appended to the section header table as `objcopy --add-section` makes
/// it (SHT_PROGBITS, no flags, alignment 1), its name added to the section
/// name table.
///
/// Every other section keeps its index and its bytes. Errors say what is
/// wrong with the file (truncated, tables out of bounds, overlapping
/// sections) or with the request.
///
/// ```
/// use kbtf_btf::embed::{btf_object, set_sections, ElfInfo};
///
/// let x86_64 = ElfInfo {
///     is_64: true,
///     endian: object::Endianness::Little,
///     machine: object::elf::EM_X86_64.0,
///     flags: 0,
///     os_abi: 0,
///     abi_version: 0,
/// };
/// let elf = btf_object(b"old", &x86_64)?;
/// let new = set_sections(&elf, &[(".BTF", b"new, longer"), (".BTF.base", b"base")])?;
/// // Writing the same bytes again changes nothing.
/// assert_eq!(set_sections(&new, &[(".BTF", b"new, longer")])?, new);
/// # Ok::<(), kbtf_btf::Error>(())
/// ```
pub fn set_sections(elf: &[u8], sections: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let layout = Layout::parse(elf)?;
    let plan = Plan::new(elf, &layout, sections)?;
    plan.write(elf, &layout)
}

/// One cut: the old bytes `start..end` give way to `content`.
struct Splice<'a> {
    start: u64,
    end: u64,
    content: Content<'a>,
    /// What the cut is, for error messages.
    what: String,
    /// Filled by `Plan::place`: the new start, and the new length
    /// (content plus zero padding).
    new_start: u64,
    new_len: u64,
}

enum Content<'a> {
    /// New bytes of section `index` (a replaced section or the name table).
    Section { index: usize, bytes: Cow<'a, [u8]> },
    /// The data of the added sections, then the section header table.
    Table,
}

/// An added section: its name offset and bytes.
struct Added<'a> {
    name: u32,
    bytes: &'a [u8],
}

struct Plan<'a> {
    splices: Vec<Splice<'a>>,
    added: Vec<Added<'a>>,
    /// Section header table offset inside the `Table` splice's content.
    table_in_splice: u64,
}

impl<'a> Plan<'a> {
    fn new(elf: &'a [u8], layout: &Layout, sections: &[(&str, &'a [u8])]) -> Result<Plan<'a>> {
        let mut splices = Vec::new();
        let mut added = Vec::new();
        let mut new_names: Vec<u8> = Vec::new();
        let shstrtab = layout.shstrtab(elf)?;
        for (n, &(name, bytes)) in sections.iter().enumerate() {
            if name.is_empty() || name.contains('\0') {
                return Err(elf_err(format!("bad section name {name:?}")));
            }
            if sections[..n].iter().any(|&(other, _)| other == name) {
                return Err(elf_err(format!("section {name} is given twice")));
            }
            let mut found = None;
            for i in 1..layout.sections.len() {
                if layout.section_name(elf, i)? == name.as_bytes() {
                    if let Some(first) = found {
                        return Err(elf_err(format!(
                            "the file has two sections named {name}: [{first}] and [{i}]"
                        )));
                    }
                    found = Some(i);
                }
            }
            match found {
                Some(index) => {
                    let s = &layout.sections[index];
                    if index == layout.shstrndx {
                        return Err(elf_err(format!(
                            "section {name} is the section name table; it cannot be replaced"
                        )));
                    }
                    if s.sh_type == SHT_NOBITS {
                        return Err(elf_err(format!(
                            "section {name} [{index}] is SHT_NOBITS and has no bytes to replace"
                        )));
                    }
                    splices.push(Splice {
                        start: s.offset,
                        end: s.offset + s.size,
                        content: Content::Section {
                            index,
                            bytes: Cow::Borrowed(bytes),
                        },
                        what: format!("section {name} [{index}]"),
                        new_start: 0,
                        new_len: 0,
                    });
                }
                None => {
                    let off = shstrtab.len() + new_names.len();
                    let name_off = u32::try_from(off)
                        .map_err(|_| elf_err("the section name table would exceed 4 GiB".into()))?;
                    new_names.extend_from_slice(name.as_bytes());
                    new_names.push(0);
                    added.push(Added {
                        name: name_off,
                        bytes,
                    });
                }
            }
        }
        if !new_names.is_empty() {
            let index = layout.shstrndx;
            let s = &layout.sections[index];
            let mut bytes = shstrtab.to_vec();
            bytes.extend_from_slice(&new_names);
            splices.push(Splice {
                start: s.offset,
                end: s.offset + s.size,
                content: Content::Section {
                    index,
                    bytes: Cow::Owned(bytes),
                },
                what: format!("the section name table [{index}]"),
                new_start: 0,
                new_len: 0,
            });
        }
        let table_size = (layout.sections.len() * layout.info.shdr_size()) as u64;
        splices.push(Splice {
            start: layout.shoff,
            end: layout.shoff + table_size,
            content: Content::Table,
            what: "the section header table".into(),
            new_start: 0,
            new_len: 0,
        });
        splices.sort_by_key(|s| (s.start, s.end));
        let mut plan = Plan {
            splices,
            added,
            table_in_splice: 0,
        };
        plan.check_overlaps(elf, layout)?;
        plan.place(layout)?;
        Ok(plan)
    }

    /// Splices must not cut into each other, the file header or a section
    /// they do not replace.
    fn check_overlaps(&self, elf: &[u8], layout: &Layout) -> Result<()> {
        let ehdr = layout.info.ehdr_size() as u64;
        for (k, sp) in self.splices.iter().enumerate() {
            if sp.start < ehdr {
                return Err(elf_err(format!(
                    "{} (offset {:#x}) overlaps the ELF header",
                    sp.what, sp.start
                )));
            }
            if let Some(next) = self.splices.get(k + 1) {
                if next.start < sp.end {
                    return Err(elf_err(format!(
                        "{} (offset {:#x}..{:#x}) overlaps {} (offset {:#x})",
                        sp.what, sp.start, sp.end, next.what, next.start
                    )));
                }
            }
            for (i, s) in layout.sections.iter().enumerate().skip(1) {
                let own = matches!(sp.content, Content::Section { index, .. } if index == i);
                let end = s.offset + s.file_size();
                if !own && s.file_size() > 0 && s.offset < sp.end && sp.start < end {
                    return Err(elf_err(format!(
                        "{} (offset {:#x}..{:#x}) overlaps section {} [{i}] (offset {:#x}..{end:#x})",
                        sp.what,
                        sp.start,
                        sp.end,
                        String::from_utf8_lossy(layout.section_name(elf, i)?),
                        s.offset
                    )));
                }
            }
        }
        Ok(())
    }

    /// Decides where each splice goes and how long it becomes.
    fn place(&mut self, layout: &Layout) -> Result<()> {
        let word = layout.info.word_align();
        let added_len: u64 = self.added.iter().map(|a| a.bytes.len() as u64).sum();
        let table_size =
            ((layout.sections.len() + self.added.len()) * layout.info.shdr_size()) as u64;
        let mut shift: i128 = 0;
        let mut table_in_splice = 0;
        for k in 0..self.splices.len() {
            let align = self.align_after(layout, self.splices[k].end)?;
            let sp = &mut self.splices[k];
            let new_start = (i128::from(sp.start) + shift) as u64;
            let len = match &sp.content {
                Content::Section { bytes, .. } => bytes.len() as u64,
                Content::Table => {
                    let table_at = (new_start + added_len).next_multiple_of(word);
                    table_in_splice = table_at - new_start;
                    table_in_splice + table_size
                }
            };
            let growth = i128::from(len) - i128::from(sp.end - sp.start);
            let delta = round_up(growth, i128::from(align));
            sp.new_start = new_start;
            sp.new_len = (i128::from(sp.end - sp.start) + delta) as u64;
            if delta != 0 {
                check_segments_before(layout, sp)?;
            }
            shift += delta;
        }
        self.table_in_splice = table_in_splice;
        Ok(())
    }

    /// The largest alignment among the sections and tables at or after
    /// `at`: what a length change at `at` must keep.
    fn align_after(&self, layout: &Layout, at: u64) -> Result<u64> {
        let mut align = 1;
        for (i, s) in layout.sections.iter().enumerate().skip(1) {
            if s.offset >= at {
                let a = s.addralign.max(1).checked_next_power_of_two();
                match a {
                    Some(a) if a <= MAX_ALIGN => align = align.max(a),
                    _ => {
                        return Err(elf_err(format!(
                            "section [{i}] has alignment {:#x}, too large to move it",
                            s.addralign
                        )))
                    }
                }
            }
        }
        if layout.shoff >= at || (!layout.segments.is_empty() && layout.phoff >= at) {
            align = align.max(layout.info.word_align());
        }
        Ok(align)
    }

    /// Where an unreplaced section's bytes go: moved by every splice that
    /// ends at or before them.
    fn new_offset(&self, old: u64) -> u64 {
        let mut shift: i128 = 0;
        for sp in &self.splices {
            if sp.end <= old {
                shift += i128::from(sp.new_len) - i128::from(sp.end - sp.start);
            }
        }
        (i128::from(old) + shift) as u64
    }

    fn write(&self, elf: &[u8], layout: &Layout) -> Result<Vec<u8>> {
        let info = layout.info;
        let mut headers: Vec<Shdr> = layout.sections.clone();
        let mut shoff = 0;
        for (i, h) in headers.iter_mut().enumerate().skip(1) {
            h.offset = self.new_offset(layout.sections[i].offset);
        }
        for sp in &self.splices {
            match &sp.content {
                Content::Section { index, bytes } => {
                    let h = &mut headers[*index];
                    h.offset = sp.new_start;
                    h.size = bytes.len() as u64;
                    h.flags &= !elf::SHF_COMPRESSED.0;
                }
                Content::Table => {
                    let mut at = sp.new_start;
                    for a in &self.added {
                        headers.push(Shdr {
                            name: a.name,
                            sh_type: elf::SHT_PROGBITS.0,
                            flags: 0,
                            addr: 0,
                            offset: at,
                            size: a.bytes.len() as u64,
                            link: 0,
                            info: 0,
                            addralign: 1,
                            entsize: 0,
                        });
                        at += a.bytes.len() as u64;
                    }
                    shoff = sp.new_start + self.table_in_splice;
                }
            }
        }
        if headers.len() >= usize::from(elf::SHN_LORESERVE) {
            headers[0].size = headers.len() as u64;
        }
        if !info.is_64 {
            let too_big = headers
                .iter()
                .any(|h| h.offset > u32::MAX.into() || h.size > u32::MAX.into());
            if too_big || shoff > u32::MAX.into() {
                return Err(elf_err(
                    "the rewritten ELF32 file would exceed 4 GiB".into(),
                ));
            }
        }

        let new_len = self.new_offset(elf.len() as u64);
        let mut out = Vec::with_capacity(usize::try_from(new_len).unwrap_or(0));
        let mut cursor = 0usize;
        for sp in &self.splices {
            out.extend_from_slice(&elf[cursor..sp.start as usize]);
            debug_assert_eq!(out.len() as u64, sp.new_start);
            match &sp.content {
                Content::Section { bytes, .. } => out.extend_from_slice(bytes),
                Content::Table => {
                    for a in &self.added {
                        out.extend_from_slice(a.bytes);
                    }
                    out.resize((sp.new_start + self.table_in_splice) as usize, 0);
                    let mut w = Writer {
                        out: &mut out,
                        info,
                    };
                    for h in &headers {
                        w.shdr(h);
                    }
                }
            }
            out.resize((sp.new_start + sp.new_len) as usize, 0);
            cursor = sp.end as usize;
        }
        out.extend_from_slice(&elf[cursor..]);
        patch_section_table_fields(&mut out, info, shoff, headers.len(), layout.shstrndx);
        Ok(out)
    }
}

/// A splice that changes length moves everything after it, which a linked
/// file's segments (and the addresses inside them) cannot follow.
fn check_segments_before(layout: &Layout, sp: &Splice) -> Result<()> {
    for (i, p) in layout.segments.iter().enumerate() {
        if p.filesz > 0 && p.offset + p.filesz > sp.start {
            return Err(elf_err(format!(
                "{} cannot change size: segment [{i}] (type {:#x}, offset {:#x}..{:#x}) would have to move",
                sp.what,
                p.p_type,
                p.offset,
                p.offset + p.filesz
            )));
        }
    }
    if !layout.segments.is_empty() && layout.phoff >= sp.start {
        return Err(elf_err(format!(
            "{} cannot change size: the program header table after it would have to move",
            sp.what
        )));
    }
    Ok(())
}

/// `x` rounded up to a multiple of `align` (a power of two), towards +inf.
fn round_up(x: i128, align: i128) -> i128 {
    (x + align - 1).div_euclid(align) * align
}
