//! resolve_btfids 7.x's `--btf` mode: the BTF pahole wrote (`X.BTF.1`) is
//! transformed, sorted, and only then are the `.BTF_ids` resolved against it.
//!
//! In order, as upstream does it:
//! 1. **Kfuncs** ([`kfuncs`]): a FUNC with a `bpf_kfunc` decl tag (on the
//!    function itself, not an attribute) whose name has a `__BTF_ID__func__`
//!    symbol in a set8. Its flags are the word after its entry; when its
//!    symbols sit in several set8s, the set with the greatest name (upstream
//!    walks its tree of sets from that end) and in it the first symbol in
//!    symbol-table order decide.
//! 2. **Implicit arguments** ([`crate::implicit_args`]): each kfunc with
//!    `KF_IMPLICIT_ARGS`, in the order of its `bpf_kfunc` tag, is rewritten.
//! 3. **Distill** (with [`Btf2BtfOptions::distill_base`], for a split BTF:
//!    [`Btf::distill_base`]): the split BTF moves onto a base of only what
//!    it needs (an out-of-tree module's `.BTF.base`).
//! 4. **Sort** ([`kbtf_btf::permute::sort_by_name`]): the BTF's own types by name.
//! 5. **Resolve** ([`crate::resolve()`]): ids against the sorted BTF (first
//!    type of the kind and name from id 1), set counts, each set sorted by id.
//!
//! Where kbtf differs, on purpose: upstream sorts a set's entries and leaves
//! the member symbols at their old slots, so on a file it processed, the
//! word after a symbol is another function's flags, and a second run
//! rewrites the wrong kfuncs. kbtf reads each symbol's flags from the entry
//! it owns (the owners of a set resolved before are found as [`crate::resolve()`]
//! finds them, through `earlier` BTFs that produced its ids), and [`crate::resolve()`]
//! moves each member symbol to its entry (the [`crate::Outcome::moves`], for
//! `--patch_btfids` or an in-place rewrite). On a file as linked, both read
//! the same words, and the section bytes are upstream's either way: moving
//! symbols changes `.symtab`, never `.BTF_ids`.
//!
//! ```no_run
//! use kbtf_btf::Btf;
//! use kbtf_btfids::btf2btf::btf2btf;
//! use kbtf_btfids::IdsElf;
//!
//! let bytes = std::fs::read(".tmp_vmlinux1")?;
//! let elf = IdsElf::parse(&bytes)?;
//! let btf = Btf::from_file(".tmp_vmlinux1.BTF.1")?;
//! let out = btf2btf(btf, Some(&elf), &[])?;
//! std::fs::write(".tmp_vmlinux1.BTF", out.btf.to_bytes())?;
//! if let Some(ids) = &out.btf_ids {
//!     std::fs::write(".tmp_vmlinux1.BTF_ids", &ids.section)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use kbtf_btf::permute::sort_by_name;
use kbtf_btf::{Btf, Kind, TypeId};

use crate::elf::IdsElf;
use crate::implicit_args::{self, BPF_KFUNC_TAG};
use crate::kfunc::KF_IMPLICIT_ARGS;
use crate::layout::Layout;
use crate::names::TypeNames;
use crate::recover;
use crate::resolve::resolve_names;
use crate::symbol::IdKind;
use crate::{resolve, Outcome, Result};

/// A kfunc found in the BTF, with the flags its set8 gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kfunc {
    /// Its FUNC.
    pub func: TypeId,
    /// Its name.
    pub name: Vec<u8>,
    /// The `KF_*` flags of its entry.
    pub flags: u32,
}

/// What the `--btf` mode produced.
#[derive(Debug)]
pub struct Btf2Btf {
    /// The BTF, rewritten and sorted: what upstream writes to `X.BTF`.
    pub btf: Btf,
    /// `.BTF_ids` resolved against it (`X.BTF_ids`); `None` without a
    /// `.BTF_ids` section or symbol table.
    pub btf_ids: Option<Outcome>,
    /// The kfuncs whose implicit arguments were dropped, by name.
    pub rewritten: Vec<String>,
    /// The distilled base [`Btf2Btf::btf`] is now over (`X.BTF.base`), with
    /// [`Btf2BtfOptions::distill_base`] on a split BTF.
    pub distilled_base: Option<Arc<Btf>>,
}

/// What resolve_btfids' options ask of the `--btf` mode besides the transform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Btf2BtfOptions {
    /// `--distill_base`: a split BTF is moved onto its distilled base before
    /// the sort (upstream does nothing for a BTF without a base).
    pub distill_base: bool,
}

/// The `.BTF_ids` flags of each kfunc name: for every `func` symbol in a
/// set8, the flags of the entry it owns, the set with the greatest name
/// winning, then the first symbol. `earlier` are BTFs that may have produced
/// ids already in the section (a set resolved before has its owners recovered
/// through them, as [`crate::resolve()`] does).
pub fn kfunc_flags(
    elf: &IdsElf,
    layout: &Layout,
    earlier: &[&dyn TypeNames],
) -> Result<HashMap<Vec<u8>, u32>> {
    let sec = elf.section_bytes();
    let needs_owners = layout
        .sets
        .iter()
        .any(|s| s.is_set8() && recover::is_resolved(elf, s, sec));
    let candidates: Vec<Vec<u32>> = if needs_owners {
        earlier
            .iter()
            .map(|b| resolve_names(&elf.symbols, *b).map(|r| r.ids))
            .collect::<kbtf_btf::Result<_>>()?
    } else {
        Vec::new()
    };
    let candidates: Vec<&[u32]> = candidates.iter().map(Vec::as_slice).collect();
    let (owners, _) = recover::owners(elf, layout, sec, &candidates)?;

    // Sets by descending name, as upstream's tree of sets is walked.
    let mut order: Vec<usize> = (0..layout.sets.len()).collect();
    order.sort_by(|&a, &b| layout.sets[b].name.cmp(&layout.sets[a].name));
    let mut flags: HashMap<Vec<u8>, u32> = HashMap::new();
    for si in order {
        let set = &layout.sets[si];
        if !set.is_set8() {
            continue;
        }
        // The slot each member symbol owns in this set, first symbol first.
        let mut owned: Vec<(usize, usize)> = owners[si]
            .iter()
            .enumerate()
            .filter_map(|(j, o)| o.map(|m| (m, j)))
            .filter(|&(m, _)| elf.symbols[m].kind == IdKind::Func)
            .collect();
        owned.sort_unstable();
        for (m, j) in owned {
            let name = &elf.symbols[m].name;
            if flags.contains_key(name) {
                continue;
            }
            let word = elf.word_at(sec, set.slot_offset(j) + 4).unwrap_or(0);
            flags.insert(name.clone(), word);
        }
    }
    Ok(flags)
}

/// The DECL_TAG types of `btf` (base types included), in id order.
fn decl_tags(btf: &Btf) -> Result<Vec<TypeId>> {
    let mut tags = Vec::new();
    for id in btf.all_ids() {
        if btf.get(id)?.kind() == Kind::DeclTag {
            tags.push(id);
        }
    }
    Ok(tags)
}

/// The kfuncs of `btf` in the order of their `bpf_kfunc` tags, with the
/// flags `flags` gives their names; functions without an entry in a set8 are none.
pub fn kfuncs(btf: &Btf, tags: &[TypeId], flags: &HashMap<Vec<u8>, u32>) -> Result<Vec<Kfunc>> {
    let mut out = Vec::new();
    for &tag in tags {
        let t = btf.get(tag)?;
        if t.kind_flag() || t.decl_tag_component_idx() != Some(-1) {
            continue;
        }
        if btf.str_at(t.name_off()) != Some(BPF_KFUNC_TAG) {
            continue;
        }
        let func = t.type_id();
        let f = btf.get(func)?;
        if f.kind() != Kind::Func {
            continue;
        }
        let Some(name) = btf.str_at(f.name_off()) else {
            continue;
        };
        if let Some(&fl) = flags.get(name) {
            out.push(Kfunc {
                func,
                name: name.to_vec(),
                flags: fl,
            });
        }
    }
    Ok(out)
}

/// resolve_btfids 7.x `--btf` on `btf` (pahole's output, split over its
/// base for a module) and the ELF file's `.BTF_ids` (`None` if it has none):
/// see the module doc. `earlier` are BTFs that may have produced ids
/// already in the section, such as the file's own `.BTF`.
pub fn btf2btf(btf: Btf, elf: Option<&IdsElf>, earlier: &[&dyn TypeNames]) -> Result<Btf2Btf> {
    btf2btf_with(btf, elf, earlier, Btf2BtfOptions::default())
}

/// [`btf2btf`] with resolve_btfids' options (`--distill_base`).
pub fn btf2btf_with(
    mut btf: Btf,
    elf: Option<&IdsElf>,
    earlier: &[&dyn TypeNames],
    opts: Btf2BtfOptions,
) -> Result<Btf2Btf> {
    let mut rewritten = Vec::new();
    if let Some(elf) = elf {
        let layout = Layout::new(elf)?;
        let flags = kfunc_flags(elf, &layout, earlier)?;
        if !flags.is_empty() {
            let tags = decl_tags(&btf)?;
            for k in kfuncs(&btf, &tags, &flags)? {
                if k.flags & KF_IMPLICIT_ARGS == 0 {
                    continue;
                }
                implicit_args::rewrite(&mut btf, k.func, &k.name, &tags)?;
                rewritten.push(String::from_utf8_lossy(&k.name).into_owned());
            }
        }
    }
    let mut distilled_base = None;
    if opts.distill_base && btf.base().is_some() {
        // resolve_btfids links the libbpf of the kernel's tree, whose new
        // BTF objects (both distill outputs) get the 32-byte header.
        // (The split keeps its own handle on the base: the header only
        // matters where the base is written.)
        let distilled = btf.distill_base()?;
        let mut base = (*distilled.base).clone();
        base.use_layout_header();
        btf = distilled.split;
        btf.use_layout_header();
        distilled_base = Some(Arc::new(base));
    }
    sort_by_name(&mut btf)?;
    let btf_ids = match elf {
        Some(elf) => Some(resolve(elf, &btf, earlier)?),
        None => None,
    };
    Ok(Btf2Btf {
        btf,
        btf_ids,
        rewritten,
        distilled_base,
    })
}
