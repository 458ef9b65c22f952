//! `kbtf gen`'s failures: each names the file and the step, a batch
//! reports every failing file, and flags from the environment are checked
//! like the command line.

use std::path::Path;
use std::process::Output;

use kbtf_btf::Btf;

fn kbtf(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"));
    cmd.current_dir(dir).arg("gen").args(args);
    cmd.env_remove("PAHOLE_FLAGS")
        .env_remove("MODULE_PAHOLE_FLAGS")
        .env_remove("RESOLVE_BTFIDS_FLAGS")
        .env_remove("MAKEFLAGS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn failed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.btf"), Btf::new().to_bytes()).unwrap();
    std::fs::write(dir.path().join("junk.ko"), b"not an ELF file").unwrap();
    dir
}

#[test]
fn errors_name_the_file_and_the_step() {
    let dir = setup();
    let d = dir.path();
    let err = failed(&kbtf(d, &["--btf_base", "base.btf", "junk.ko"], &[]));
    assert!(
        err.contains("junk.ko: encoding BTF:"),
        "no file or step: {err}"
    );
    assert_eq!(
        std::fs::read(d.join("junk.ko")).unwrap(),
        b"not an ELF file"
    );

    let err = failed(&kbtf(d, &["--btf_base", "base.btf", "gone.ko"], &[]));
    assert!(err.contains("gone.ko"), "{err}");
    let err = failed(&kbtf(d, &["--btf_base", "nobase", "junk.ko"], &[]));
    assert!(err.contains("nobase"), "{err}");
    let err = failed(&kbtf(d, &["junk.ko"], &[]));
    assert!(err.contains("junk.ko: encoding BTF:"), "{err}");
}

#[test]
fn a_batch_reports_every_failing_file() {
    let dir = setup();
    let d = dir.path();
    let out = kbtf(
        d,
        &["--btf_base", "base.btf", "-j", "2", "junk.ko", "gone.ko"],
        &[],
    );
    let err = failed(&out);
    assert!(err.contains("junk.ko: encoding BTF:"), "{err}");
    assert!(err.contains("gone.ko"), "{err}");
    assert!(err.contains("gen failed for 2 of 2 files"), "{err}");
}

#[test]
fn usage_and_environment_flags_are_checked() {
    let dir = setup();
    let d = dir.path();
    let err = failed(&kbtf(d, &["a", "b"], &[]));
    assert!(err.contains("one vmlinux"), "{err}");
    let args = ["--btf_base", "base.btf", "junk.ko"];
    let err = failed(&kbtf(d, &args, &[("PAHOLE_FLAGS", "--btf_gen_optimized")]));
    assert!(
        err.contains("PAHOLE_FLAGS") && err.contains("btf_gen_optimized"),
        "{err}"
    );
    let err = failed(&kbtf(
        d,
        &args,
        &[("RESOLVE_BTFIDS_FLAGS", "--distill_base")],
    ));
    assert!(err.contains("--distill_base"), "{err}");
    let err = failed(&kbtf(d, &args, &[("RESOLVE_BTFIDS_FLAGS", "--bogus")]));
    assert!(err.contains("RESOLVE_BTFIDS_FLAGS"), "{err}");
    // kbuild's own flags are accepted: the run gets as far as the file.
    let kbuild = [
        ("PAHOLE_FLAGS", "--btf_gen_floats -j --lang_exclude=rust"),
        ("RESOLVE_BTFIDS_FLAGS", "--fatal_warnings --verbose"),
    ];
    let err = failed(&kbtf(d, &args, &kbuild));
    assert!(err.contains("junk.ko: encoding BTF:"), "{err}");
}
