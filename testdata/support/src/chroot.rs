//! The newer Debian suites' own tools, run in the chroots that
//! `testdata/chroot-debian.sh` builds: trixie's pahole 1.30 and sid's
//! pahole 1.32 (with resolve_btfids 7.2) and bpftool 7.8, the oracles of
//! kbtf's emulation of those versions. Files are exchanged through a directory inside the
//! chroot, so both sides read the same bytes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A Debian suite whose pahole kbtf emulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// Debian trixie: linux 6.12, pahole 1.30 (libbpf 1.5.0).
    Trixie,
    /// Debian sid: linux 7.2, pahole 1.32 (libbpf 1.7.0), resolve_btfids 7.2.
    Sid,
}

impl Suite {
    /// The suite's name, as in the scripts and cache directories.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Trixie => "trixie",
            Suite::Sid => "sid",
        }
    }

    /// The pahole version the suite ships, as `KBTF_PAHOLE_VERSION` spells it.
    pub fn pahole_version(self) -> &'static str {
        match self {
            Suite::Trixie => "1.30",
            Suite::Sid => "1.32",
        }
    }

    /// What that suite's kbuild passes to pahole after `-J` (Makefile.btf
    /// with a reproducible build), without `-j`.
    pub fn pahole_flags(self) -> &'static [&'static str] {
        const COMMON: &str = "--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs";
        match self {
            Suite::Trixie => &[
                COMMON,
                "--btf_features=+reproducible_build",
                "--lang_exclude=rust",
            ],
            Suite::Sid => &[
                COMMON,
                "--btf_features=attributes",
                "--btf_features=layout",
                "--btf_features=+reproducible_build",
                "--lang_exclude=rust",
            ],
        }
    }

    /// Where `testdata/chroot-debian.sh` builds its chroot:
    /// `$KBTF_TRIXIE_CHROOT` / `$KBTF_SID_CHROOT`, else `kbtf/chroot-NAME`
    /// in the user's cache directory.
    pub fn chroot_dir(self) -> Option<PathBuf> {
        let var = match self {
            Suite::Trixie => "KBTF_TRIXIE_CHROOT",
            Suite::Sid => "KBTF_SID_CHROOT",
        };
        crate::corpus::cache_dir(var, &format!("chroot-{}", self.name()))
    }

    /// `PAHOLE_FLAGS` as that suite's kbuild sets it: [`Suite::pahole_flags`]
    /// after `-j`.
    pub fn pahole_flags_var(self) -> String {
        format!("-j {}", self.pahole_flags().join(" "))
    }
}

/// A usable chroot and a scratch directory inside it (removed on drop).
pub struct Chroot {
    /// The suite it holds.
    pub suite: Suite,
    /// Its root directory.
    pub root: PathBuf,
    scratch: tempfile::TempDir,
}

impl Chroot {
    /// The suite's chroot, or `None` (reported as a skip; under CI, whose
    /// setup builds it, a failure) when it is not built or cannot be
    /// entered (chroot needs root).
    pub fn find(suite: Suite) -> Option<Chroot> {
        let root = suite.chroot_dir()?;
        if !root.join(".complete").exists() {
            crate::skip_unless_ci(format!(
                "no {} chroot at {} (run testdata/chroot-{}.sh as root)",
                suite.name(),
                root.display(),
                suite.name()
            ));
            return None;
        }
        let entered = Command::new("chroot")
            .arg(&root)
            .args(["pahole", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !entered {
            crate::skip_unless_ci(format!(
                "cannot run pahole in the {} chroot (chroot needs root)",
                suite.name()
            ));
            return None;
        }
        let scratch = tempfile::tempdir_in(root.join("tmp")).ok()?;
        Some(Chroot {
            suite,
            root,
            scratch,
        })
    }

    /// A path in the scratch directory, as seen from outside.
    pub fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// The same file as the chroot sees it.
    ///
    /// # Panics
    /// If `path` is not inside the chroot.
    pub fn inside(&self, path: &Path) -> PathBuf {
        let rel = path
            .strip_prefix(&self.root)
            .unwrap_or_else(|_| panic!("{} is not inside {}", path.display(), self.root.display()));
        Path::new("/").join(rel)
    }

    /// A command run inside the chroot.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("chroot");
        cmd.arg(&self.root).arg(program);
        cmd
    }

    /// The suite's pahole on `obj` (a file in the scratch directory) with
    /// its kbuild flags and `extra` (paths as the chroot sees them), the
    /// BTF written detached; its bytes.
    ///
    /// # Panics
    /// If pahole fails.
    pub fn pahole(&self, extra: &[String], obj: &Path) -> Vec<u8> {
        let name = obj.file_name().unwrap_or_default().to_string_lossy();
        let out = self.path(&format!("{name}.pahole.btf"));
        let _ = std::fs::remove_file(&out);
        let status = self
            .command("pahole")
            .arg("-J")
            .args(self.suite.pahole_flags())
            .args(extra)
            .arg(format!(
                "--btf_encode_detached={}",
                self.inside(&out).display()
            ))
            .arg(self.inside(obj))
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "pahole {} {extra:?} {} failed",
            self.suite.pahole_version(),
            obj.display()
        );
        std::fs::read(&out).expect("pahole's output")
    }
}

/// Real kbuild in a chroot: out-of-tree modules built against the suite's
/// cloud-amd64 kernel headers (and the BTF-only vmlinux they ship), with a
/// copy of kbtf and its `pahole` / `resolve_btfids` symlinks inside.
pub struct Kbuild<'a> {
    /// The chroot.
    pub chroot: &'a Chroot,
    /// The headers' directory, as the chroot sees it.
    pub kdir: PathBuf,
    /// kbtf and its symlinks, as seen from outside.
    bin: PathBuf,
}

impl Chroot {
    /// The suite's kbuild with `kbtf` (a test's `env!("CARGO_BIN_EXE_kbtf")`)
    /// installed, or `None` (a skip; under CI a failure) when the chroot has
    /// no cloud-amd64 headers.
    pub fn kbuild(&self, kbtf: &str) -> Option<Kbuild<'_>> {
        let src = self.root.join("usr/src");
        let mut kdirs: Vec<String> = std::fs::read_dir(&src)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("linux-headers-") && n.ends_with("-cloud-amd64"))
            .collect();
        kdirs.sort();
        let Some(kdir) = kdirs.pop() else {
            crate::skip_unless_ci(format!(
                "no linux-headers-*-cloud-amd64 in the {} chroot (rebuild it: testdata/chroot-{}.sh)",
                self.suite.name(),
                self.suite.name()
            ));
            return None;
        };
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).ok()?;
        std::fs::copy(kbtf, bin.join("kbtf")).ok()?;
        for name in ["pahole", "resolve_btfids"] {
            std::os::unix::fs::symlink("kbtf", bin.join(name)).ok()?;
        }
        Some(Kbuild {
            chroot: self,
            kdir: Path::new("/usr/src").join(kdir),
            bin,
        })
    }
}

impl Kbuild<'_> {
    /// The headers' vmlinux (its BTF), as seen from outside.
    pub fn vmlinux(&self) -> PathBuf {
        self.chroot
            .root
            .join(self.kdir.strip_prefix("/").unwrap_or(&self.kdir))
            .join("vmlinux")
    }

    /// kbtf (`"kbtf"`) or one of its symlinks (`"pahole"`, `"resolve_btfids"`),
    /// as the chroot sees it.
    pub fn tool(&self, name: &str) -> String {
        self.chroot
            .inside(&self.bin.join(name))
            .display()
            .to_string()
    }

    /// `make -C KDIR M=DIR modules` in the chroot with `vars` on make's
    /// command line and `env` in its environment, for the module whose
    /// `files` (its sources and Kbuild) are in `src`; the module `NAME.ko`
    /// (named after the first file). /proc, which objtool reads, is mounted
    /// in a mount namespace of the build's own, so nothing stays mounted.
    ///
    /// # Panics
    /// If the build fails or links nothing.
    pub fn build(
        &self,
        dir_name: &str,
        src: &Path,
        files: &[&str],
        vars: &[String],
        env: &[(&str, &str)],
    ) -> PathBuf {
        let dir = self.chroot.path(dir_name);
        std::fs::create_dir(&dir).expect("a fresh build directory");
        for f in files {
            std::fs::copy(src.join(f), dir.join(f)).expect("the module's sources");
        }
        let mut make = format!(
            "mount -t proc proc '{root}/proc' && exec chroot '{root}' make -C '{kdir}' M='{m}'",
            root = self.chroot.root.display(),
            kdir = self.kdir.display(),
            m = self.chroot.inside(&dir).display()
        );
        for v in vars {
            make.push_str(&format!(" '{v}'"));
        }
        make.push_str(" modules");
        let out = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(&make)
            .envs(env.iter().copied())
            .output()
            .expect("unshare (util-linux)");
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && log.contains("LD [M]"),
            "{dir_name}: kbuild failed: {log}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stem = files[0].trim_end_matches(".c");
        dir.join(format!("{stem}.ko"))
    }
}

/// The bpftool a suite's chroot holds (sid: bpftool 7.8, libbpf 1.8), the
/// oracle of kbtf's emulation of that bpftool's C header.
pub struct ChrootBpftool<'a> {
    chroot: &'a Chroot,
    /// Its first line of `bpftool version`, e.g. `bpftool v7.8.0`.
    pub version: String,
}

/// One installation at a time: tests of one binary run in parallel.
static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Chroot {
    /// The chroot's bpftool, installed with apt when the chroot predates
    /// its place in `testdata/chroot-debian.sh` (a complete chroot is never
    /// rebuilt). `None`, reported as a skip (a failure under CI), when it
    /// cannot be installed or is not version `want` (e.g. `"v7.8."`).
    pub fn bpftool(&self, want: &str) -> Option<ChrootBpftool<'_>> {
        let guard = APT.lock().unwrap_or_else(|e| e.into_inner());
        if !self.root.join("usr/sbin/bpftool").exists() {
            let installed = self
                .command("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends", "bpftool"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !installed {
                crate::skip_unless_ci(format!(
                    "no bpftool in the {} chroot, and apt-get install bpftool failed there \
                     (rebuild it: testdata/chroot-{}.sh)",
                    self.suite.name(),
                    self.suite.name()
                ));
                return None;
            }
        }
        drop(guard);
        let out = self.command("bpftool").arg("version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.lines().next().unwrap_or_default().to_owned();
        if !out.status.success() || !version.starts_with(&format!("bpftool {want}")) {
            crate::skip_unless_ci(format!(
                "the {} chroot's bpftool is {version:?}, not {want}*: kbtf emulates {want}*",
                self.suite.name()
            ));
            return None;
        }
        Some(ChrootBpftool {
            chroot: self,
            version,
        })
    }

    /// `src` in the scratch directory as `name` (a hard link, or a copy
    /// across file systems and from /sys), as seen from outside.
    ///
    /// # Panics
    /// If it can be neither linked nor copied.
    pub fn stage(&self, src: &Path, name: &str) -> PathBuf {
        let dst = self.path(name);
        let _ = std::fs::remove_file(&dst);
        let real = std::fs::canonicalize(src).unwrap_or_else(|_| src.to_owned());
        if std::fs::hard_link(&real, &dst).is_err() {
            std::fs::copy(&real, &dst)
                .unwrap_or_else(|e| panic!("copying {} into the chroot: {e}", src.display()));
        }
        dst
    }
}

impl ChrootBpftool<'_> {
    /// `bpftool [-B base] btf dump file FILE format c OPTS...` (`unsorted`,
    /// `root_id N`) for files in the scratch directory (paths as seen from
    /// outside): the header on its stdout, or its stderr as the error.
    pub fn dump_c(
        &self,
        base: Option<&Path>,
        file: &Path,
        opts: &[&str],
    ) -> Result<Vec<u8>, String> {
        let mut cmd = self.chroot.command("bpftool");
        if let Some(base) = base {
            cmd.arg("-B").arg(self.chroot.inside(base));
        }
        cmd.args(["btf", "dump", "file"])
            .arg(self.chroot.inside(file))
            .args(["format", "c"])
            .args(opts);
        let out = cmd
            .output()
            .map_err(|e| format!("running bpftool in the chroot: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{} on {} failed ({}): {}",
                self.version,
                file.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out.stdout)
    }
}
