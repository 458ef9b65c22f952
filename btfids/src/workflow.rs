//! resolve_btfids as a tool: its three modes on the bytes of its input
//! files, each returning what is to be written where. The caller (kbtf's
//! `resolve_btfids` front end) parses the command line, reads the files,
//! writes the outputs (atomically) and prints the messages; everything in
//! between is here, so that a program other than kbtf's CLI runs the same
//! workflow.
//!
//! # The BTF the ids came from
//!
//! A file that went through resolve_btfids before holds ids in its
//! `.BTF_ids`; to tell which entry belongs to which symbol again (upstream
//! sorted the sets and left the symbols behind, see `recover`), resolving
//! needs the BTF that produced them. That is the file's own BTF
//! ([`OwnBtf`]): its `.BTF`, over its `.BTF.base` when it has one (an
//! out-of-tree module processed with a distilled base, which upstream then
//! resolves against instead of `--btf_base`), else over the base the run
//! was given. The same rule serves `kbtf gen` ([`producing_btf`]).
//!
//! # The modes
//!
//! - **In place** ([`in_place`]; Makefile.modfinal of 6.12:
//!   `resolve_btfids -b vmlinux X.ko`, link-vmlinux.sh: `resolve_btfids
//!   vmlinux`). Input: the ELF file, and `-b`'s file. The file's `.BTF_ids`
//!   is resolved against its own BTF. Output: the file's byte ranges to
//!   rewrite ([`InPlace::patches`]: the section and the moved symbols'
//!   values), none when it is already resolved.
//! - **`--btf F`** ([`btf_mode`]; gen-btf.sh of 7.x). Input: the ELF file,
//!   pahole's detached BTF `F` (split over `-b`'s BTF for a module), `-b`'s
//!   file. The ELF file is left alone: 7.x's transform is applied to `F`
//!   ([`crate::btf2btf`]), with the file's own BTF as the one that may have
//!   produced ids already there. Outputs ([`BtfMode::files`]), beside the
//!   ELF file: `ELF.BTF_ids` (the section resolved against the new BTF, as
//!   upstream's bytes) and `ELF.BTF_ids.moves` (the member symbols that must
//!   move with their entries, see [`crate::moves`]; a stale one is removed)
//!   when the file has a `.BTF_ids`, `ELF.BTF` (the new BTF) and, with
//!   `--distill_base` on a split BTF, `ELF.BTF.base` (its distilled base).
//! - **`--patch_btfids B`** ([`patch_btfids`]). Input: the ELF file, the
//!   blob `B` and `B.moves` if a `--btf` run left one ([`moves_path`]).
//!   Output: the whole ELF file with `B` as its `.BTF_ids` and the moves
//!   applied.
//!
//! Errors name the file they are about (see [`Error::in_file`]): a problem
//! of a BTF its file, one of `.BTF_ids` the ELF file.
//!
//! ```no_run
//! use std::path::Path;
//! use kbtf_btfids::workflow::{btf_mode, ids_elf, Base};
//!
//! let (elf_path, btf_path, base_path) =
//!     (Path::new("x.ko"), Path::new("x.ko.BTF.1"), Path::new("vmlinux"));
//! let (elf, base) = (std::fs::read(elf_path)?, std::fs::read(base_path)?);
//! let btf = std::fs::read(btf_path)?;
//! let ids = ids_elf(&elf).map_err(|e| e.in_file(elf_path))?;
//! let base = Some(Base { path: base_path, bytes: &base });
//! let out = btf_mode(elf_path, &elf, ids.as_ref(), base, btf_path, Ok(btf), false)?;
//! for (path, contents) in out.files(elf_path) {
//!     match contents {
//!         Some(bytes) => std::fs::write(path, bytes)?,
//!         None => { let _ = std::fs::remove_file(path); }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kbtf_btf::input::btf_blob;
use kbtf_btf::{Btf, BtfView};

use crate::btf2btf::{btf2btf_with, Btf2Btf, Btf2BtfOptions};
use crate::elf::distilled_base_blob;
use crate::names::TypeNames;
use crate::{move_symbols, moves, patch_section, resolve, Error, IdsElf, Outcome, Result};

/// The base file a run is given (`-b`/`--btf_base`): its path, to name it
/// in errors, and its bytes (an ELF file or a raw BTF blob).
#[derive(Clone, Copy, Debug)]
pub struct Base<'a> {
    /// The file's path.
    pub path: &'a Path,
    /// The file's contents.
    pub bytes: &'a [u8],
}

/// The `.BTF_ids` of an ELF file, `None` when it has no `.BTF_ids` section
/// or no symbol table: resolve_btfids then skips symbol resolution.
pub fn ids_elf(elf: &[u8]) -> Result<Option<IdsElf<'_>>> {
    match IdsElf::parse(elf) {
        Ok(ids) => Ok(Some(ids)),
        Err(Error::NoBtfIdsSection | Error::NoSymtab) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An ELF file's own BTF, as blobs: its `.BTF` and the base that is over
/// when the file says (see the module doc).
#[derive(Debug)]
pub struct OwnBtf<'a> {
    /// The file's `.BTF` (an error if it has none or it cannot be read).
    pub blob: kbtf_btf::Result<Cow<'a, [u8]>>,
    /// The file's `.BTF.base`, the distilled base `.BTF` is over; `None`
    /// when it has none, and `.BTF` is over the base the run is given.
    pub distilled_base: Option<Cow<'a, [u8]>>,
}

impl<'a> OwnBtf<'a> {
    /// Finds the blobs in `elf`; fails if `.BTF.base` is there but cannot be read.
    pub fn read(elf: &'a [u8]) -> Result<OwnBtf<'a>> {
        Ok(OwnBtf {
            distilled_base: distilled_base_blob(elf)?,
            blob: btf_blob(elf),
        })
    }
}

/// The BTF that may have produced the ids already in `elf`'s `.BTF_ids`,
/// fully parsed (a `.BTF` over another base than the one it was made over
/// does not parse, and is not taken): for a module (`base` given) its
/// [`OwnBtf`] over its distilled base or `base`; for a vmlinux its `.BTF`.
/// `None` when there is none or it does not fit.
pub fn producing_btf(elf: &[u8], base: Option<&Arc<Btf>>) -> Option<Btf> {
    let Some(base) = base else {
        return btf_blob(elf).ok().and_then(|blob| Btf::parse(&blob).ok());
    };
    let own = OwnBtf::read(elf).ok()?;
    let blob = own.blob.ok()?;
    let base = match own.distilled_base {
        Some(b) => Arc::new(Btf::parse(&b).ok()?),
        None => base.clone(),
    };
    Btf::parse_split(&blob, Some(base)).ok()
}

/// The base blob the file's own `.BTF` is over, with the file to blame for
/// it: the file's `.BTF.base`, else `base`'s BTF, else none.
fn own_base_blob<'a>(
    elf_path: &'a Path,
    own: &mut OwnBtf<'a>,
    base: Option<Base<'a>>,
) -> Result<(Option<Cow<'a, [u8]>>, &'a Path)> {
    Ok(match (own.distilled_base.take(), base) {
        (Some(blob), _) => (Some(blob), elf_path),
        (None, Some(b)) => (
            Some(btf_blob(b.bytes).map_err(|e| e.in_file(b.path))?),
            b.path,
        ),
        (None, None) => (None, elf_path),
    })
}

/// The in-place mode's result: what resolving gave, and the file's byte
/// ranges to rewrite.
#[derive(Debug)]
pub struct InPlace {
    /// The resolved section, the symbol moves, the warnings and notes.
    pub outcome: Outcome,
    /// (file offset, new bytes) to write into the ELF file, in place:
    /// empty when the file is already as resolving leaves it.
    pub patches: Vec<(u64, Vec<u8>)>,
}

/// resolve_btfids without `--btf`: the `.BTF_ids` of `elf` (`ids`, from
/// [`ids_elf`]) resolved against the file's own BTF. `None` when the file
/// has no `.BTF_ids` (the base is read all the same).
pub fn in_place(
    elf_path: &Path,
    elf: &[u8],
    ids: Option<&IdsElf>,
    base: Option<Base>,
) -> Result<Option<InPlace>> {
    let mut own = OwnBtf::read(elf).map_err(|e| e.in_file(elf_path))?;
    let (base_blob, base_path) = own_base_blob(elf_path, &mut own, base)?;
    let base_view = match &base_blob {
        Some(b) => Some(BtfView::parse(b).map_err(|e| e.in_file(base_path))?),
        None => None,
    };
    let Some(ids) = ids else { return Ok(None) };
    let own_blob = own.blob.map_err(|e| e.in_file(elf_path))?;
    let names =
        BtfView::parse_split(&own_blob, base_view.as_ref()).map_err(|e| e.in_file(elf_path))?;
    let outcome = resolve(ids, &names, &[]).map_err(|e| e.in_file(elf_path))?;
    let patches = if outcome.moves.is_empty() && outcome.section == ids.section_bytes() {
        Vec::new()
    } else {
        outcome.patches(ids)
    };
    Ok(Some(InPlace { outcome, patches }))
}

/// The `--btf` mode's result: the transform's, and the bytes of the files it writes.
#[derive(Debug)]
pub struct BtfMode {
    /// The new BTF, `.BTF_ids` resolved against it, the rewritten kfuncs,
    /// the distilled base.
    pub btf2btf: Btf2Btf,
    /// `ELF.BTF`: the new BTF's bytes.
    pub btf: Vec<u8>,
    /// `ELF.BTF.base`: the distilled base's bytes, with `--distill_base`.
    pub base: Option<Vec<u8>>,
    /// `ELF.BTF_ids.moves`: the symbol moves for `--patch_btfids`, when the
    /// file has a `.BTF_ids` and member symbols move.
    pub moves: Option<String>,
}

impl BtfMode {
    /// `ELF.BTF_ids`: the resolved section, when the file has a `.BTF_ids`.
    pub fn btf_ids(&self) -> Option<&[u8]> {
        self.btf2btf.btf_ids.as_ref().map(|o| &o.section[..])
    }

    /// The files to write beside the ELF file `elf`, in upstream's order,
    /// with their contents; `None` is a file to remove (a moves file left
    /// by an earlier run that has no moves now).
    pub fn files(&self, elf: &Path) -> Vec<(PathBuf, Option<&[u8]>)> {
        let mut files = Vec::new();
        if let Some(section) = self.btf_ids() {
            files.extend(btf_ids_files(elf, section, self.moves.as_deref()));
        }
        files.push((suffixed(elf, ".BTF"), Some(&self.btf[..])));
        if let Some(base) = &self.base {
            files.push((suffixed(elf, ".BTF.base"), Some(&base[..])));
        }
        files
    }
}

/// `ELF.BTF_ids` (the resolved `section`, for `--patch_btfids`) and
/// `ELF.BTF_ids.moves` (`moves`; `None`: remove the one an earlier run
/// left), as the `--btf` mode and gen-btf.sh on a vmlinux leave them
/// beside the ELF file `elf`.
pub fn btf_ids_files<'a>(
    elf: &Path,
    section: &'a [u8],
    moves: Option<&'a str>,
) -> [(PathBuf, Option<&'a [u8]>); 2] {
    let ids_path = suffixed(elf, ".BTF_ids");
    let moves_path = moves_path(&ids_path);
    [
        (ids_path, Some(section)),
        (moves_path, moves.map(str::as_bytes)),
    ]
}

/// `path` with `suffix` appended to its last component (`x.ko` and
/// `.BTF` give `x.ko.BTF`).
pub fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The moves file for what resolving `ids` gave, `None` when no symbol moves.
pub fn moves_text(ids: &IdsElf, outcome: &Outcome) -> Option<String> {
    (!outcome.moves.is_empty()).then(|| moves::encode(ids, &outcome.section, &outcome.moves))
}

/// resolve_btfids `--btf`: the BTF in `btf` (the contents of the file at
/// `btf_path`, or the error reading it, reported after any of the base's), split
/// over `base`'s BTF when given, transformed with the `.BTF_ids` of `elf`
/// (`ids`, from [`ids_elf`]); `distill_base` is `--distill_base`.
pub fn btf_mode(
    elf_path: &Path,
    elf: &[u8],
    ids: Option<&IdsElf>,
    base: Option<Base>,
    btf_path: &Path,
    btf: std::io::Result<impl Deref<Target = [u8]>>,
    distill_base: bool,
) -> Result<BtfMode> {
    let mut own = OwnBtf::read(elf).map_err(|e| e.in_file(elf_path))?;
    let (base_blob, base_path) = own_base_blob(elf_path, &mut own, base)?;
    let base_view = match &base_blob {
        Some(b) => Some(BtfView::parse(b).map_err(|e| e.in_file(base_path))?),
        None => None,
    };
    // pahole's X.BTF.1 is over --btf_base, whatever the file holds.
    let pahole_base = match base {
        Some(b) => {
            let blob = btf_blob(b.bytes).map_err(|e| e.in_file(b.path))?;
            Some(Arc::new(Btf::parse(&blob).map_err(|e| e.in_file(b.path))?))
        }
        None => None,
    };
    let new_btf = btf
        .map_err(kbtf_btf::Error::from)
        .and_then(|bytes| Btf::parse_split(&btf_blob(&bytes)?, pahole_base))
        .map_err(|e| e.in_file(btf_path))?;
    // The file's own .BTF, if any, may be what produced ids already there.
    let own_names = own
        .blob
        .as_deref()
        .ok()
        .and_then(|b| BtfView::parse_split(b, base_view.as_ref()).ok());
    let earlier: Vec<&dyn TypeNames> = own_names.iter().map(|n| n as &dyn TypeNames).collect();
    // A problem of the BTF is named by its file, one of .BTF_ids by the ELF file.
    let opts = Btf2BtfOptions { distill_base };
    let out = btf2btf_with(new_btf, ids, &earlier, opts).map_err(|e| match e {
        e @ (Error::Btf(_) | Error::Kfunc { .. }) => e.in_file(btf_path),
        e => e.in_file(elf_path),
    })?;
    let moves = match (ids, &out.btf_ids) {
        (Some(ids), Some(outcome)) => moves_text(ids, outcome),
        _ => None,
    };
    Ok(BtfMode {
        btf: out.btf.to_bytes(),
        base: out.distilled_base.as_ref().map(|b| b.to_bytes()),
        moves,
        btf2btf: out,
    })
}

/// Where `--patch_btfids B` looks for the moves a `--btf` run left: `B.moves`.
pub fn moves_path(blob_path: &Path) -> PathBuf {
    suffixed(blob_path, moves::SUFFIX)
}

/// resolve_btfids `--patch_btfids`: `elf` with `blob` (read from
/// `blob_path`) as its `.BTF_ids`, and the symbol moves of `moves` (the text
/// of [`moves_path`], when there is one) applied.
pub fn patch_btfids(
    elf_path: &Path,
    elf: &[u8],
    blob_path: &Path,
    blob: &[u8],
    moves: Option<&str>,
) -> Result<Vec<u8>> {
    let mut out = patch_section(elf, blob).map_err(|e| e.in_file(elf_path))?;
    if let Some(text) = moves {
        let ids = IdsElf::parse(elf).map_err(|e| e.in_file(elf_path))?;
        let moves =
            moves::decode(text, &ids, blob).map_err(|e| e.in_file(moves_path(blob_path)))?;
        move_symbols(&ids, &mut out, &moves);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(btf_ids: bool, moves: bool, base: bool) -> BtfMode {
        let outcome = Outcome {
            section: vec![1, 2, 3, 4],
            moves: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
        };
        BtfMode {
            btf2btf: Btf2Btf {
                btf: Btf::new(),
                btf_ids: btf_ids.then_some(outcome),
                rewritten: Vec::new(),
                distilled_base: None,
            },
            btf: vec![5],
            base: base.then(|| vec![6]),
            moves: moves.then(|| "m".to_string()),
        }
    }

    #[test]
    fn btf_mode_files_in_upstreams_order() {
        let files = |m: &BtfMode| -> Vec<(String, Option<Vec<u8>>)> {
            m.files(Path::new("dir/x.ko"))
                .into_iter()
                .map(|(p, c)| (p.display().to_string(), c.map(<[u8]>::to_vec)))
                .collect()
        };
        let full = mode(true, true, true);
        assert_eq!(
            files(&full),
            [
                ("dir/x.ko.BTF_ids".into(), Some(vec![1, 2, 3, 4])),
                ("dir/x.ko.BTF_ids.moves".into(), Some(b"m".to_vec())),
                ("dir/x.ko.BTF".into(), Some(vec![5])),
                ("dir/x.ko.BTF.base".into(), Some(vec![6])),
            ]
        );
        // No moves now: a moves file of an earlier run goes.
        assert_eq!(
            files(&mode(true, false, false))[1],
            ("dir/x.ko.BTF_ids.moves".into(), None)
        );
        // No .BTF_ids: only the BTF.
        assert_eq!(
            files(&mode(false, false, false)),
            [("dir/x.ko.BTF".into(), Some(vec![5]))]
        );
    }

    #[test]
    fn moves_beside_the_blob() {
        assert_eq!(
            moves_path(Path::new("v.BTF_ids")),
            Path::new("v.BTF_ids.moves")
        );
    }
}
