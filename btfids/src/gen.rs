//! The whole of the kernel's gen-btf.sh on the bytes of one ELF file:
//! encode its DWARF as BTF (pahole -J), resolve its `.BTF_ids` against that
//! BTF (resolve_btfids) and put the results where kbuild wants them.
//!
//! - A module ([`gen_module`]): the new `.BTF` and the resolved `.BTF_ids`
//!   (with its member symbols moved to their entries) go into one new copy
//!   of the file, every other section's bytes as they were. The result only
//!   depends on the DWARF, the base and the `.BTF_ids` contents, so running
//!   it on its own output gives the same bytes, and running it after the
//!   base changed gives what a run on the freshly linked module gives.
//! - A vmlinux ([`gen_vmlinux`]): the file is left alone; the outputs are
//!   the `.btf.o` that link-vmlinux.sh links in and the resolved `.BTF_ids`
//!   that it patches into the final image.
//!
//! ```no_run
//! use std::sync::Arc;
//! use kbtf_btf::dedup::BaseCandidates;
//! use kbtf_btf::Btf;
//! use kbtf_btfids::gen::{gen_module, GenOptions};
//!
//! // Made once, shared by every module over this base.
//! let base = BaseCandidates::new(Arc::new(Btf::from_file("vmlinux")?));
//! let ko = std::fs::read("nf_conntrack.ko")?;
//! let out = gen_module(&ko, &base, &GenOptions::kernel())?;
//! if out.changed {
//!     kbtf_btf::atomic::write_file_atomic("nf_conntrack.ko".as_ref(), &out.bytes)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With [`GenOptions::btf2btf`] (Linux 7.x, pahole 1.32), resolving is
//! resolve_btfids 7.x's `--btf` mode ([`crate::btf2btf`]): the encoded BTF
//! is rewritten and sorted by name, and that is the BTF embedded.
//!
//! This lives in kbtf-btfids (behind its `gen` feature, which turns on
//! kbtf-btf's DWARF encoder) because it is the one place that needs both
//! halves: kbtf-btf knows nothing of `.BTF_ids`, and BPF tooling that only
//! resolves ids does not pay for gimli.

use std::borrow::Cow;
use std::sync::Arc;

use kbtf_btf::dedup::{dedup_owned, BaseCandidates};
use kbtf_btf::embed::{btf_object, set_sections, ElfInfo};
use kbtf_btf::encode::{dedup_options, encode_elf, encode_mapped, EncodeOptions};
use kbtf_btf::input::FileBytes;
use kbtf_btf::Btf;

use crate::btf2btf::{btf2btf_with, Btf2BtfOptions};
use crate::elf::distilled_base_blob;
use crate::layout::Layout;
use crate::names::TypeNames;
use crate::{move_symbols, recover, workflow};
use crate::{resolve, Error, IdsElf, Outcome, Result};

/// What gen-btf.sh's `RESOLVE_BTFIDS_FLAGS` and kbtf's own options ask of the `.BTF_ids` step.
#[derive(Clone, Debug, Default)]
pub struct GenOptions {
    /// The encoding (pahole's flags).
    pub encode: EncodeOptions,
    /// `--fatal_warnings`: unresolved symbols fail the run.
    pub fatal_warnings: bool,
    /// Linux 7.x's gen-btf.sh: resolve_btfids `--btf` rewrites the encoded
    /// BTF (kfuncs with implicit arguments, types sorted by name:
    /// [`crate::btf2btf`]) and resolves against that, before it is embedded.
    pub btf2btf: bool,
    /// resolve_btfids' `--distill_base` (with [`GenOptions::btf2btf`], for an
    /// out-of-tree module): the module's BTF goes over a distilled base,
    /// written as its `.BTF.base` section.
    pub distill_base: bool,
}

impl GenOptions {
    /// What Linux 6.x asks of pahole 1.24 and resolve_btfids.
    pub fn kernel() -> GenOptions {
        GenOptions {
            encode: EncodeOptions::kernel(),
            fatal_warnings: false,
            btf2btf: false,
            distill_base: false,
        }
    }

    /// What Linux 7.x's gen-btf.sh asks of pahole 1.32 and resolve_btfids.
    pub fn kernel_7() -> GenOptions {
        GenOptions {
            encode: EncodeOptions::kernel_for(kbtf_btf::encode::PaholeVersion::V1_32),
            fatal_warnings: false,
            btf2btf: true,
            distill_base: false,
        }
    }
}

/// A module processed: its new bytes, and what resolving had to say.
#[derive(Debug)]
pub struct ModuleOutput {
    /// The whole new file.
    pub bytes: Vec<u8>,
    /// Whether `bytes` differ from the input (else nothing needs writing).
    pub changed: bool,
    /// resolve_btfids' warnings (unresolved symbols).
    pub warnings: Vec<String>,
    /// Repairs of sets an earlier upstream run left stale.
    pub notes: Vec<String>,
}

/// A vmlinux processed: the files gen-btf.sh leaves for link-vmlinux.sh.
#[derive(Debug)]
pub struct VmlinuxOutput {
    /// `ELF.btf.o`: an ET_REL object holding only the allocated `.BTF`.
    pub btf_object: Vec<u8>,
    /// The raw BTF inside it.
    pub btf: Vec<u8>,
    /// `ELF.BTF_ids`: the resolved section, `None` when the file has none.
    pub btf_ids: Option<Vec<u8>>,
    /// `ELF.BTF_ids.moves` for `resolve_btfids --patch_btfids`, when member symbols move.
    pub moves: Option<String>,
    /// Upstream's warnings (unresolved symbols, several ids).
    pub warnings: Vec<String>,
    /// What kbtf did that upstream would not say (recoveries, repairs).
    pub notes: Vec<String>,
}

impl VmlinuxOutput {
    /// The files gen-btf.sh leaves beside the vmlinux `elf`, in the order
    /// written: `ELF.btf.o`, then with a `.BTF_ids` `ELF.BTF_ids` and its
    /// moves file (`None`: remove the one an earlier run left), see
    /// [`workflow::btf_ids_files`].
    pub fn files(&self, elf: &std::path::Path) -> Vec<(std::path::PathBuf, Option<&[u8]>)> {
        let mut files = vec![(
            workflow::suffixed(elf, ".btf.o"),
            Some(&self.btf_object[..]),
        )];
        if let Some(ids) = &self.btf_ids {
            files.extend(workflow::btf_ids_files(elf, ids, self.moves.as_deref()));
        }
        files
    }
}

/// The step of gen-btf.sh an error comes from.
fn step(name: &'static str) -> impl FnOnce(Error) -> Error {
    move |e| Error::Step {
        step: name,
        source: Box::new(e),
    }
}

/// Encodes and deduplicates the DWARF of `elf` as pahole -J does.
/// `base` (when given) holds the base BTF and its dedup candidates, made
/// once for any number of modules.
pub fn encode(elf: &[u8], base: Option<&BaseCandidates>, opts: &EncodeOptions) -> Result<Btf> {
    dedup_encoded(
        || encode_elf(elf, base.map(|b| b.btf().clone()), opts),
        base,
        opts,
    )
}

/// [`encode`] on a file's bytes (see [`encode_mapped`]).
fn encode_file_bytes(elf: &FileBytes, opts: &EncodeOptions) -> Result<Btf> {
    dedup_encoded(|| encode_mapped(elf, None, opts), None, opts)
}

fn dedup_encoded(
    encode: impl FnOnce() -> kbtf_btf::Result<Btf>,
    base: Option<&BaseCandidates>,
    opts: &EncodeOptions,
) -> Result<Btf> {
    // pahole's strings were interned as it built the types: libbpf keeps them.
    let keep_strings = dedup_options(opts);
    encode()
        .and_then(|btf| dedup_owned(btf, &keep_strings, base))
        .map_err(|e| step("encoding BTF")(e.into()))
}

/// The ELF file's bytes as the encoder should read them, when they differ.
///
/// pahole's decl_tag_kfuncs takes each kfunc's flags from the word after its
/// `.BTF_ids` symbol; in a file upstream resolve_btfids processed, that word
/// belongs to another function (the set was sorted, the symbol stayed). If
/// the file's own `.BTF` (`earlier`) explains the ids already there, a copy
/// with every member symbol moved to its own entry is what the encoder reads,
/// so that a second run tags the same functions as the first. `None` when no
/// symbol needs to move (a file as linked, or one kbtf processed) or when
/// the ids cannot be explained (resolving reports that later).
fn with_symbols_repaired(
    elf: &[u8],
    earlier: Option<&Btf>,
    opts: &EncodeOptions,
) -> Option<Vec<u8>> {
    if !opts.decl_tag_kfuncs {
        return None;
    }
    let earlier = earlier?;
    let ids = IdsElf::parse(elf).ok()?;
    let layout = Layout::new(&ids).ok()?;
    let sec = ids.section_bytes();
    if !layout
        .sets
        .iter()
        .any(|s| recover::is_resolved(&ids, s, sec))
    {
        return None;
    }
    // Resolving against the BTF that gave the ids keeps every entry where it
    // is (stable sort of sorted ids) and moves the symbols to their own.
    let outcome = resolve(&ids, earlier, &[]).ok()?;
    if outcome.moves.is_empty() {
        return None;
    }
    let mut copy = elf.to_vec();
    move_symbols(&ids, &mut copy, &outcome.moves);
    Some(copy)
}

/// What resolve_btfids made of the encoded BTF.
struct Resolved<'a> {
    /// The BTF to embed.
    btf: Btf,
    /// The file's `.BTF_ids` and what resolving it gave (`None` without one).
    ids: Option<(IdsElf<'a>, Outcome)>,
    /// The distilled base `btf` is over (`.BTF.base`), when distilled.
    distilled_base: Option<Arc<Btf>>,
}

/// resolve_btfids on the encoded `btf` and the ids of `elf`. `earlier` is
/// the BTF that may have produced ids already there. With
/// [`GenOptions::btf2btf`], 7.x's transform first.
fn resolve_ids<'a>(
    elf: &'a [u8],
    btf: Btf,
    earlier: Option<&Btf>,
    opts: &GenOptions,
) -> Result<Resolved<'a>> {
    let ids = workflow::ids_elf(elf).map_err(step("reading .BTF_ids"))?;
    let earlier: Vec<&dyn TypeNames> = earlier.iter().map(|b| *b as &dyn TypeNames).collect();
    let (btf, outcome, distilled_base) = if opts.btf2btf {
        let btf2btf_opts = Btf2BtfOptions {
            distill_base: opts.distill_base,
        };
        let out = btf2btf_with(btf, ids.as_ref(), &earlier, btf2btf_opts)
            .map_err(step("resolving .BTF_ids"))?;
        (out.btf, out.btf_ids, out.distilled_base)
    } else {
        let outcome = match &ids {
            Some(ids) => Some(resolve(ids, &btf, &earlier).map_err(step("resolving .BTF_ids"))?),
            None => None,
        };
        (btf, outcome, None)
    };
    let resolved = ids.zip(outcome);
    if let Some((_, outcome)) = &resolved {
        if opts.fatal_warnings && !outcome.warnings.is_empty() {
            return Err(step("resolving .BTF_ids")(Error::FatalWarnings(
                outcome.warnings.len(),
            )));
        }
    }
    Ok(Resolved {
        btf,
        ids: resolved,
        distilled_base,
    })
}

/// gen-btf.sh `--btf_base` on a module's bytes: its split BTF over `base`
/// as `.BTF`, and its `.BTF_ids` resolved against it, in one new copy of
/// the file. The `.BTF` already in the file, if it parses over `base`, is
/// taken as the BTF that produced ids already in `.BTF_ids` (a module an
/// earlier run, kbtf's or upstream's, processed).
pub fn gen_module(elf: &[u8], base: &BaseCandidates, opts: &GenOptions) -> Result<ModuleOutput> {
    // (A file that is not ELF is named by the encoder, which reads it first.)
    let had_distilled_base = matches!(distilled_base_blob(elf), Ok(Some(_)));
    // Linux 7.x distills in resolve_btfids, 6.x in pahole (distilled_base).
    let distilling = if opts.btf2btf {
        opts.distill_base
    } else {
        opts.encode.distilled_base
    };
    if had_distilled_base && !distilling {
        // A clean build has no .BTF.base then, and gen does not remove sections.
        return Err(step("writing .BTF.base")(Error::Elf(
            "the module has a .BTF.base (a distilled base) but this run does not distill \
             (no --distill_base in RESOLVE_BTFIDS_FLAGS, no distilled_base in MODULE_PAHOLE_FLAGS): relink it"
                .into(),
        )));
    }
    let old_btf = workflow::producing_btf(elf, Some(base.btf()));
    let btf = match with_symbols_repaired(elf, old_btf.as_ref(), &opts.encode) {
        Some(repaired) => encode(&repaired, Some(base), &opts.encode)?,
        None => encode(elf, Some(base), &opts.encode)?,
    };
    // pahole's distilled_base (6.x): resolve_btfids then resolves against
    // the split over the distilled base, as the module carries it.
    let (btf, pahole_base) = if distilling && !opts.btf2btf && btf.own_ids().len() > 0 {
        let distilled = btf
            .distill_base()
            .map_err(|e| step("distilling the base")(e.into()))?;
        (distilled.split, Some(distilled.base))
    } else {
        (btf, None)
    };
    let Resolved {
        btf,
        ids: resolved,
        distilled_base,
    } = resolve_ids(elf, btf, old_btf.as_ref(), opts)?;
    let blob = btf.to_bytes();
    let base_blob = pahole_base.or(distilled_base).map(|b| b.to_bytes());

    let (with_ids, warnings, notes) = match resolved {
        Some((ids, outcome)) => (
            Cow::Owned(outcome.apply(&ids)),
            outcome.warnings,
            outcome.notes,
        ),
        // Most modules have no .BTF_ids: no copy of the whole file for them.
        None => (Cow::Borrowed(elf), Vec::new(), Vec::new()),
    };
    // pahole adds no .BTF for a module without types of its own (no DWARF).
    let bytes = if btf.own_ids().len() == 0 && old_btf.is_none() {
        with_ids.into_owned()
    } else {
        // Resolving only rewrote bytes in place, so `.BTF` goes into the same layout.
        let mut sections: Vec<(&str, &[u8])> = vec![(".BTF", &blob)];
        if let Some(b) = &base_blob {
            sections.push((".BTF.base", b));
        }
        set_sections(&with_ids, &sections).map_err(|e| step("writing .BTF")(e.into()))?
    };
    Ok(ModuleOutput {
        changed: bytes != elf,
        bytes,
        warnings,
        notes,
    })
}

/// gen-btf.sh without `--btf_base` on a vmlinux's bytes: the `.btf.o` to
/// link in and the resolved `.BTF_ids`; the file itself is not changed.
/// The vmlinux's own `.BTF`, if any, is the BTF that produced ids already there.
pub fn gen_vmlinux(file: &FileBytes, opts: &GenOptions) -> Result<VmlinuxOutput> {
    let elf: &[u8] = file;
    let old_btf = workflow::producing_btf(elf, None);
    let btf = match with_symbols_repaired(elf, old_btf.as_ref(), &opts.encode) {
        Some(repaired) => encode(&repaired, None, &opts.encode)?,
        None => encode_file_bytes(file, &opts.encode)?,
    };
    let Resolved {
        btf, ids: resolved, ..
    } = resolve_ids(elf, btf, old_btf.as_ref(), opts)?;
    let blob = btf.to_bytes();
    let info = ElfInfo::parse(elf).map_err(|e| step("reading the ELF header")(e.into()))?;
    let object = btf_object(&blob, &info).map_err(|e| step("writing .btf.o")(e.into()))?;
    let (btf_ids, moves, warnings, notes) = match resolved {
        Some((ids, outcome)) => {
            let moves = workflow::moves_text(&ids, &outcome);
            (
                Some(outcome.section),
                moves,
                outcome.warnings,
                outcome.notes,
            )
        }
        None => (None, None, Vec::new(), Vec::new()),
    };
    Ok(VmlinuxOutput {
        btf_object: object,
        btf: blob,
        btf_ids,
        moves,
        warnings,
        notes,
    })
}
