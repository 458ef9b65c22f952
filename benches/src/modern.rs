//! The modern toolchains: Debian trixie's pahole 1.30 (6.12) and Debian sid's
//! pahole 1.32 with gen-btf.sh and resolve_btfids 7.2 (7.2), each run in its
//! own chroot (`testdata/chroot-trixie.sh`, `testdata/chroot-sid.sh`) on its
//! own corpus (`testdata/fetch-trixie.sh`, `testdata/fetch-sid.sh`, and
//! `testdata/ref-sid.sh` for the as-linked sid inputs).
//!
//! The chroot'ed tools see the host's files through bind mounts under
//! `CHROOT/mnt/kbtf-compare-PID/`, made for one scenario and always unmounted
//! when it ends ([`Mounts`]'s `Drop`).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use kbtf_testsupport::corpus::Corpus;

pub use kbtf_testsupport::chroot::Suite;

/// pahole's arguments as `suite`'s kbuild passes them, `-J` included and
/// `-j` as `-j{jobs}` (see ../shared/reference/modern-kernels.md).
pub fn pahole_args(suite: Suite, jobs: usize) -> Vec<String> {
    let head = ["-J".to_string(), format!("-j{jobs}")];
    head.into_iter()
        .chain(suite.pahole_flags().iter().map(|f| f.to_string()))
        .collect()
}

/// A finished chroot of a suite (its `.complete` marker and pahole are there).
fn chroot_dir(suite: Suite) -> Result<PathBuf, String> {
    let dir = suite
        .chroot_dir()
        .ok_or("no HOME or XDG_CACHE_HOME to find the chroot in")?;
    if !dir.join(".complete").exists() || !dir.join("usr/bin/pahole").exists() {
        return Err(format!(
            "the {} chroot is not at {} (run testdata/chroot-{}.sh as root)",
            suite.name(),
            dir.display(),
            suite.name()
        ));
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("chroot and bind mounts need root".into());
    }
    fs::canonicalize(&dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// The trixie inputs: the 6.12.117+deb13 vmlinux and the chroot with pahole 1.30.
#[derive(Debug)]
pub struct Trixie {
    pub chroot: PathBuf,
    /// The corpus directory (bind-mounted read-only).
    pub corpus: PathBuf,
    /// The vmlinux with its DWARF and shipped `.BTF` (canonical path).
    pub vmlinux: PathBuf,
}

/// One sid module.
#[derive(Debug)]
pub struct SidModule {
    /// Its path in `modules.list` (`modules/kernel/...`).
    pub rel: PathBuf,
    /// What the build's pahole read: the corpus module, or for the few with
    /// `.BTF_ids` the as-linked copy `testdata/ref-sid.sh` made.
    pub input: PathBuf,
    /// The shipped module (its `.BTF` and `.BTF_ids` are what gen-btf.sh gave).
    pub shipped: PathBuf,
    /// pahole 1.32's `.BTF.1` of it as `testdata/ref-sid.sh` made it (empty:
    /// pahole wrote none), if there.
    pub reference: PathBuf,
}

/// The sid inputs: the 7.2.13 vmlinux, its as-linked copy, the modules, and
/// the chroot with pahole 1.32, resolve_btfids 7.2 and gen-btf.sh.
#[derive(Debug)]
pub struct Sid {
    pub chroot: PathBuf,
    pub corpus: PathBuf,
    /// testdata/ref-sid.sh's directory.
    pub references: PathBuf,
    /// The shipped vmlinux: the base of the modules (canonical path).
    pub vmlinux: PathBuf,
    /// The vmlinux with the `.BTF_ids` the linker left (`vmlinux.fresh`): the
    /// vmlinux encode input, since decl_tag_kfuncs reads `.BTF_ids`.
    pub vmlinux_fresh: PathBuf,
    /// `linux-kbuild-7.2.*` as installed in the chroot.
    pub kbuild: String,
    /// The module subset.
    pub modules: Vec<SidModule>,
}

impl Sid {
    /// resolve_btfids 7.2, inside the chroot.
    pub fn resolve_btfids(&self) -> String {
        format!(
            "/usr/lib/{}/tools/bpf/resolve_btfids/resolve_btfids",
            self.kbuild
        )
    }

    /// scripts/gen-btf.sh of 7.2, inside the chroot.
    pub fn gen_btf(&self) -> String {
        format!("/usr/lib/{}/scripts/gen-btf.sh", self.kbuild)
    }
}

/// What the modern scenarios need, or why each suite's cannot run.
#[derive(Debug)]
pub struct Modern {
    pub trixie: Result<Trixie, String>,
    pub sid: Result<Sid, String>,
}

impl Modern {
    /// Finds the corpora, references and chroots; `limit` picks that many sid
    /// modules spread evenly over the sorted list.
    pub fn find(limit: Option<usize>) -> Modern {
        Modern {
            trixie: find_trixie(),
            sid: find_sid(limit),
        }
    }

    /// The chroot'ed tools' versions, for the report's header.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if let Ok(t) = &self.trixie {
            env.push((
                "trixie chroot".into(),
                format!(
                    "{}: pahole {}, dwarves {}",
                    t.chroot.display(),
                    in_chroot(&t.chroot, &["pahole", "--version"]),
                    in_chroot(
                        &t.chroot,
                        &["dpkg-query", "-W", "-f", "${Version}", "dwarves"]
                    ),
                ),
            ));
        }
        if let Ok(s) = &self.sid {
            let versions = in_chroot(
                &s.chroot,
                &[
                    "dpkg-query",
                    "-W",
                    "-f",
                    "${Package} ${Version}, ",
                    "dwarves",
                    "binutils",
                    &s.kbuild,
                ],
            );
            env.push((
                "sid chroot".into(),
                format!(
                    "{}: pahole {}, {}",
                    s.chroot.display(),
                    in_chroot(&s.chroot, &["pahole", "--version"]),
                    versions.trim_end_matches([',', ' '])
                ),
            ));
        }
        env
    }
}

fn find_trixie() -> Result<Trixie, String> {
    let chroot = chroot_dir(Suite::Trixie)?;
    let corpus =
        Corpus::trixie().ok_or("the trixie corpus is absent (testdata/fetch-trixie.sh)")?;
    let vmlinux = canonical(&corpus.vmlinux())?;
    Ok(Trixie {
        chroot,
        corpus: canonical(&corpus.dir)?,
        vmlinux,
    })
}

fn find_sid(limit: Option<usize>) -> Result<Sid, String> {
    let chroot = chroot_dir(Suite::Sid)?;
    let corpus = Corpus::sid().ok_or("the sid corpus is absent (testdata/fetch-sid.sh)")?;
    let references = Corpus::sid_references().ok_or(
        "the sid references are absent (testdata/ref-sid.sh as root makes vmlinux.fresh and them)",
    )?;
    let vmlinux_fresh = references.join("vmlinux.fresh");
    if !vmlinux_fresh.exists() {
        return Err(format!(
            "{} is absent (testdata/ref-sid.sh)",
            vmlinux_fresh.display()
        ));
    }
    let kbuild = fs::read_to_string(chroot.join("kbuild-package"))
        .map_err(|e| format!("{}/kbuild-package: {e}", chroot.display()))?
        .trim()
        .to_string();
    let all = corpus.modules();
    let n = limit.unwrap_or(all.len()).min(all.len());
    let mut modules = Vec::with_capacity(n);
    for i in 0..n {
        let path = &all[i * all.len() / n.max(1)];
        let rel = path.strip_prefix(&corpus.dir).unwrap_or(path).to_path_buf();
        let under = rel.strip_prefix("modules").unwrap_or(&rel);
        let fresh = references.join("modules").join(under);
        let mut reference = fresh.clone().into_os_string();
        reference.push(".BTF.1");
        let shipped = canonical(path)?;
        modules.push(SidModule {
            input: if fresh.exists() {
                canonical(&fresh)?
            } else {
                shipped.clone()
            },
            shipped,
            reference: reference.into(),
            rel,
        });
    }
    Ok(Sid {
        chroot,
        vmlinux: canonical(&corpus.vmlinux())?,
        corpus: canonical(&corpus.dir)?,
        references: canonical(&references)?,
        vmlinux_fresh: canonical(&vmlinux_fresh)?,
        kbuild,
        modules,
    })
}

fn canonical(path: &Path) -> Result<PathBuf, String> {
    fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The first line of a command's output in the chroot, or what went wrong.
fn in_chroot(chroot: &Path, args: &[&str]) -> String {
    match Command::new("chroot").arg(chroot).args(args).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string(),
        Ok(out) => format!("unknown ({})", String::from_utf8_lossy(&out.stderr).trim()),
        Err(e) => format!("unknown ({e})"),
    }
}

/// Host directories bind-mounted into a chroot under
/// `/mnt/kbtf-compare-PID/NAME`, unmounted again on drop.
#[derive(Debug)]
pub struct Mounts {
    chroot: PathBuf,
    /// `/mnt/kbtf-compare-PID`, as the chroot sees it.
    base: PathBuf,
    /// (host directory, name under `base`), in mount order.
    binds: Vec<(PathBuf, String)>,
}

impl Mounts {
    pub fn new(chroot: &Path) -> Mounts {
        Mounts {
            chroot: chroot.to_path_buf(),
            base: PathBuf::from(format!("/mnt/kbtf-compare-{}", std::process::id())),
            binds: Vec::new(),
        }
    }

    /// The chroot.
    pub fn chroot(&self) -> &Path {
        &self.chroot
    }

    /// Bind-mounts the host directory `dir` at `base/name` (read-only unless `rw`).
    pub fn bind(&mut self, dir: &Path, name: &str, rw: bool) -> Result<()> {
        let dir = fs::canonicalize(dir).with_context(|| format!("{}", dir.display()))?;
        let target = self.host_side(&self.base.join(name));
        fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
        let mut mount = Command::new("mount");
        mount.arg("--bind");
        if !rw {
            mount.args(["-o", "ro"]);
        }
        let out = mount
            .arg(&dir)
            .arg(&target)
            .output()
            .context("running mount")?;
        if !out.status.success() {
            let _ = fs::remove_dir(&target);
            bail!(
                "mount --bind {} {} failed: {}",
                dir.display(),
                target.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        self.binds.push((dir, name.to_string()));
        Ok(())
    }

    /// Where the chroot sees the host path `path` (under one of the binds).
    pub fn inner(&self, path: &Path) -> Result<PathBuf> {
        for (dir, name) in self.binds.iter().rev() {
            if let Ok(rest) = path.strip_prefix(dir) {
                return Ok(self.base.join(name).join(rest));
            }
        }
        bail!("{} is not under any bind mount", path.display())
    }

    /// The same as [`Mounts::inner`], as an `--opt=PATH` argument.
    pub fn inner_opt(&self, opt: &str, path: &Path) -> Result<OsString> {
        let mut s = OsString::from(format!("{opt}="));
        s.push(self.inner(path)?);
        Ok(s)
    }

    /// `chroot CHROOT program`: chroot execs the program, so `wait4`'s rusage
    /// of this child is the program's (and its waited-for descendants').
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("chroot");
        cmd.arg(&self.chroot).arg(program);
        cmd
    }

    fn host_side(&self, inner: &Path) -> PathBuf {
        self.chroot.join(inner.strip_prefix("/").unwrap_or(inner))
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for (_, name) in self.binds.iter().rev() {
            let target = self.host_side(&self.base.join(name));
            let ok = Command::new("umount")
                .arg(&target)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                // Busy (a child still running after an error): detach it.
                let lazy = Command::new("umount").arg("-l").arg(&target).status();
                if !lazy.is_ok_and(|s| s.success()) {
                    eprintln!("warning: could not unmount {}", target.display());
                    continue;
                }
            }
            let _ = fs::remove_dir(&target); // only ever an empty mount point
        }
        let _ = fs::remove_dir(self.host_side(&self.base));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_the_suites_kbuild_flags() {
        // modern-kernels.md (trixie's Makefile.btf) and testdata/ref-sid.sh (7.2's),
        // less the second -j, which repeats the first.
        let features = "--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,\
                        optimized_func,consistent_func,decl_tag_kfuncs";
        assert_eq!(
            pahole_args(Suite::Trixie, 2).join(" "),
            format!("-J -j2 {features} --btf_features=+reproducible_build --lang_exclude=rust")
        );
        assert_eq!(
            pahole_args(Suite::Sid, 1).join(" "),
            format!(
                "-J -j1 {features} --btf_features=attributes --btf_features=layout \
                 --btf_features=+reproducible_build --lang_exclude=rust"
            )
        );
    }

    #[test]
    fn host_paths_map_into_the_chroot_under_their_bind() {
        let mut m = Mounts::new(Path::new("/nonexistent/chroot"));
        m.binds.push(("/data/corpus".into(), "corpus".into()));
        m.binds.push(("/tmp/x".into(), "work".into()));
        let base = format!("/mnt/kbtf-compare-{}", std::process::id());
        assert_eq!(
            m.inner(Path::new("/data/corpus/root/vmlinux")).unwrap(),
            Path::new(&base).join("corpus/root/vmlinux")
        );
        assert_eq!(
            m.inner_opt("--btf_encode_detached", Path::new("/tmp/x/a/b.BTF.1"))
                .unwrap(),
            OsString::from(format!("--btf_encode_detached={base}/work/a/b.BTF.1"))
        );
        assert!(m.inner(Path::new("/data/corpusx/y")).is_err());
        assert_eq!(
            m.host_side(Path::new("/mnt/a")),
            Path::new("/nonexistent/chroot/mnt/a")
        );
        m.binds.clear(); // nothing was mounted: nothing to unmount
    }
}
