//! `kbtf resolve_btfids` in gen-btf.sh's flow of Linux 7.x on Debian sid's
//! 7.2 corpus: `--btf X.BTF.1 [-b vmlinux] X` writes `X.BTF` and
//! `X.BTF_ids` as resolve_btfids 7.2 does (the shipped sections, byte for
//! byte), `--patch_btfids X.BTF_ids X` puts the section in, and a second
//! run on the patched file gives the same outputs. The library's
//! corpus-wide test is kbtf-btfids' `conformance_btf2btf_vs_shipped`.
//! Skips, saying so, without the sid corpus or its references.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kbtf_testsupport::corpus::Corpus;
use kbtf_testsupport::elf::file_section;

fn kbtf(args: &[&dyn AsRef<OsStr>]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kbtf"));
    cmd.arg("resolve_btfids");
    for a in args {
        cmd.arg(a);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn suffixed(p: &Path, s: &str) -> PathBuf {
    let mut o = p.as_os_str().to_owned();
    o.push(s);
    PathBuf::from(o)
}

fn find() -> Option<(Corpus, PathBuf)> {
    let corpus = Corpus::sid()?;
    let refs = Corpus::sid_references()?;
    Some((corpus, refs))
}

#[test]
fn vmlinux_btf_mode_writes_the_shipped_sections() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The outputs go next to the ELF file: a link to the (large) input.
    let elf = dir.path().join(".tmp_vmlinux1");
    std::os::unix::fs::symlink(refs.join("vmlinux.fresh"), &elf).unwrap();
    let before = std::fs::metadata(refs.join("vmlinux.fresh"))
        .unwrap()
        .modified()
        .unwrap();
    ok(&kbtf(&[&"--btf", &refs.join("vmlinux.BTF.1"), &elf]));
    let vmlinux = corpus.vmlinux();
    assert!(
        std::fs::read(suffixed(&elf, ".BTF")).unwrap() == file_section(&vmlinux, ".BTF").unwrap(),
        ".BTF differs from the shipped one"
    );
    assert!(
        std::fs::read(suffixed(&elf, ".BTF_ids")).unwrap()
            == file_section(&vmlinux, ".BTF_ids").unwrap(),
        ".BTF_ids differs from the shipped one"
    );
    let after = std::fs::metadata(refs.join("vmlinux.fresh"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "the input was written");
    println!("kbtf resolve_btfids --btf: the vmlinux's .BTF and .BTF_ids as shipped");
}

#[test]
fn module_btf_and_patch_modes_give_the_shipped_sections() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = corpus.vmlinux();
    let mut n = 0;
    for module in corpus.modules() {
        let rel = module.strip_prefix(corpus.dir.join("modules")).unwrap();
        let fresh_ref = refs.join("modules").join(rel);
        // The 7 with .BTF_ids (their inputs as linked are kept), and one without.
        let with_ids = fresh_ref.exists();
        if !with_ids && !module.ends_with("crc7.ko") {
            continue;
        }
        let input = if with_ids {
            fresh_ref.clone()
        } else {
            module.clone()
        };
        let name = module.file_name().unwrap();
        let ko = dir.path().join(name);
        std::fs::copy(&input, &ko).unwrap();
        let btf1 = suffixed(&fresh_ref, ".BTF.1");
        ok(&kbtf(&[&"--btf", &btf1, &"-b", &vmlinux, &ko]));
        assert_eq!(
            std::fs::read(&ko).unwrap(),
            std::fs::read(&input).unwrap(),
            "{}: --btf changed the ELF file",
            rel.display()
        );
        let btf = std::fs::read(suffixed(&ko, ".BTF")).unwrap();
        assert!(
            btf == file_section(&module, ".BTF").unwrap(),
            "{}: .BTF differs",
            rel.display()
        );
        let ids_path = suffixed(&ko, ".BTF_ids");
        if !with_ids {
            assert!(!ids_path.exists(), "{}: .BTF_ids written", rel.display());
            continue;
        }
        let shipped_ids = file_section(&module, ".BTF_ids").unwrap();
        assert!(
            std::fs::read(&ids_path).unwrap() == shipped_ids,
            "{}: .BTF_ids differs",
            rel.display()
        );
        ok(&kbtf(&[&"--patch_btfids", &ids_path, &ko]));
        assert!(file_section(&ko, ".BTF_ids").unwrap() == shipped_ids);

        // Again on the patched file: the same outputs.
        ok(&kbtf(&[&"--btf", &btf1, &"-b", &vmlinux, &ko]));
        assert!(std::fs::read(suffixed(&ko, ".BTF")).unwrap() == btf);
        assert!(std::fs::read(&ids_path).unwrap() == shipped_ids);
        n += 1;
    }
    println!(
        "kbtf resolve_btfids --btf / --patch_btfids: {n}/7 modules with .BTF_ids get the shipped sections"
    );
    assert_eq!(n, 7);
}

/// Distilling goes with `--btf` (its output is checked against sid's tools
/// by conformance_kbuild7_vs_sid); the in-place mode refuses it by name.
#[test]
fn distill_base_without_btf_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.ko");
    std::fs::write(&f, b"").unwrap();
    let out = kbtf(&[&"--distill_base", &"-b", &"v", &f]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--distill_base"), "{err}");
    assert!(!suffixed(&f, ".BTF").exists());
}

#[test]
fn a_truncated_btf_is_named_and_nothing_is_written() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let module = corpus.module("tcp_dctcp.ko");
    let rel = module.strip_prefix(corpus.dir.join("modules")).unwrap();
    let ko = dir.path().join("tcp_dctcp.ko");
    std::fs::copy(refs.join("modules").join(rel), &ko).unwrap();
    let btf1 = std::fs::read(suffixed(&refs.join("modules").join(rel), ".BTF.1")).unwrap();
    let cut = dir.path().join("cut.BTF.1");
    std::fs::write(&cut, &btf1[..btf1.len() / 2]).unwrap();
    let out = kbtf(&[&"--btf", &cut, &"-b", &corpus.vmlinux(), &ko]);
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.BTF.1") && err.contains("truncated"),
        "{err}"
    );
    assert!(!suffixed(&ko, ".BTF").exists() && !suffixed(&ko, ".BTF_ids").exists());
}
