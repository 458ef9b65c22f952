//! `kbtf gen` one process per module, as kbuild runs it, with the base
//! index (`KBTF_BASE_INDEX`) in every state a build can leave it in: made
//! by the first process and mapped by the others, made by several processes
//! at once, truncated, corrupt, of another base, in a directory that cannot
//! be written or is a file, turned off. Each time every module must get the
//! shipped `.BTF` and `.BTF_ids` of the Debian sid corpus (7.2,
//! pahole 1.32): the index may change the time, never the output. Skips,
//! saying so, without the sid corpus or its references.
//!
//! Needs: binutils.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kbtf_btf::base_index::{BaseIndex, BaseKey};
use kbtf_btf::{Btf, Info, Kind};
use kbtf_testsupport::corpus::Corpus;
use kbtf_testsupport::elf::section;
use rayon::prelude::*;

const KBTF: &str = env!("CARGO_BIN_EXE_kbtf");

/// What Linux 7.2's Makefile.btf passes pahole 1.32 (as testdata/ref-sid.sh).
const PAHOLE_FLAGS: &str = "-j --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs --btf_features=attributes --btf_features=layout -j --btf_features=+reproducible_build --lang_exclude=rust";

struct Sid {
    corpus: Corpus,
    refs: PathBuf,
}

fn find() -> Option<Sid> {
    let Some(corpus) = Corpus::sid() else {
        println!("skipped: no sid corpus");
        return None;
    };
    let Some(refs) = Corpus::sid_references() else {
        println!("skipped: no sid references (testdata/ref-sid.sh)");
        return None;
    };
    Some(Sid { corpus, refs })
}

impl Sid {
    /// The module as linked: the reference's copy for those whose `.BTF_ids` the build processed.
    fn input_of(&self, module: &Path) -> PathBuf {
        let rel = module
            .strip_prefix(self.corpus.dir.join("modules"))
            .unwrap();
        let fresh = self.refs.join("modules").join(rel);
        if fresh.exists() {
            fresh
        } else {
            module.to_path_buf()
        }
    }

    /// A few modules: the ones with `.BTF_ids` among them.
    fn some_modules(&self, every: usize) -> Vec<PathBuf> {
        let all = self.corpus.modules();
        let with_ids = all.iter().filter(|ko| {
            self.refs
                .join("modules")
                .join(ko.strip_prefix(self.corpus.dir.join("modules")).unwrap())
                .exists()
        });
        let mut picked: Vec<PathBuf> = all.iter().step_by(every).chain(with_ids).cloned().collect();
        picked.sort();
        picked.dedup();
        picked
    }

    /// Copies of `modules` without `.BTF` in `dir`, as the linker leaves them.
    fn copies(&self, modules: &[PathBuf], dir: &Path) -> Vec<PathBuf> {
        std::fs::create_dir_all(dir).unwrap();
        modules
            .par_iter()
            .enumerate()
            .map(|(i, ko)| {
                let name = ko.file_name().unwrap().to_string_lossy();
                let copy = dir.join(format!("{i:04}-{name}"));
                let out = Command::new("objcopy")
                    .args(["--remove-section", ".BTF"])
                    .arg(self.input_of(ko))
                    .arg(&copy)
                    .output()
                    .expect("objcopy (binutils installed?)");
                assert!(out.status.success(), "objcopy {}", ko.display());
                copy
            })
            .collect()
    }

    /// How many of `copies` hold the shipped `.BTF` and `.BTF_ids` of `modules`.
    fn shipped(&self, modules: &[PathBuf], copies: &[PathBuf]) -> usize {
        modules
            .par_iter()
            .zip(copies)
            .filter(|(ko, copy)| {
                let old = std::fs::read(ko).unwrap();
                let new = std::fs::read(copy).unwrap();
                section(&new, ".BTF") == section(&old, ".BTF")
                    && section(&new, ".BTF_ids") == section(&old, ".BTF_ids")
            })
            .count()
    }

    /// `kbtf gen -v` on one module, the index at `index` (a path or `off`).
    fn gen(&self, index: &Path, ko: &Path) -> Command {
        let mut cmd = Command::new(KBTF);
        cmd.env("KBTF_PAHOLE_VERSION", "1.32")
            .env("PAHOLE_FLAGS", PAHOLE_FLAGS)
            .env("KBTF_BASE_INDEX", index)
            .env_remove("MODULE_PAHOLE_FLAGS")
            .env_remove("RESOLVE_BTFIDS_FLAGS")
            .args(["gen", "-v", "--no-progress", "--btf_base"])
            .arg(self.corpus.vmlinux())
            .arg(ko);
        cmd
    }
}

/// Runs and checks it succeeded; returns its stderr.
fn ok(cmd: &mut Command) -> String {
    let out: Output = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed: {err}");
    assert!(!err.contains("panicked"), "{cmd:?}: {err}");
    err
}

/// The index lines of a verbose gen's stderr.
fn index_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("base index "))
        .unwrap_or("")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn one_process_per_module_makes_then_maps_the_index() {
    let Some(sid) = find() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let modules = sid.some_modules(10);
    let copies = sid.copies(&modules, &tmp.path().join("ko"));
    let index = tmp.path().join("index");
    let lines: Vec<String> = copies
        .iter()
        .map(|c| index_line(&ok(&mut sid.gen(&index, c))).to_owned())
        .collect();
    let created = lines.iter().filter(|l| l.ends_with(": created")).count();
    let used = lines.iter().filter(|l| l.ends_with(": used")).count();
    let same = sid.shipped(&modules, &copies);
    println!(
        "kbtf gen per module with a fresh base index: {same}/{} sid modules get the shipped \
         .BTF and .BTF_ids; the index was created by {created} process, mapped by {used}",
        modules.len()
    );
    assert_eq!((created, used), (1, modules.len() - 1), "{lines:?}");
    assert_eq!(same, modules.len());
    assert_eq!(files_in(&index).len(), 1);

    // Off: the base prepared in memory, the same bytes.
    let off_copies = sid.copies(&modules[..10], &tmp.path().join("off"));
    for c in &off_copies {
        assert_eq!(index_line(&ok(&mut sid.gen(Path::new("off"), c))), "");
    }
    assert_eq!(sid.shipped(&modules[..10], &off_copies), 10);
    println!("KBTF_BASE_INDEX=off: 10/10 modules get the shipped sections");
}

#[test]
fn processes_creating_the_index_at_once_all_succeed() {
    let Some(sid) = find() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let modules = sid.some_modules(200);
    let index = tmp.path().join("index");
    for round in 0..3 {
        let _ = std::fs::remove_dir_all(&index);
        let dirs: Vec<PathBuf> = (0..6)
            .map(|p| tmp.path().join(format!("r{round}p{p}")))
            .collect();
        let copies: Vec<Vec<PathBuf>> = dirs.iter().map(|d| sid.copies(&modules, d)).collect();
        // Six processes at once, each over its own copies, all on an empty index directory.
        let children: Vec<_> = copies
            .iter()
            .map(|c| {
                let mut cmd = sid.gen(&index, &c[0]);
                cmd.args(&c[1..]).stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && !err.contains("panicked"), "{err}");
        }
        for c in &copies {
            assert_eq!(sid.shipped(&modules, c), modules.len());
        }
        // One whole index, no temporary files, and it is valid.
        assert_eq!(files_in(&index).len(), 1, "{:?}", files_in(&index));
        let again = sid.copies(&modules[..1], &tmp.path().join(format!("again{round}")));
        assert!(index_line(&ok(&mut sid.gen(&index, &again[0]))).ends_with(": used"));
    }
    println!(
        "6 processes creating the base index at once, 3 times: all succeeded, {} modules each \
         as shipped, one valid index left",
        modules.len()
    );
}

/// An index left in a bad state is made again, and the output stays the shipped one.
#[test]
fn damaged_stale_or_unwritable_indexes_change_nothing() {
    let Some(sid) = find() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let modules = sid.some_modules(300);
    let index = tmp.path().join("index");
    let first = sid.copies(&modules[..1], &tmp.path().join("first"));
    ok(&mut sid.gen(&index, &first[0]));
    let files = files_in(&index);
    let [file] = &files[..] else {
        panic!("no single index in {}", index.display())
    };
    let good = std::fs::read(file).unwrap();

    // Another base's index under this base's name: a real index, made for
    // a small base, with this base's key in its header and without.
    let other = {
        let mut btf = Btf::new();
        let int = btf.add_str(b"int").unwrap();
        btf.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
            .unwrap();
        btf
    };
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let hex = &name[..32];
    let len: u64 = name[33..name.find('.').unwrap()].parse().unwrap();
    let this_key = BaseKey {
        len,
        hash: u128::from_str_radix(hex, 16).unwrap(),
    };
    let other_key = BaseKey::of(&other.to_bytes());

    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x40;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("truncated header", good[..40].to_vec()),
        ("empty", Vec::new()),
        ("flipped body byte", flipped),
        ("another base's", BaseIndex::build(&other, &other_key)),
        (
            "another base's, this key",
            BaseIndex::build(&other, &this_key),
        ),
        ("not an index", b"#!/bin/sh\nexit 0\n".repeat(100)),
    ];
    for (i, (what, bytes)) in cases.iter().enumerate() {
        std::fs::write(file, bytes).unwrap();
        let copy = sid.copies(&modules, &tmp.path().join(format!("case{i}")));
        let err = ok(sid.gen(&index, &copy[0]).args(&copy[1..]));
        assert!(index_line(&err).ends_with("made again"), "{what}: {err}");
        assert_eq!(sid.shipped(&modules, &copy), modules.len(), "{what}");
        assert!(std::fs::read(file).unwrap() == good, "{what}: not rebuilt");
    }

    // Directories that cannot hold the index: the output is the same.
    let a_file = tmp.path().join("a-file");
    std::fs::write(&a_file, b"").unwrap();
    let name_taken = tmp.path().join("name-taken");
    std::fs::create_dir_all(name_taken.join(&name)).unwrap();
    let read_only = tmp.path().join("read-only");
    std::fs::create_dir_all(&read_only).unwrap();
    let mut unwritable = vec![
        ("a file", a_file.clone()),
        ("a file's child", a_file.join("index")),
        ("index name taken by a directory", name_taken),
        // Root writes through modes; /proc takes no new directory from anyone.
        ("under /proc", PathBuf::from("/proc/kbtf-base-index-test")),
    ];
    let root = is_root();
    if !root {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
        unwritable.push(("read-only", read_only.clone()));
    }
    for (i, (what, dir)) in unwritable.iter().enumerate() {
        let copy = sid.copies(&modules, &tmp.path().join(format!("unwritable{i}")));
        let err = ok(sid.gen(dir, &copy[0]).args(&copy[1..]));
        assert!(index_line(&err).contains("not saved"), "{what}: {err}");
        assert_eq!(sid.shipped(&modules, &copy), modules.len(), "{what}");
    }
    println!(
        "{} damaged or stale indexes made again, {} unwritable index directories: \
         {} modules as shipped each time",
        cases.len(),
        unwritable.len(),
        modules.len()
    );
}

/// Whether this process runs as root (whose writes ignore modes).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
