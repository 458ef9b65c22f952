//! A mapped input truncated while it is read: the SIGBUS handler of
//! `kbtf_btf::signals` names the file and exits 1, where the default action
//! kills the process with no message (issue 11, defect 7).
//!
//! The test runs itself again as the child that maps, truncates and reads.

use std::path::Path;
use std::process::Command;

const CHILD: &str = "KBTF_TRUNCATED_MAP_CHILD";

/// In the child: map the file, shrink it, touch its last page.
fn child(path: &Path) -> ! {
    kbtf_btf::signals::install();
    let bytes = kbtf_btf::input::FileBytes::open(path).expect("open");
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(0))
        .expect("truncate");
    let last = std::hint::black_box(bytes[bytes.len() - 1]);
    // Not reached: the read above faults.
    println!("read {last} past the end");
    std::process::exit(0)
}

#[test]
fn shrinking_a_mapped_input_is_reported_not_a_crash() {
    if let Some(path) = std::env::var_os(CHILD) {
        child(Path::new(&path));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vmlinux-being-rebuilt");
    std::fs::write(&file, vec![0x5a; 3 * 4096]).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "shrinking_a_mapped_input_is_reported_not_a_crash",
        ])
        .arg("--nocapture")
        .env(CHILD, &file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains(&format!(
            "kbtf: {}: the file was truncated or became unreadable",
            file.display()
        )),
        "{stderr}"
    );
}
