//! The C oracles of `testdata/oracle/`, built with the system libbpf for
//! tests, once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Builds `testdata/oracle/<src>` once per `cell`, into `kbtf-oracles/`
/// beside the test binary's `deps/` directory (the build profile's
/// directory). `None`, reported as a skip, when gcc or libbpf-dev is
/// missing; under CI (`CI` set) that fails instead. Every caller that gets
/// `None` reports its own skip.
fn build(
    cell: &'static OnceLock<Result<PathBuf, String>>,
    src: &str,
    out: &str,
    shared: bool,
) -> Option<&'static Path> {
    let built = cell.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../oracle")
            .join(src);
        let dir = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("kbtf-oracles")))
            .unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let exe = dir.join(out);
        // Test binaries run at once: each builds its own file, then renames.
        let tmp = dir.join(format!("{out}.{}.tmp", std::process::id()));
        let mut cc = Command::new("cc");
        cc.arg("-O2");
        if shared {
            cc.args(["-shared", "-fPIC"]);
        }
        let status = cc
            .arg("-o")
            .arg(&tmp)
            .arg(&src)
            .args(["-ldl", "-lbpf"])
            .status();
        match status {
            Ok(s) if s.success() => std::fs::rename(&tmp, &exe)
                .map(|()| exe)
                .map_err(|e| format!("{}: {e}", tmp.display())),
            other => Err(format!(
                "cannot build {} ({other:?}): install gcc and libbpf-dev",
                src.display()
            )),
        }
    });
    match built {
        Ok(exe) => Some(exe),
        Err(msg) => {
            crate::skip_unless_ci(msg);
            None
        }
    }
}

/// `btf_dedup`: libbpf's `btf__dedup`.
pub fn btf_dedup() -> Option<&'static Path> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    build(&CELL, "btf_dedup.c", "btf_dedup", false)
}

/// `btf_add`: libbpf's `btf__add_btf`.
pub fn btf_add() -> Option<&'static Path> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    build(&CELL, "btf_add.c", "btf_add", false)
}

/// The LD_PRELOAD shim that captures pahole's dedup input.
pub fn pahole_dedup_input() -> Option<&'static Path> {
    static CELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    build(&CELL, "pahole_dedup_input.c", "pahole_dedup_input.so", true)
}
