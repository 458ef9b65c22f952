//! The `resolve_btfids` front end on Debian's nf_conntrack.ko: upstream's
//! option spellings, in place (6.12 flow) and `--btf` (gen-btf.sh flow),
//! `--patch_btfids`, invoked as `resolve_btfids`, exit codes.

use kbtf_testsupport::corpus;

use std::path::Path;
use std::process::Command;

use object::{Object, ObjectSection};

fn btf_ids(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let data = file
        .section_by_name(".BTF_ids")
        .unwrap()
        .data()
        .unwrap()
        .to_vec();
    data
}

fn kbtf(args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    let mut cmd = kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"));
    cmd.arg("resolve_btfids");
    for a in args {
        cmd.arg(a);
    }
    cmd.output().unwrap()
}

#[test]
fn in_place_btf_and_patch_modes() {
    let Some(c) = corpus::Corpus::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = c.vmlinux();
    let shipped_path = c.module("nf_conntrack.ko");
    let shipped = btf_ids(&shipped_path);
    let ko = dir.path().join("nf_conntrack.ko");
    std::fs::copy(&shipped_path, &ko).unwrap();

    // 6.12 Makefile.modfinal: resolve_btfids -b vmlinux X.ko, three times.
    let mut files = Vec::new();
    for _ in 0..3 {
        let out = kbtf(&[&"-b", &vmlinux, &ko]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        files.push(std::fs::read(&ko).unwrap());
    }
    assert_eq!(btf_ids(&ko), shipped);
    assert!(files[0] == files[1] && files[1] == files[2], "runs differ");

    // Invoked as resolve_btfids, through a symlink to the file.
    let link = dir.path().join("resolve_btfids");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kbtf"), &link).unwrap();
    let ko_link = dir.path().join("link.ko");
    std::os::unix::fs::symlink(&ko, &ko_link).unwrap();
    let st = Command::new(&link)
        .arg("--btf_base=".to_string() + vmlinux.to_str().unwrap())
        .arg(&ko_link)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        std::fs::symlink_metadata(&ko_link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced"
    );
    assert_eq!(std::fs::read(&ko).unwrap(), files[0]);

    // gen-btf.sh: pahole's detached BTF in, ELF.BTF and ELF.BTF_ids out, ELF untouched.
    let fresh = dir.path().join("fresh.ko");
    std::fs::copy(&shipped_path, &fresh).unwrap();
    let btf1 = dir.path().join("fresh.ko.BTF.1");
    let st = Command::new("objcopy")
        .arg(format!("--dump-section=.BTF={}", btf1.display()))
        .arg(&shipped_path)
        .arg(dir.path().join("junk"))
        .status()
        .unwrap();
    assert!(st.success());
    let out = kbtf(&[&"--btf", &btf1, &"-b", &vmlinux, &fresh]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&fresh).unwrap(),
        std::fs::read(&shipped_path).unwrap()
    );
    // 7.x's --btf mode sorts the BTF by name, then resolves against it.
    let base = std::sync::Arc::new(kbtf_btf::Btf::from_file(&vmlinux).unwrap());
    let own = kbtf_btf::Btf::from_file_split(&btf1, Some(base)).unwrap();
    let mut sorted = own.clone();
    kbtf_btf::permute::sort_by_name(&mut sorted).unwrap();
    let fresh_bytes = std::fs::read(&fresh).unwrap();
    let elf = kbtf_btfids::IdsElf::parse(&fresh_bytes).unwrap();
    // The file's own .BTF produced the ids already there (Debian's build).
    let expected = kbtf_btfids::resolve(&elf, &sorted, &[&own]).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("fresh.ko.BTF_ids")).unwrap(),
        expected.section
    );
    assert_eq!(
        std::fs::read(dir.path().join("fresh.ko.BTF")).unwrap(),
        sorted.to_bytes()
    );

    // Patching the blob in (with the symbol moves kbtf left beside it) gives
    // exactly what resolving in memory gave.
    let moves = dir.path().join("fresh.ko.BTF_ids.moves");
    let moves_text = std::fs::read(&moves).unwrap();
    let out = kbtf(&[
        &"--patch_btfids",
        &dir.path().join("fresh.ko.BTF_ids"),
        &fresh,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&fresh).unwrap() == expected.apply(&elf),
        "gen-btf.sh flow differs from resolving in memory"
    );
    // A module's moves go with its blob, which gen-btf.sh removes next.
    assert!(!moves.exists(), "the module's moves file was left behind");

    // --patch_btfids: same size copies, another size fails with 255.
    let blob = dir.path().join("blob");
    let mut changed = shipped.clone();
    changed[0] ^= 1;
    std::fs::write(&blob, &changed).unwrap();
    let out = kbtf(&[&"--patch_btfids", &blob, &fresh]);
    assert!(out.status.success());
    assert_eq!(btf_ids(&fresh), changed);
    // Moves made for another blob are refused.
    std::fs::write(dir.path().join("blob.moves"), &moves_text).unwrap();
    let out = kbtf(&[&"--patch_btfids", &blob, &fresh]);
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another .BTF_ids blob"));
    std::fs::remove_file(dir.path().join("blob.moves")).unwrap();
    std::fs::write(&blob, &changed[1..]).unwrap();
    let out = kbtf(&[&"--patch_btfids", &blob, &fresh]);
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sizes must match"));

    // An unresolved symbol warns; with --fatal_warnings it fails and leaves the file alone.
    let mut bytes = files[0].clone();
    let from = b"__BTF_ID__func__bpf_ct_release__";
    let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
    bytes[at + from.len() - 3] = b'X';
    let warned = dir.path().join("warned.ko");
    std::fs::write(&warned, &bytes).unwrap();
    let out = kbtf(&[&"--fatal_warnings", &"-b", &vmlinux, &warned]);
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WARN: resolve_btfids: unresolved symbol bpf_ct_releasX"),
        "{err}"
    );
    assert!(
        std::fs::read(&warned).unwrap() == bytes,
        "--fatal_warnings wrote the file"
    );
    let out = kbtf(&[&"-b", &vmlinux, &warned]);
    assert!(out.status.success());

    // kbtf ids: on kbtf's output each function is at its own id (no "!") with
    // its flags; on Debian's file the symbols are stale.
    let ids = |f: &Path| {
        let out = kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"))
            .arg("ids")
            .arg(f)
            .arg("--base")
            .arg(&vmlinux)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let listing = ids(&ko);
    let line = listing
        .lines()
        .find(|l| l.contains(" bpf_ct_change_status "))
        .unwrap();
    assert!(
        line.contains("nf_ct_kfunc_set") && line.ends_with("KF_TRUSTED_ARGS"),
        "{line}"
    );
    assert!(!listing.contains('!'), "{listing}");
    assert!(ids(&shipped_path).contains('!'));

    // Usage: two arguments, 129.
    assert_eq!(kbtf(&[&ko, &"-v"]).status.code(), Some(129));
}
