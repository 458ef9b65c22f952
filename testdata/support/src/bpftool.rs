//! bpftool (Debian's 7.1, libbpf 1.1) as the oracle of the dump tests.
//!
//! Tests that need it skip with a message when it is absent, except under CI
//! (`CI` set), where that fails.

use std::path::{Path, PathBuf};
use std::process::Command;

/// An installed bpftool.
pub struct Bpftool {
    /// Its path.
    pub path: PathBuf,
}

impl Bpftool {
    /// bpftool from PATH or the sbin directories (which a test's PATH may lack).
    pub fn find() -> Option<Bpftool> {
        let path_dirs = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default();
        let sbin = ["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from);
        let found = path_dirs
            .into_iter()
            .chain(sbin)
            .map(|d| d.join("bpftool"))
            .find(|p| p.is_file());
        if let Some(path) = found {
            return Some(Bpftool { path });
        }
        let msg = "bpftool not found (Debian package bpftool)";
        crate::skip_unless_ci(msg);
        None
    }

    /// `bpftool [-B base] [-j] btf dump file FILE`: its stdout, or its stderr as the error.
    pub fn dump(&self, base: Option<&Path>, file: &Path, json: bool) -> Result<Vec<u8>, String> {
        let mut cmd = Command::new(&self.path);
        if let Some(base) = base {
            cmd.arg("-B").arg(base);
        }
        if json {
            cmd.arg("-j");
        }
        cmd.args(["btf", "dump", "file"]).arg(file);
        self.run(cmd, file)
    }

    /// `bpftool [-B base] btf dump file FILE format c`: the C header on its
    /// stdout, or its stderr as the error.
    pub fn dump_c(&self, base: Option<&Path>, file: &Path) -> Result<Vec<u8>, String> {
        let mut cmd = Command::new(&self.path);
        if let Some(base) = base {
            cmd.arg("-B").arg(base);
        }
        cmd.args(["btf", "dump", "file"])
            .arg(file)
            .args(["format", "c"]);
        self.run(cmd, file)
    }

    fn run(&self, mut cmd: Command, file: &Path) -> Result<Vec<u8>, String> {
        let out = cmd
            .output()
            .map_err(|e| format!("running {}: {e}", self.path.display()))?;
        if !out.status.success() {
            return Err(format!(
                "bpftool on {} failed ({}): {}",
                file.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out.stdout)
    }
}

/// Parses bpftool's JSON, undoing its one misreading: an unsigned ENUM value
/// of 2^31 or more comes out sign-extended to 64 bits (bpftool passes the
/// record's `__s32` to its `u64` writer), where kbtf writes the 32-bit value
/// both tools' text dumps show.
pub fn bpftool_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let mut v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("bpftool's JSON: {e}"))?;
    let types = v
        .get_mut("types")
        .and_then(|t| t.as_array_mut())
        .ok_or("bpftool's JSON has no types array")?;
    for t in types {
        if t["kind"] != "ENUM" || t["encoding"] != "UNSIGNED" {
            continue;
        }
        let Some(values) = t.get_mut("values").and_then(|v| v.as_array_mut()) else {
            continue;
        };
        for value in values {
            if let Some(n) = value["val"].as_u64() {
                value["val"] = (n & 0xffff_ffff).into();
            }
        }
    }
    Ok(v)
}

/// Where kbtf's text output `got` first differs from bpftool's `want`:
/// the line number and both lines, for a failure message.
pub fn first_difference(got: &[u8], want: &[u8]) -> String {
    let mut got_lines = got.split(|&b| b == b'\n');
    let mut want_lines = want.split(|&b| b == b'\n');
    let mut line = 1;
    loop {
        match (got_lines.next(), want_lines.next()) {
            (Some(g), Some(w)) if g == w => line += 1,
            (None, None) => return "nowhere (equal)".into(),
            (g, w) => {
                let show = |l: Option<&[u8]>| {
                    l.map_or("<end>".into(), |l| String::from_utf8_lossy(l).into_owned())
                };
                return format!(
                    "at line {line}:\n kbtf:    {}\n bpftool: {}",
                    show(g),
                    show(w)
                );
            }
        }
    }
}
