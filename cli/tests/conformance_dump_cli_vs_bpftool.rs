//! `kbtf dump` as a command: its output equals bpftool's, its errors name the
//! file and exit 1, and a reader that goes away early is no error.

use kbtf_testsupport::bpftool;
use kbtf_testsupport::chroot::{Chroot, Suite};
use kbtf_testsupport::corpus;

use std::io::Read;
use std::path::Path;
use std::process::{Output, Stdio};

use bpftool::{bpftool_json, Bpftool};
use kbtf_btf::{Btf, Info, Kind};

fn kbtf(args: &[&std::ffi::OsStr]) -> Output {
    kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"))
        .args(args)
        .output()
        .expect("running kbtf")
}

/// Runs `kbtf dump ARGS`, expecting success.
fn kbtf_dump(args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let mut all = vec!["dump".as_ref()];
    all.extend_from_slice(args);
    let out = kbtf(&all);
    assert!(
        out.status.success(),
        "kbtf dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn module_over_base_matches_bpftool() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let module = corpus.module("nf_conntrack.ko");
    let (v, m) = (vmlinux.as_os_str(), module.as_os_str());
    let want = bpftool.dump(Some(&vmlinux), &module, false).unwrap();
    assert!(kbtf_dump(&["--base".as_ref(), v, m]) == want);
    assert!(kbtf_dump(&["-B".as_ref(), v, m]) == want);
    let want = bpftool_json(&bpftool.dump(Some(&vmlinux), &module, true).unwrap()).unwrap();
    let got = kbtf_dump(&["--format".as_ref(), "json".as_ref(), "-B".as_ref(), v, m]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&got).unwrap(),
        want
    );
}

#[test]
fn vmlinux_matches_bpftool() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let want = bpftool.dump(None, &vmlinux, false).unwrap();
    assert!(kbtf_dump(&[vmlinux.as_os_str()]) == want);
}

fn assert_fails_naming(out: &Output, file: &Path, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let prefix = format!("kbtf: {}: ", file.display());
    assert!(
        stderr.starts_with(&prefix) && stderr.contains(what),
        "expected {prefix}...{what}..., got: {stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn errors_name_the_file_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.btf");
    let out = kbtf(&["dump".as_ref(), missing.as_os_str()]);
    assert_fails_naming(&out, &missing, "No such file");

    let garbage = dir.path().join("garbage.btf");
    std::fs::write(&garbage, b"this is not BTF at all, not even close").unwrap();
    let out = kbtf(&["dump".as_ref(), garbage.as_os_str()]);
    assert_fails_naming(&out, &garbage, "magic");

    let truncated = dir.path().join("truncated.btf");
    let mut btf = Btf::new();
    let name = btf.add_str(b"int").unwrap();
    btf.add_type(name, Info::new(Kind::Int, false, 0), 4, &[32])
        .unwrap();
    let blob = btf.to_bytes();
    std::fs::write(&truncated, &blob[..blob.len() - 6]).unwrap();
    let out = kbtf(&["dump".as_ref(), truncated.as_os_str()]);
    assert_fails_naming(&out, &truncated, "truncated");

    // A bad base is named as such, not the file read over it.
    let good = dir.path().join("good.btf");
    std::fs::write(&good, &blob).unwrap();
    let out = kbtf(&[
        "dump".as_ref(),
        "--base".as_ref(),
        garbage.as_os_str(),
        good.as_os_str(),
    ]);
    assert_fails_naming(&out, &garbage, "magic");
}

#[test]
fn a_closed_pipe_is_quiet() {
    // Large enough to fill any pipe buffer many times over.
    let mut btf = Btf::new();
    let name = btf
        .add_str(b"a_reasonably_long_type_name_for_volume")
        .unwrap();
    for _ in 0..200_000 {
        btf.add_type(name, Info::new(Kind::Int, false, 0), 4, &[32])
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.btf");
    std::fs::write(&file, btf.to_bytes()).unwrap();

    let mut child = kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"))
        .arg("dump")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kbtf");
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // The read end is closed here, as `head` does.
    let out = child.wait_with_output().unwrap();
    assert!(head.starts_with(b"[1] INT 'a_reasonably_long_type_name_for_volume' size=4"));
    assert!(out.status.success(), "status {}", out.status);
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn c_header_of_a_module_matches_bpftool() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let module = corpus.module("nf_conntrack.ko");
    let want = bpftool.dump_c(Some(&vmlinux), &module).unwrap();
    let got = kbtf_dump(&[
        "--format".as_ref(),
        "c".as_ref(),
        "-B".as_ref(),
        vmlinux.as_os_str(),
        module.as_os_str(),
    ]);
    assert!(got == want, "kbtf's C header of nf_conntrack.ko differs");
}

#[test]
fn c_roots_dump_only_what_they_need() {
    let mut btf = Btf::new();
    let int = btf.add_str(b"int").unwrap();
    btf.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
        .unwrap();
    let (a, b) = (btf.add_str(b"a").unwrap(), btf.add_str(b"b").unwrap());
    let s = btf.add_str(b"wanted").unwrap();
    btf.add_type(s, Info::new(Kind::Struct, false, 1), 4, &[a.0, 1, 0])
        .unwrap();
    let s = btf.add_str(b"other").unwrap();
    btf.add_type(s, Info::new(Kind::Struct, false, 1), 4, &[b.0, 1, 0])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.btf");
    std::fs::write(&file, btf.to_bytes()).unwrap();
    let f = file.as_os_str();
    let got = kbtf_dump(&[
        "--format".as_ref(),
        "c".as_ref(),
        "--root".as_ref(),
        "2".as_ref(),
        f,
    ]);
    let got = String::from_utf8(got).unwrap();
    assert!(got.contains("struct wanted {\n\tint a;\n};\n\n"), "{got}");
    assert!(!got.contains("other"), "{got}");
    assert!(got.ends_with("#endif /* __VMLINUX_H__ */\n"), "{got}");

    // --root is for C output only; a root past the end is an error naming the file.
    let out = kbtf(&["dump".as_ref(), "--root".as_ref(), "2".as_ref(), f]);
    assert!(!out.status.success());
    let out = kbtf(&[
        "dump".as_ref(),
        "--format".as_ref(),
        "c".as_ref(),
        "--root".as_ref(),
        "9".as_ref(),
        f,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.starts_with(&format!("kbtf: {}: ", file.display())),
        "{stderr}"
    );
}

/// `--bpftool 7.8` (sorted by default, `--sorted`, `--unsorted`, `--root`)
/// against sid's bpftool 7.8 itself, in sid's chroot, on a sid module over
/// the sid vmlinux.
#[test]
fn c_header78_of_a_sid_module_matches_bpftool78() {
    let Some(sid) = corpus::Corpus::sid() else {
        return;
    };
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let Some(bpftool) = chroot.bpftool("v7.8.") else {
        return;
    };
    let vmlinux = sid.vmlinux();
    let module = sid.module("nf_conntrack.ko");
    let (base, file) = (
        chroot.stage(&vmlinux, "vmlinux"),
        chroot.stage(&module, "nf_conntrack.ko"),
    );
    let c78 = ["--format", "c", "--bpftool", "7.8", "-B"].map(std::ffi::OsStr::new);
    let (v, m) = (vmlinux.as_os_str(), module.as_os_str());
    let run = |extra: &[&str]| {
        let mut args = c78.to_vec();
        args.push(v);
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        args.push(m);
        kbtf_dump(&args)
    };
    let sorted = bpftool.dump_c(Some(&base), &file, &[]).unwrap();
    assert!(run(&[]) == sorted, "--bpftool 7.8 differs from format c");
    assert!(
        run(&["--sorted"]) == sorted,
        "--sorted differs from format c"
    );
    let unsorted = bpftool.dump_c(Some(&base), &file, &["unsorted"]).unwrap();
    assert!(sorted != unsorted);
    assert!(
        run(&["--unsorted"]) == unsorted,
        "--unsorted differs from format c unsorted"
    );
    // A root: no sorting, no kfunc block, 7.8's macros all the same.
    let nf_conn = Btf::from_file_split(
        &module,
        Some(std::sync::Arc::new(Btf::from_file(&vmlinux).unwrap())),
    )
    .unwrap()
    .find_by_name_kind(b"nf_conn", Kind::Struct)
    .unwrap()
    .0
    .to_string();
    let rooted = bpftool
        .dump_c(Some(&base), &file, &["root_id", &nf_conn])
        .unwrap();
    assert!(
        run(&["--root", &nf_conn]) == rooted,
        "--root differs from root_id"
    );
    println!(
        "nf_conntrack.ko: kbtf dump --format c --bpftool 7.8 [--sorted|--unsorted|--root {nf_conn}] equals {}'s ({} lines sorted)",
        bpftool.version,
        sorted.iter().filter(|&&b| b == b'\n').count()
    );
}

#[test]
fn bpftool_and_order_flags_need_their_context() {
    let mut btf = Btf::new();
    let int = btf.add_str(b"int").unwrap();
    btf.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("int.btf");
    std::fs::write(&file, btf.to_bytes()).unwrap();
    let f = file.as_os_str();
    for args in [
        &["--bpftool", "7.8"][..],
        &["--unsorted"],
        &["--format", "c", "--unsorted"],
        &["--format", "c", "--sorted"],
        &[
            "--format",
            "c",
            "--bpftool",
            "7.8",
            "--sorted",
            "--unsorted",
        ],
        &["--format", "c", "--bpftool", "7.5"],
    ] {
        let mut all = vec!["dump".as_ref()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        all.push(f);
        let out = kbtf(&all);
        assert!(!out.status.success(), "kbtf dump {args:?} succeeded");
        assert!(out.stdout.is_empty(), "kbtf dump {args:?} wrote output");
    }
    let args = ["--format", "c", "--bpftool", "7.8", "--unsorted"].map(std::ffi::OsStr::new);
    let header = kbtf_dump(&[&args[..], &[f]].concat());
    let header = String::from_utf8(header).unwrap();
    assert!(header.contains("#define __ksym "), "{header}");
    assert!(
        header.contains("/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n#endif\n"),
        "{header}"
    );
}
