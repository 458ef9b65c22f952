//! `kbtf gen` as pahole 1.30 (`KBTF_PAHOLE_VERSION=1.30`, trixie's kbuild
//! `PAHOLE_FLAGS`) against the Debian trixie corpus, whose `.BTF` pahole
//! 1.30 made: every module with its `.BTF` removed (objcopy) and its
//! `.BTF_ids` as shipped gets the shipped `.BTF` and `.BTF_ids` back; the
//! vmlinux's `vmlinux.btf.o` holds the shipped `.BTF` and `vmlinux.BTF_ids`
//! is the shipped section. Skips, saying so, without the trixie corpus
//! (`testdata/fetch-trixie.sh`).
//!
//! Needs: binutils.

use kbtf_testsupport::corpus;
use kbtf_testsupport::elf::section;

use std::path::PathBuf;
use std::process::Command;

use rayon::prelude::*;

const KBTF: &str = env!("CARGO_BIN_EXE_kbtf");

/// What Debian trixie's kbuild (Makefile.btf, pahole 1.30) passes.
const PAHOLE_FLAGS: &str = "-j --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs -j --btf_features=+reproducible_build --lang_exclude=rust";

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (binutils installed?)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn kbtf_130() -> Command {
    let mut cmd = Command::new(KBTF);
    cmd.env("KBTF_PAHOLE_VERSION", "1.30")
        .env("PAHOLE_FLAGS", PAHOLE_FLAGS)
        .env_remove("MODULE_PAHOLE_FLAGS")
        .env_remove("RESOLVE_BTFIDS_FLAGS");
    cmd
}

#[test]
fn trixie_modules_get_their_shipped_btf_and_ids() {
    let Some(corpus) = corpus::Corpus::trixie() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shipped = corpus.modules();
    let copies: Vec<PathBuf> = shipped
        .par_iter()
        .enumerate()
        .map(|(i, ko)| {
            let name = ko.file_name().unwrap().to_string_lossy();
            let copy = dir.path().join(format!("{i:04}-{name}"));
            run(Command::new("objcopy")
                .args(["--remove-section", ".BTF"])
                .arg(ko)
                .arg(&copy));
            copy
        })
        .collect();
    run(kbtf_130()
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
        "trixie, kbtf gen as pahole 1.30: .BTF as shipped in {btf_same} of {} modules, \
         .BTF_ids in {ids_same} ({with_ids} have one)",
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
fn trixie_vmlinux_gets_its_shipped_btf_and_ids() {
    let Some(corpus) = corpus::Corpus::trixie() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = dir.path().join("vmlinux");
    std::os::unix::fs::symlink(corpus.vmlinux(), &vmlinux).unwrap();
    let shipped = std::fs::read(&vmlinux).unwrap();
    run(kbtf_130().arg("gen").arg(&vmlinux));
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
    println!("trixie vmlinux, kbtf gen as pahole 1.30: .BTF and .BTF_ids as shipped");
}
