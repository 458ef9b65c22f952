//! `kbtf gen` as Linux 7.2's gen-btf.sh with pahole 1.32
//! (`KBTF_PAHOLE_VERSION=1.32`, 7.2's `PAHOLE_FLAGS`): encode, resolve_btfids
//! `--btf`'s transform (kfuncs with implicit arguments, types sorted by
//! name), resolve `.BTF_ids`, embed. Against the Debian sid corpus: every
//! module with its `.BTF` removed (objcopy; the 7 with `.BTF_ids` from their
//! inputs as linked, `testdata/ref-sid.sh`) gets the shipped `.BTF` and
//! `.BTF_ids`, and a second run changes no byte; the vmlinux as linked gives
//! a `.btf.o` holding the shipped `.BTF` and the shipped `.BTF_ids`. Skips,
//! saying so, without the sid corpus or its references.
//!
//! Needs: binutils.

use std::path::{Path, PathBuf};
use std::process::Command;

use kbtf_testsupport::chroot::{Chroot, Suite};
use kbtf_testsupport::cmd::{kbtf_as, run};
use kbtf_testsupport::corpus::Corpus;
use kbtf_testsupport::elf::{file_section, section};
use rayon::prelude::*;

const KBTF: &str = env!("CARGO_BIN_EXE_kbtf");

/// kbtf as sid's kbuild runs its BTF step.
fn kbtf() -> Command {
    kbtf_as(KBTF, Suite::Sid)
}

fn find() -> Option<(Corpus, PathBuf)> {
    let corpus = Corpus::sid()?;
    let refs = Corpus::sid_references()?;
    Some((corpus, refs))
}

#[test]
fn sid_modules_get_their_shipped_btf_and_ids() {
    let Some((corpus, refs)) = find() else {
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
                .arg(corpus.sid_module_reference(&refs, ko).input)
                .arg(&copy));
            copy
        })
        .collect();
    // A fresh base index: the first run makes it, the second maps it.
    let index = dir.path().join("base-index");
    let gen = || {
        run(kbtf()
            .env("KBTF_BASE_INDEX", &index)
            .args(["gen", "--no-progress", "--btf_base"])
            .arg(corpus.vmlinux())
            .args(&copies));
    };
    gen();
    assert_eq!(
        std::fs::read_dir(&index).unwrap().count(),
        1,
        "one base index made"
    );
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
    let with_ids = results.iter().filter(|r| r.2).count();
    let ids_same = results.iter().filter(|r| r.2 && r.1).count();
    println!(
        "kbtf gen (pahole 1.32, 7.2's gen-btf.sh): {btf_same}/{} sid modules get the shipped .BTF, {ids_same}/{with_ids} the shipped .BTF_ids",
        shipped.len()
    );
    for ((ko, r), _) in shipped.iter().zip(&results).zip(&copies) {
        if !(r.0 && r.1) {
            println!(
                "  differs: {} (.BTF {}, .BTF_ids {})",
                ko.display(),
                r.0,
                r.1
            );
        }
    }
    assert_eq!(shipped.len(), 1018);
    assert_eq!(with_ids, 7);
    assert!(results.iter().all(|r| r.0 && r.1));

    // A second run changes no byte.
    let before: Vec<Vec<u8>> = copies.iter().map(|c| std::fs::read(c).unwrap()).collect();
    gen();
    let changed = copies
        .iter()
        .zip(&before)
        .filter(|(c, b)| std::fs::read(c).unwrap() != **b)
        .count();
    println!(
        "kbtf gen again (base index mapped): {changed} of {} modules changed",
        copies.len()
    );
    assert_eq!(changed, 0);
}

#[test]
fn sid_vmlinux_gets_its_shipped_btf_and_ids() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // gen leaves the vmlinux alone and writes beside it: a link to the input as linked.
    let elf = dir.path().join("vmlinux");
    std::os::unix::fs::symlink(refs.join("vmlinux.fresh"), &elf).unwrap();
    run(kbtf().arg("gen").arg(&elf));
    let vmlinux = corpus.vmlinux();
    let btf_o = dir.path().join("vmlinux.btf.o");
    assert!(
        file_section(&btf_o, ".BTF") == file_section(&vmlinux, ".BTF"),
        "vmlinux.btf.o's .BTF differs from the shipped .BTF"
    );
    assert!(
        std::fs::read(dir.path().join("vmlinux.BTF_ids")).unwrap()
            == file_section(&vmlinux, ".BTF_ids").unwrap(),
        "vmlinux.BTF_ids differs from the shipped .BTF_ids"
    );
    println!(
        "kbtf gen (pahole 1.32): the sid vmlinux's .btf.o and .BTF_ids hold the shipped sections"
    );
}

/// Files Debian's build processed (each set sorted, its symbols left at
/// their old slots, so the word after a kfunc's symbol is another's flags):
/// gen reads every kfunc's flags from its own entry, found through the
/// file's `.BTF`, and gives the shipped sections again (upstream's second
/// run tags and rewrites the wrong kfuncs).
#[test]
fn sid_processed_files_get_their_shipped_sections_again() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("vmlinux");
    std::os::unix::fs::symlink(corpus.vmlinux(), &elf).unwrap();
    run(kbtf().arg("gen").arg(&elf));
    let vmlinux = corpus.vmlinux();
    assert!(
        file_section(&dir.path().join("vmlinux.btf.o"), ".BTF") == file_section(&vmlinux, ".BTF"),
        "the processed vmlinux's .btf.o differs from the shipped .BTF"
    );
    assert!(
        std::fs::read(dir.path().join("vmlinux.BTF_ids")).unwrap()
            == file_section(&vmlinux, ".BTF_ids").unwrap()
    );
    let mut copies = Vec::new();
    for ko in corpus.modules() {
        if corpus.sid_module_reference(&refs, &ko).input != ko {
            let copy = dir.path().join(ko.file_name().unwrap());
            std::fs::copy(&ko, &copy).unwrap();
            copies.push((ko, copy));
        }
    }
    run(kbtf()
        .args(["gen", "--no-progress", "--btf_base"])
        .arg(&vmlinux)
        .args(copies.iter().map(|c| &c.1)));
    for (ko, copy) in &copies {
        for s in [".BTF", ".BTF_ids"] {
            assert!(
                file_section(copy, s) == file_section(ko, s),
                "{}: {s} differs",
                ko.display()
            );
        }
    }
    println!(
        "kbtf gen (pahole 1.32) on processed files: the vmlinux and {}/7 modules keep their shipped sections",
        copies.len()
    );
    assert_eq!(copies.len(), 7);
}

/// The 7.x re-run problem, measured. Every module exactly as Debian shipped
/// it, `.BTF` included: `kbtf gen` leaves its `.BTF` and `.BTF_ids` as they
/// are, and every file without `.BTF_ids` byte for byte (in the 7 with one,
/// it moves the stale set8 symbols to their own entries, `.symtab` only).
/// Upstream's gen-btf.sh steps on the same shipped files (sid's pahole 1.32
/// and resolve_btfids 7.2, in the chroot) give another `.BTF` wherever the
/// moved flags words matter: the test prints how many of the vmlinux and
/// the 7 modules.
#[test]
fn rerun_on_shipped_files_kbtf_keeps_them_upstream_changes_them() {
    let Some(corpus) = Corpus::sid() else {
        return;
    };
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let modules = corpus.modules();
    let copies: Vec<PathBuf> = modules
        .par_iter()
        .enumerate()
        .map(|(i, ko)| {
            let copy = dir.path().join(format!(
                "{i:04}-{}",
                ko.file_name().unwrap().to_string_lossy()
            ));
            std::fs::copy(ko, &copy).unwrap();
            copy
        })
        .collect();
    run(kbtf()
        .args(["gen", "--no-progress", "--btf_base"])
        .arg(corpus.vmlinux())
        .args(&copies));
    let (mut same_file, mut same_sections, mut with_ids) = (0, 0, Vec::new());
    for (ko, copy) in modules.iter().zip(&copies) {
        let (old, new) = (std::fs::read(ko).unwrap(), std::fs::read(copy).unwrap());
        same_file += usize::from(old == new);
        same_sections += usize::from(
            [".BTF", ".BTF_ids"]
                .iter()
                .all(|s| section(&old, s) == section(&new, s)),
        );
        if section(&old, ".BTF_ids").is_some() {
            with_ids.push(ko.clone());
        } else {
            assert!(
                old == new,
                "{}: kbtf gen changed a shipped file",
                ko.display()
            );
        }
    }
    println!(
        "kbtf gen on the {} shipped sid modules: {same_sections} keep their .BTF and .BTF_ids, \
         {same_file} files unchanged byte for byte (the {} with .BTF_ids get their stale symbols moved)",
        modules.len(),
        with_ids.len()
    );
    assert_eq!(same_sections, modules.len());

    // Upstream's gen-btf.sh steps on the shipped vmlinux and modules with .BTF_ids.
    let kbuild = std::fs::read_to_string(chroot.root.join("kbuild-package")).unwrap();
    let resolve = format!(
        "/usr/lib/{}/tools/bpf/resolve_btfids/resolve_btfids",
        kbuild.trim()
    );
    let base = chroot.path("vmlinux");
    std::fs::copy(corpus.vmlinux(), &base).unwrap();
    let flags = Suite::Sid.pahole_flags_var();
    let flags: Vec<&str> = flags.split_whitespace().collect();
    let rerun = |file: &Path, base_arg: &[String]| -> Vec<u8> {
        let inside = chroot.inside(file).display().to_string();
        let btf1 = format!("{inside}.BTF.1");
        run(chroot
            .command("pahole")
            .arg("-J")
            .args(&flags)
            .args(base_arg)
            .arg(format!("--btf_encode_detached={btf1}"))
            .arg(&inside));
        run(chroot
            .command(&resolve)
            .args(base_arg)
            .args(["--btf", &btf1, &inside]));
        std::fs::read(format!("{}.BTF", file.display())).unwrap()
    };
    let mut changed = Vec::new();
    let vmlinux_btf = rerun(&base, &[]);
    if Some(vmlinux_btf) != file_section(&corpus.vmlinux(), ".BTF") {
        changed.push("vmlinux".to_string());
    }
    let base_arg = [
        "--btf_base".to_string(),
        chroot.inside(&base).display().to_string(),
    ];
    for ko in &with_ids {
        let name = ko.file_name().unwrap().to_string_lossy().into_owned();
        let copy = chroot.path(&name);
        std::fs::copy(ko, &copy).unwrap();
        if Some(rerun(&copy, &base_arg)) != file_section(ko, ".BTF") {
            changed.push(name);
        }
    }
    println!(
        "upstream's gen-btf.sh steps on the same shipped files: another .BTF for {} of the vmlinux and {} modules with .BTF_ids: {}",
        changed.len(),
        with_ids.len(),
        changed.join(", ")
    );
    assert!(
        !changed.is_empty(),
        "upstream's rerun changed nothing: the comparison stands on nothing"
    );
}
