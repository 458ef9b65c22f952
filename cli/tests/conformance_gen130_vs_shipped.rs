//! `kbtf gen` as pahole 1.30 (`KBTF_PAHOLE_VERSION=1.30`, trixie's kbuild
//! `PAHOLE_FLAGS`) against the Debian trixie corpus, whose `.BTF` pahole
//! 1.30 made, on two kinds of input:
//!
//! - as kbuild links them: `.BTF` removed (objcopy) and `.BTF_ids` as the
//!   linker left it (ids and counts zero, each kfunc's flags next to its
//!   own symbol; `testdata/fresh-btf-ids.py` rebuilds that from the
//!   shipped file);
//! - as shipped, `.BTF` removed: `.BTF_ids` already processed, so gen has to
//!   recover which flags belong to which kfunc.
//!
//! Every module gets the shipped `.BTF` and `.BTF_ids` back; the vmlinux's
//! `vmlinux.btf.o` holds the shipped `.BTF` and `vmlinux.BTF_ids` is the
//! shipped section. Skips, saying so, without the trixie corpus
//! (`testdata/fetch-trixie.sh`; a failure under CI).
//!
//! Needs: binutils, python3.

use kbtf_testsupport::chroot::Suite;
use kbtf_testsupport::cmd::{kbtf_as, run};
use kbtf_testsupport::corpus;
use kbtf_testsupport::elf::section;

use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;

const KBTF: &str = env!("CARGO_BIN_EXE_kbtf");

/// kbtf as trixie's kbuild runs its BTF step.
fn kbtf() -> Command {
    kbtf_as(KBTF, Suite::Trixie)
}

/// How a test input is made from a shipped file.
#[derive(Clone, Copy, PartialEq)]
enum Input {
    /// As the linker left it: no `.BTF`, `.BTF_ids` unresolved.
    AsLinked,
    /// As shipped without `.BTF`: `.BTF_ids` processed.
    Processed,
}

/// `shipped` made into `input` at `to`; `base` is the vmlinux of a module.
fn make_input(shipped: &Path, to: &Path, input: Input, base: Option<&Path>) {
    let mut from = shipped.to_path_buf();
    let fresh = to.with_extension("fresh");
    if input == Input::AsLinked {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/fresh-btf-ids.py");
        run(Command::new("python3")
            .arg(script)
            .arg(shipped)
            .arg(&fresh)
            .args(base));
        from = fresh.clone();
    }
    run(Command::new("objcopy")
        .args(["--remove-section", ".BTF"])
        .arg(&from)
        .arg(to));
    let _ = std::fs::remove_file(&fresh);
}

#[test]
fn trixie_modules_as_linked_get_their_shipped_btf_and_ids() {
    modules(Input::AsLinked, "as linked");
}

#[test]
fn trixie_modules_as_shipped_get_their_shipped_btf_and_ids() {
    modules(Input::Processed, "as shipped");
}

fn modules(input: Input, what: &str) {
    let Some(corpus) = corpus::Corpus::trixie() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shipped = corpus.modules();
    let vmlinux = corpus.vmlinux();
    let copies: Vec<PathBuf> = shipped
        .par_iter()
        .enumerate()
        .map(|(i, ko)| {
            let name = ko.file_name().unwrap().to_string_lossy();
            let copy = dir.path().join(format!("{i:04}-{name}"));
            // Only files with .BTF_ids need the script; the others would be copied.
            let input = if section(&std::fs::read(ko).unwrap(), ".BTF_ids").is_some() {
                input
            } else {
                Input::Processed
            };
            make_input(ko, &copy, input, Some(&vmlinux));
            copy
        })
        .collect();
    // A fresh base index (made by this run, in use for it).
    run(kbtf()
        .env("KBTF_BASE_INDEX", dir.path().join("base-index"))
        .args(["gen", "--no-progress", "--btf_base"])
        .arg(corpus.vmlinux())
        .args(&copies));
    let results: Vec<(bool, bool, bool)> = shipped
        .par_iter()
        .zip(&copies)
        .map(|(ko, copy)| {
            let old = std::fs::read(ko).unwrap();
            let new = std::fs::read(copy).unwrap();
            let ids = section(&old, ".BTF_ids");
            (
                section(&new, ".BTF") == section(&old, ".BTF"),
                section(&new, ".BTF_ids") == ids,
                ids.is_some(),
            )
        })
        .collect();
    let btf_same = results.iter().filter(|r| r.0).count();
    let ids_same = results.iter().filter(|r| r.1).count();
    let with_ids = results.iter().filter(|r| r.2).count();
    println!(
        "trixie, kbtf gen as pahole 1.30 on modules {what}: .BTF as shipped in {btf_same} \
         of {} modules, .BTF_ids in {ids_same} ({with_ids} have one)",
        shipped.len()
    );
    for ((ko, r), _) in shipped.iter().zip(&results).zip(0..20) {
        if !(r.0 && r.1) {
            println!(
                "  differs: {} (.BTF {}, .BTF_ids {})",
                ko.display(),
                r.0,
                r.1
            );
        }
    }
    assert_eq!(btf_same, shipped.len());
    assert_eq!(ids_same, shipped.len());
}

#[test]
fn trixie_vmlinux_as_linked_gets_its_shipped_btf_and_ids() {
    vmlinux(Input::AsLinked, "as linked");
}

#[test]
fn trixie_vmlinux_as_shipped_gets_its_shipped_btf_and_ids() {
    vmlinux(Input::Processed, "as shipped");
}

fn vmlinux(input: Input, what: &str) {
    let Some(corpus) = corpus::Corpus::trixie() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = dir.path().join("vmlinux");
    match input {
        // As shipped, .BTF included: gen writes vmlinux.btf.o beside it.
        Input::Processed => std::os::unix::fs::symlink(corpus.vmlinux(), &vmlinux).unwrap(),
        Input::AsLinked => make_input(&corpus.vmlinux(), &vmlinux, input, None),
    }
    let shipped = std::fs::read(corpus.vmlinux()).unwrap();
    run(kbtf().arg("gen").arg(&vmlinux));
    let btf_o = std::fs::read(dir.path().join("vmlinux.btf.o")).unwrap();
    assert!(
        section(&btf_o, ".BTF") == section(&shipped, ".BTF"),
        "vmlinux.btf.o does not hold the shipped .BTF"
    );
    let ids = std::fs::read(dir.path().join("vmlinux.BTF_ids")).unwrap();
    assert!(
        Some(ids) == section(&shipped, ".BTF_ids"),
        "vmlinux.BTF_ids is not the shipped section"
    );
    println!("trixie vmlinux {what}, kbtf gen as pahole 1.30: .BTF and .BTF_ids as shipped");
}
