//! `kbtf check` end to end: the exit status and what it prints.

use kbtf_btf::{Btf, Info, Kind, StrOff};

fn blob(bad_member_offset: bool) -> Vec<u8> {
    let mut b = Btf::new();
    let int = b.add_str(b"int").unwrap();
    b.add_type(int, Info::new(Kind::Int, false, 0), 4, &[32])
        .unwrap();
    let (s, m) = (b.add_str(b"s").unwrap(), b.add_str(b"m").unwrap());
    // A 4-byte int at byte 1 of a 4-byte struct overhangs it.
    let offset = if bad_member_offset { 8 } else { 0 };
    b.add_type(s, Info::new(Kind::Struct, false, 1), 4, &[m.0, 1, offset])
        .unwrap();
    b.add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), 2, &[])
        .unwrap();
    b.to_bytes()
}

fn kbtf_check(blob: &[u8], name: &str) -> (bool, String) {
    kbtf_check_with(blob, name, &[])
}

fn kbtf_check_with(blob: &[u8], name: &str, args: &[&str]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("kbtf-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, blob).unwrap();
    let out = kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"))
        .arg("check")
        .arg(&path)
        .args(args)
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    (
        out.status.success(),
        // stdout, then stderr (where an error such as "cannot ask the kernel" goes).
        String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned(),
    )
}

#[test]
fn clean_btf_passes() {
    let (ok, out) = kbtf_check(&blob(false), "good.btf");
    assert!(ok, "{out}");
    assert!(out.contains("no findings"), "{out}");
}

#[test]
fn a_finding_fails_and_is_printed() {
    let (ok, out) = kbtf_check(&blob(true), "bad.btf");
    assert!(!ok, "{out}");
    assert!(
        out.contains("[2] Member exceeds struct_size (btf_int_check_member)"),
        "{out}"
    );
}

/// With `--kernel`, the kernel judges the blob's own bytes: a big-endian
/// BTF is refused by a little-endian kernel as it is by the checker, though
/// kbtf can read it (it used to be rewritten in native order first).
#[test]
fn the_kernel_judges_the_bytes_the_checker_did() {
    let other = if cfg!(target_endian = "little") {
        kbtf_btf::Endian::Big
    } else {
        kbtf_btf::Endian::Little
    };
    let swapped = Btf::parse(&blob(false)).unwrap().to_bytes_endian(other);
    let (ok, out) = kbtf_check_with(&swapped, "swapped.btf", &["--kernel"]);
    assert!(!ok, "{out}");
    if out.contains("cannot ask the kernel") {
        kbtf_testsupport::skip(format!("the kernel half: {out}"));
        return;
    }
    assert!(out.contains("kernel: the kernel refused the BTF"), "{out}");
}
