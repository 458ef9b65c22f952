//! The fuzz seeds (btf/fuzz/seeds) are BTF that kbtf and bpftool (the
//! oracle) both read, and read alike: a seed kbtf rejected would seed the
//! fuzzers with nothing but error paths.

use kbtf_testsupport::bpftool;
use kbtf_testsupport::corpus;

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

/// The `encode` target's seeds (btf/fuzz/seeds/dwarf) encode as pahole 1.24
/// encodes them (`pahole -J --btf_gen_floats --lang_exclude=rust`), byte for
/// byte, or both refuse them: a seed exercises the encoder, not its error paths.
#[cfg(feature = "dwarf")]
#[test]
fn dwarf_seeds_encode_like_pahole() {
    use kbtf_btf::encode::{encode_deduped, EncodeOptions};
    use std::process::Command;

    let dir = std::env::temp_dir().join(format!("kbtf-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut same, mut refused) = (0, 0);
    for file in files("dwarf") {
        let theirs = dir.join("pahole.btf");
        let _ = std::fs::remove_file(&theirs);
        let status = Command::new("pahole")
            .args(["-J", "--btf_gen_floats", "--lang_exclude=rust"])
            .arg(format!("--btf_encode_detached={}", theirs.display()))
            .arg(&file)
            .output();
        let Ok(out) = status else {
            kbtf_testsupport::skip_unless_ci("pahole (Debian dwarves) is missing");
            return;
        };
        let ours = encode_deduped(&file, None, &EncodeOptions::kernel());
        match (out.status.success() && theirs.exists(), ours) {
            (true, Ok(btf)) => {
                let want = std::fs::read(&theirs).unwrap();
                assert!(
                    btf.to_bytes() == want,
                    "{}: kbtf's BTF differs from pahole's",
                    file.display()
                );
                same += 1;
            }
            (false, Err(e)) => {
                println!("{}: refused by both ({e})", file.display());
                refused += 1;
            }
            (pahole_ok, ours) => panic!(
                "{}: pahole {}, kbtf {:?}",
                file.display(),
                if pahole_ok {
                    "encodes it"
                } else {
                    "refuses it"
                },
                ours.map(|b| b.type_count())
            ),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{same} DWARF seeds encode like pahole 1.24, {refused} refused by both");
    assert!(same >= 5, "only {same} DWARF seeds encoded");
}
