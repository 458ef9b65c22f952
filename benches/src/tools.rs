//! The two sides' tools (kbtf, Debian's pahole, the kernel's resolve_btfids)
//! and the facts about the machine and the tool versions that a report states.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};

/// resolve_btfids as Debian's linux-kbuild-6.12.117+deb12 installs it.
pub const DEBIAN_RESOLVE_BTFIDS: &str =
    "/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids";

/// The Debian packages whose versions the report names.
const PACKAGES: [&str; 3] = ["dwarves", "linux-kbuild-6.12.117+deb12", "binutils"];

/// The programs each side runs.
#[derive(Debug)]
pub struct Tools {
    pub pahole: PathBuf,
    pub resolve_btfids: PathBuf,
    pub kbtf: PathBuf,
    /// Why `kbtf gen` cannot run, when it cannot (an older kbtf without it).
    pub kbtf_gen_missing: Option<String>,
}

impl Tools {
    /// Checks that every tool runs and whether kbtf has `gen`.
    pub fn new(pahole: PathBuf, resolve_btfids: PathBuf, kbtf: PathBuf) -> Result<Tools> {
        let (pahole, resolve_btfids, kbtf) =
            (locate(pahole)?, locate(resolve_btfids)?, locate(kbtf)?);
        let gen = Command::new(&kbtf).args(["gen", "--help"]).output();
        let kbtf_gen_missing = match gen {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(format!(
                "`{} gen` is not available: {}",
                kbtf.display(),
                first_line(&String::from_utf8_lossy(&out.stderr))
            )),
            Err(e) => Some(format!("running {}: {e}", kbtf.display())),
        };
        Ok(Tools {
            pahole,
            resolve_btfids,
            kbtf,
            kbtf_gen_missing,
        })
    }

    /// Tool versions and machine facts, in the order the report prints them.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "pahole".into(),
                format!(
                    "{} ({})",
                    output(&self.pahole, &["--version"]),
                    self.pahole.display()
                ),
            ),
            (
                "resolve_btfids".into(),
                self.resolve_btfids.display().to_string(),
            ),
            (
                "kbtf".into(),
                format!(
                    "{} ({})",
                    output(&self.kbtf, &["--version"]),
                    self.kbtf.display()
                ),
            ),
        ];
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let describe = ["-C", root, "describe", "--always", "--dirty"];
        env.push((
            "workspace commit".into(),
            output(Path::new("git"), &describe),
        ));
        for package in PACKAGES {
            let version = output(
                Path::new("dpkg-query"),
                &["-W", "-f", "${Version}", package],
            );
            env.push((format!("deb {package}"), version));
        }
        env.push(("kernel".into(), output(Path::new("uname"), &["-r"])));
        env.push(("cpu".into(), cpu_model()));
        let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
        env.push(("nproc".into(), nproc.to_string()));
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        env.push((
            "loadavg at start".into(),
            load.split(' ').take(3).collect::<Vec<_>>().join(" "),
        ));
        env
    }
}

/// Finds kbtf: `explicit` if given; else, after `cargo build --release -p kbtf-cli`
/// unless `build` is false, `target/release/kbtf` of this workspace
/// (`$CARGO_TARGET_DIR/release/kbtf` when that is set).
pub fn find_kbtf(explicit: Option<PathBuf>, build: bool) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    if build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        eprintln!("building kbtf: cargo build --release -p kbtf-cli");
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", "kbtf-cli"])
            .current_dir(root)
            .status()
            .context("running cargo build")?;
        if !status.success() {
            bail!("cargo build --release -p kbtf-cli failed");
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let kbtf = target.join("release/kbtf");
    if !kbtf.exists() {
        bail!("{} not found (build it, or pass --kbtf)", kbtf.display());
    }
    Ok(kbtf)
}

/// The first line of `program args`'s stdout, or what went wrong.
fn output(program: &Path, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => first_line(&String::from_utf8_lossy(&out.stdout)),
        Ok(out) => format!(
            "unknown ({})",
            first_line(&String::from_utf8_lossy(&out.stderr))
        ),
        Err(e) => format!("unknown ({e})"),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".into(), |(_, m)| m.trim().to_string())
}

/// `tool` itself if it is a path, else where `$PATH` has it.
fn locate(tool: PathBuf) -> Result<PathBuf> {
    let found = if tool.components().count() > 1 {
        Some(tool.clone()).filter(|t| t.exists())
    } else {
        which(&tool)
    };
    found.ok_or_else(|| anyhow!("{} not found", tool.display()))
}

fn which(program: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
