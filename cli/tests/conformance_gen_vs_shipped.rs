//! `kbtf gen` against the Debian corpus, whose `.BTF` pahole 1.24 made and
//! whose `.BTF_ids` the kernel's resolve_btfids resolved:
//! - every module with its `.BTF` removed (objcopy), its `.BTF_ids` as
//!   shipped, run through one batch `kbtf gen --btf_base vmlinux`: `.BTF`
//!   and `.BTF_ids` equal the shipped sections, readelf stays silent on a
//!   sample, modinfo reads them; a second batch run changes no byte;
//! - the vmlinux: the file is left alone, `vmlinux.btf.o` is accepted by
//!   `ld -r` and holds the shipped `.BTF`, `vmlinux.BTF_ids` is the shipped
//!   section;
//! - the modules with `.BTF_ids` as shipped (upstream-processed, `.BTF` in
//!   place): sections kept, stale symbols moved, a rerun changes nothing;
//! - a batch under `make -j2` (jobserver) and under `make`.
//!
//! Needs: binutils, kmod, make.

use kbtf_testsupport::cmd::run;
use kbtf_testsupport::corpus;
use kbtf_testsupport::elf::section;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection};
use rayon::prelude::*;

const KBTF: &str = env!("CARGO_BIN_EXE_kbtf");

fn digest(path: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    std::fs::read(path).unwrap().hash(&mut h);
    h.finish()
}

#[test]
fn every_module_gets_its_shipped_btf_and_ids_and_a_rerun_changes_nothing() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let dir = tempfile::tempdir().unwrap();
    let shipped = corpus.modules();
    // A flat copy of each module without its .BTF, as a freshly linked one
    // would be but with the shipped (upstream-resolved) .BTF_ids.
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

    // A fresh base index: the first run makes it, the second maps it.
    let index = dir.path().join("base-index");
    run(kbtf_testsupport::kbtf_as_1_24(KBTF)
        .env("KBTF_BASE_INDEX", &index)
        .args(["gen", "--no-progress", "--btf_base"])
        .arg(&vmlinux)
        .args(&copies));

    assert_eq!(
        std::fs::read_dir(&index).unwrap().count(),
        1,
        "one base index made"
    );
    let with_ids: usize = shipped
        .par_iter()
        .zip(&copies)
        .map(|(ko, copy)| {
            let old = std::fs::read(ko).unwrap();
            let new = std::fs::read(copy).unwrap();
            assert!(
                section(&new, ".BTF") == section(&old, ".BTF"),
                "{}: .BTF differs from the shipped one",
                ko.display()
            );
            let ids = section(&old, ".BTF_ids");
            assert!(
                section(&new, ".BTF_ids") == ids,
                "{}: .BTF_ids differs from the shipped one",
                ko.display()
            );
            usize::from(ids.is_some())
        })
        .sum();

    // The files stay well-formed ELF that kmod reads.
    for copy in copies.iter().step_by(50) {
        let out = run(Command::new("readelf").args(["-a", "-W"]).arg(copy));
        let complaints: Vec<_> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("readelf:"))
            .map(str::to_owned)
            .collect();
        assert!(
            out.stderr.is_empty() && complaints.is_empty(),
            "{}: readelf: {}{complaints:?}",
            copy.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run(Command::new("modinfo").args(["-F", "license"]).arg(copy));
        assert!(!out.stdout.is_empty(), "{}: no license", copy.display());
    }

    let before: Vec<u64> = copies.par_iter().map(|c| digest(c)).collect();
    run(kbtf_testsupport::kbtf_as_1_24(KBTF)
        .env("KBTF_BASE_INDEX", &index)
        .args(["gen", "--no-progress", "--btf_base"])
        .arg(&vmlinux)
        .args(&copies));
    let after: Vec<u64> = copies.par_iter().map(|c| digest(c)).collect();
    for ((b, a), ko) in before.iter().zip(&after).zip(&shipped) {
        assert_eq!(b, a, "{}: a second gen changed the file", ko.display());
    }
    println!(
        "{} modules: .BTF and .BTF_ids ({with_ids} with .BTF_ids) as shipped; \
         a second run (base index mapped) changed no byte",
        copies.len()
    );
}

#[test]
fn vmlinux_gets_a_linkable_btf_o_and_its_shipped_ids() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = dir.path().join("vmlinux");
    std::os::unix::fs::symlink(corpus.vmlinux(), &vmlinux).unwrap();
    let shipped = std::fs::read(&vmlinux).unwrap();
    run(kbtf_testsupport::kbtf_as_1_24(KBTF)
        .arg("gen")
        .arg(&vmlinux));
    assert!(
        std::fs::read(&vmlinux).unwrap() == shipped,
        "vmlinux changed"
    );

    let btf_o = dir.path().join("vmlinux.btf.o");
    let linked = dir.path().join("linked.o");
    run(Command::new("ld")
        .arg("-r")
        .arg("-o")
        .arg(&linked)
        .arg(&btf_o));
    let object = std::fs::read(&btf_o).unwrap();
    let file = object::File::parse(&*object).unwrap();
    assert_eq!(file.kind(), object::ObjectKind::Relocatable);
    assert_eq!(file.architecture(), object::Architecture::X86_64);
    let btf = file.section_by_name(".BTF").unwrap();
    assert!(matches!(
        btf.flags(),
        object::SectionFlags::Elf { sh_flags, .. } if sh_flags.0 == object::elf::SHF_ALLOC.0
    ));
    assert!(btf.data().unwrap() == section(&shipped, ".BTF").unwrap().as_slice());
    // What ld -r made of it still holds the same .BTF.
    let linked = std::fs::read(&linked).unwrap();
    assert!(section(&linked, ".BTF") == section(&shipped, ".BTF"));

    let ids = std::fs::read(dir.path().join("vmlinux.BTF_ids")).unwrap();
    assert!(
        Some(ids) == section(&shipped, ".BTF_ids"),
        "vmlinux.BTF_ids is not the shipped section"
    );
    println!("vmlinux: .btf.o links and holds the shipped .BTF; .BTF_ids as shipped");
}

/// Under make: with `-j2` kbtf takes tokens from make's jobserver for its
/// second worker (a recipe marked `+`), without `-j` it runs one module at
/// a time; either way the modules get their shipped sections.
#[test]
fn batch_under_make_with_and_without_a_jobserver() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shipped: Vec<PathBuf> = corpus.modules().into_iter().step_by(40).collect();
    std::fs::write(
        dir.path().join("Makefile"),
        format!(
            "all:\n\t+{KBTF} gen --btf_base {} $(KOS)\n",
            corpus.vmlinux().display()
        ),
    )
    .unwrap();
    for jobs in [&["-j2"][..], &[]] {
        let names: Vec<String> = shipped
            .iter()
            .enumerate()
            .map(|(i, ko)| {
                let name = format!("{i:02}.ko");
                run(Command::new("objcopy")
                    .args(["--remove-section", ".BTF"])
                    .arg(ko)
                    .arg(dir.path().join(&name)));
                name
            })
            .collect();
        run(Command::new("make")
            .current_dir(dir.path())
            .env("KBTF_PAHOLE_VERSION", "1.24")
            .args(jobs)
            .arg(format!("KOS={}", names.join(" ")))
            .env_remove("MAKEFLAGS"));
        for (ko, name) in shipped.iter().zip(&names) {
            let old = std::fs::read(ko).unwrap();
            let new = std::fs::read(dir.path().join(name)).unwrap();
            for s in [".BTF", ".BTF_ids"] {
                assert!(
                    section(&new, s) == section(&old, s),
                    "make {jobs:?}: {s} of {name}"
                );
            }
        }
    }
    println!("{} modules under make -j2 and make", shipped.len());
}

/// Modules as upstream's tools left them (their `.BTF` in place, sorted
/// sets whose symbols point at other entries): `kbtf gen` keeps the shipped
/// sections, moves the symbols to their own entries, and a rerun changes nothing.
#[test]
fn modules_processed_upstream_keep_their_sections() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shipped: Vec<PathBuf> = corpus
        .modules()
        .into_par_iter()
        .filter(|ko| section(&std::fs::read(ko).unwrap(), ".BTF_ids").is_some())
        .collect();
    let copies: Vec<PathBuf> = shipped
        .iter()
        .map(|ko| {
            let copy = dir.path().join(ko.file_name().unwrap());
            std::fs::copy(ko, &copy).unwrap();
            copy
        })
        .collect();
    let gen = || {
        run(kbtf_testsupport::kbtf_as_1_24(KBTF)
            .args(["gen", "--btf_base"])
            .arg(corpus.vmlinux())
            .args(&copies));
    };
    gen();
    let mut moved = 0;
    for (ko, copy) in shipped.iter().zip(&copies) {
        let old = std::fs::read(ko).unwrap();
        let new = std::fs::read(copy).unwrap();
        for s in [".BTF", ".BTF_ids"] {
            assert!(
                section(&new, s) == section(&old, s),
                "{}: {s}",
                ko.display()
            );
        }
        moved += usize::from(new != old);
    }
    let once: Vec<u64> = copies.iter().map(|c| digest(c)).collect();
    gen();
    let twice: Vec<u64> = copies.iter().map(|c| digest(c)).collect();
    assert_eq!(once, twice, "a second gen changed a file");
    println!(
        "{} modules with .BTF_ids as shipped: sections kept, {moved} had stale symbols moved",
        shipped.len()
    );
}
