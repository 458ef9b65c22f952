//! The fuzz seeds (btf/fuzz/seeds) are BTF that kbtf and bpftool (the
//! oracle) both read, and read alike: a seed kbtf rejected would seed the
//! fuzzers with nothing but error paths.

#[path = "../../testdata/bpftool.rs"]
mod bpftool;
#[path = "../../testdata/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpftool::Bpftool;
use kbtf_btf::{dump, Btf, Kind, TypeId};

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(seeds().join(dir))
        .expect("the seed directory")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    files
}

/// kbtf's text dump of `btf` is bpftool's of `file`.
fn assert_dump_matches(bpftool: &Bpftool, btf: &Btf, base: Option<&Path>, file: &Path) {
    let want = bpftool.dump(base, file, false).unwrap();
    let mut got = Vec::new();
    dump::write_raw(btf, &mut got).unwrap();
    assert!(
        got == want,
        "{}: kbtf's dump differs from bpftool's",
        file.display()
    );
}

#[test]
fn seeds_read_as_bpftool_reads_them() {
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let fixed = seeds().join("src/base.btf");
    let fixed = (Arc::new(Btf::from_file(&fixed).unwrap()), fixed);
    // A module's shipped .BTF is split over the vmlinux it was built with.
    let vmlinux = corpus::Corpus::find()
        .map(|c| c.vmlinux())
        .map(|v| (Arc::new(Btf::from_file(&v).unwrap()), v));
    let mut checked = 0;
    for file in files("blob")
        .into_iter()
        .chain(files("split"))
        .chain(files("elf"))
    {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name == "kinds-layout.btf" {
            continue; // libbpf 1.1 has no kind layout: checked below
        }
        if name.starts_with("compressed-") {
            continue; // libbpf 1.1 does not inflate .BTF: tests/compressed_btf.rs
        }
        let base = if name.starts_with("module-") {
            let Some(vmlinux) = &vmlinux else { continue };
            Some(vmlinux)
        } else if file.parent().unwrap().ends_with("split") {
            Some(&fixed)
        } else {
            None
        };
        let btf = Btf::from_file_split(&file, base.map(|b| b.0.clone()))
            .unwrap_or_else(|e| panic!("kbtf rejects the seed: {e}"));
        assert_dump_matches(&bpftool, &btf, base.map(|b| b.1.as_path()), &file);
        checked += 1;
    }
    println!("{checked} seeds read alike by kbtf and bpftool");
    assert!(checked >= 7, "only {checked} seeds checked");
}

/// The kind-layout seed is the every-kind base plus one record of kind 20,
/// which only its kind layout can size.
#[test]
fn kind_layout_seed_adds_one_unknown_kind() {
    let plain = Btf::from_file(seeds().join("blob/kinds-le.btf")).unwrap();
    let layout = Btf::from_file(seeds().join("blob/kinds-layout.btf")).unwrap();
    assert!(layout.layout().is_some_and(|l| l.len() == 21));
    assert_eq!(layout.type_count(), plain.type_count() + 1);
    for id in plain.own_ids() {
        assert_eq!(
            layout.get(id).unwrap().words(),
            plain.get(id).unwrap().words()
        );
    }
    let last = layout.get(TypeId(plain.type_count())).unwrap();
    assert_eq!(last.kind(), Kind::Unknown(20));
    assert_eq!(last.words().len(), 3 + 1 + 2 * 2);
}
