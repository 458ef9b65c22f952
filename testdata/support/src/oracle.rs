//! The C oracles of `testdata/oracle/`, built with the system libbpf for
//! tests (included with `#[path]`, like `corpus.rs`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Builds `testdata/oracle/<src>` into the test target directory, once per
/// `cell`; `None` (with a message) when gcc or libbpf-dev is missing, except
/// under CI (`CI` set), where that fails.
pub fn build(
    cell: &'static OnceLock<Option<PathBuf>>,
    src: &str,
    out: &str,
    shared: bool,
) -> Option<&'static Path> {
    cell.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/oracle")
            .join(src);
        let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join(out);
        let mut cc = Command::new("cc");
        cc.arg("-O2");
        if shared {
            cc.args(["-shared", "-fPIC"]);
        }
        let status = cc
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .args(["-ldl", "-lbpf"])
            .status();
        match status {
            Ok(s) if s.success() => Some(exe),
            other => {
                let msg = format!(
                    "cannot build {} ({other:?}): install gcc and libbpf-dev",
                    src.display()
                );
                if std::env::var_os("CI").is_some() {
                    panic!("{msg}");
                }
                eprintln!("skipping: {msg}");
                None
            }
        }
    })
    .as_deref()
}

/// `btf_dedup`: libbpf's `btf__dedup`.
pub fn btf_dedup() -> Option<&'static Path> {
    static CELL: OnceLock<Option<PathBuf>> = OnceLock::new();
    build(&CELL, "btf_dedup.c", "btf_dedup", false)
}

/// `btf_add`: libbpf's `btf__add_btf`.
pub fn btf_add() -> Option<&'static Path> {
    static CELL: OnceLock<Option<PathBuf>> = OnceLock::new();
    build(&CELL, "btf_add.c", "btf_add", false)
}

/// The LD_PRELOAD shim that captures pahole's dedup input.
pub fn pahole_dedup_input() -> Option<&'static Path> {
    static CELL: OnceLock<Option<PathBuf>> = OnceLock::new();
    build(&CELL, "pahole_dedup_input.c", "pahole_dedup_input.so", true)
}
