//! `Btf::add_btf` against libbpf 1.1.2's `btf__add_btf` (through
//! `testdata/oracle/btf_add.c`), byte for byte, on the corpus.

use kbtf_testsupport::corpus;
use kbtf_testsupport::oracle;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;

fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("add_btf_libbpf");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Appends `srcs` to `dst` with libbpf and with kbtf; asserts the same bytes.
fn check(what: &str, dst: &Btf, srcs: &[&Btf], base: Option<&Path>) {
    let Some(oracle) = oracle::btf_add() else {
        return;
    };
    let dir = scratch();
    let mut cmd = Command::new(oracle);
    if let Some(base) = base {
        cmd.arg("-b").arg(base);
    }
    std::fs::write(dir.join("dst.btf"), dst.to_bytes()).unwrap();
    cmd.arg(dir.join("dst.btf")).arg(dir.join("out.btf"));
    for (i, src) in srcs.iter().enumerate() {
        let path = dir.join(format!("src{i}.btf"));
        std::fs::write(&path, src.to_bytes()).unwrap();
        cmd.arg(path);
    }
    assert!(cmd.status().unwrap().success(), "{what}: libbpf failed");
    let expected = std::fs::read(dir.join("out.btf")).unwrap();

    let mut ours = dst.clone();
    for src in srcs {
        ours.add_btf(src).unwrap();
    }
    assert!(ours.to_bytes() == expected, "{what}: differs from libbpf");
    println!(
        "{what}: {} types, {} string bytes, identical to libbpf",
        ours.own_ids().len(),
        ours.own_strings().len()
    );
}

#[test]
fn appending_matches_libbpf() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let bytes = FileBytes::open(&corpus.vmlinux()).unwrap();
    let blob = btf_blob(&bytes).unwrap();
    let vmlinux = Arc::new(Btf::parse(&blob).unwrap());
    let base_path = scratch().join("vmlinux.btf");
    std::fs::write(&base_path, &blob[..]).unwrap();

    check(
        "empty + vmlinux x2",
        &Btf::new(),
        &[&vmlinux, &vmlinux],
        None,
    );

    // Split destinations: a module, then vmlinux's types appended after it
    // (their strings are found in the base, their ids shift past the module's).
    let module = |name: &str| {
        let bytes = FileBytes::open(&corpus.module(name)).unwrap();
        Btf::parse_split(&btf_blob(&bytes).unwrap(), Some(vmlinux.clone())).unwrap()
    };
    let conntrack = module("nf_conntrack.ko");
    check(
        "nf_conntrack + vmlinux",
        &conntrack,
        &[&vmlinux],
        Some(&base_path),
    );
    let empty = Btf::new_split(vmlinux.clone());
    check(
        "empty split + vmlinux",
        &empty,
        &[&vmlinux],
        Some(&base_path),
    );
}
