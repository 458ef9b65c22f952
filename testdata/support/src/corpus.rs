//! Where the real-kernel corpus is, for tests and benches.
//!
//! `testdata/fetch-corpus.sh` unpacks it (and `testdata/fetch-debian.sh` the
//! newer suites); tests that need one skip with a
//! message when it is absent, except under CI (`CI` set), where that fails.

use std::path::{Path, PathBuf};

/// An unpacked corpus: `vmlinux`, `modules.list` and the modules it names.
pub struct Corpus {
    /// The directory it was unpacked into.
    pub dir: PathBuf,
}

impl Corpus {
    /// The corpus, or `None` (reported as a skip, see [`crate::skip`]) when
    /// it has not been fetched; under CI that is a failure.
    pub fn find() -> Option<Corpus> {
        Corpus::find_in("KBTF_CORPUS_DIR", "corpus", "testdata/fetch-corpus.sh")
    }

    /// Another kernel built by another pahole: Debian trixie's 6.12
    /// (pahole 1.30), fetched by `testdata/fetch-trixie.sh` into
    /// `~/.cache/kbtf/trixie` (`KBTF_TRIXIE_DIR` overrides). `None`,
    /// reported as a skip, when absent; under CI (whose setup fetches it)
    /// that is a failure.
    pub fn trixie() -> Option<Corpus> {
        Corpus::find_in("KBTF_TRIXIE_DIR", "trixie", "testdata/fetch-trixie.sh")
    }

    /// Debian sid's 7.2 (gen-btf.sh, pahole 1.32), fetched by
    /// `testdata/fetch-sid.sh` into `~/.cache/kbtf/sid` (`KBTF_SID_DIR`
    /// overrides). `None`, reported as a skip, when absent (a failure
    /// under CI).
    pub fn sid() -> Option<Corpus> {
        Corpus::find_in("KBTF_SID_DIR", "sid", "testdata/fetch-sid.sh")
    }

    /// The pahole 1.32 references of the sid corpus that
    /// `testdata/ref-sid.sh` makes in sid's chroot (`KBTF_SID_REF`, else
    /// `~/.cache/kbtf/sid-ref`). `None`, reported as a skip, when absent
    /// (a failure under CI).
    pub fn sid_references() -> Option<PathBuf> {
        let dir = cache_dir("KBTF_SID_REF", "sid-ref")?;
        if dir.join("vmlinux.BTF.1").exists() {
            return Some(dir);
        }
        crate::skip_unless_ci(format!(
            "pahole 1.32 references not found at {} (run testdata/chroot-sid.sh, then \
             testdata/ref-sid.sh as root)",
            dir.display()
        ));
        None
    }

    /// The libbpf 1.7 references of distill and relocate over the sid and
    /// bookworm corpora that `testdata/ref-distill.sh` makes in sid's chroot
    /// (`KBTF_SID_DISTILL_REF`, else `~/.cache/kbtf/sid-distill`). `None`,
    /// reported as a skip, when absent or incomplete (a failure under CI).
    pub fn sid_distill_references() -> Option<PathBuf> {
        let dir = cache_dir("KBTF_SID_DISTILL_REF", "sid-distill")?;
        if dir.join(".complete").exists() {
            return Some(dir);
        }
        crate::skip_unless_ci(format!(
            "libbpf 1.7 distill references not found at {} (run testdata/chroot-sid.sh, then \
             testdata/ref-distill.sh as root)",
            dir.display()
        ));
        None
    }

    /// What `testdata/ref-sid.sh` (in `refs`, see
    /// [`Corpus::sid_references`]) holds for `module`, a module of this
    /// (sid) corpus.
    pub fn sid_module_reference(&self, refs: &Path, module: &Path) -> SidModuleReference {
        let rel = module
            .strip_prefix(self.dir.join("modules"))
            .expect("a module under modules/");
        let fresh = refs.join("modules").join(rel);
        let mut btf1 = fresh.clone().into_os_string();
        btf1.push(".BTF.1");
        SidModuleReference {
            btf1: PathBuf::from(btf1),
            input: if fresh.exists() {
                fresh
            } else {
                module.to_path_buf()
            },
        }
    }

    fn find_in(var: &str, cache_name: &str, fetch: &str) -> Option<Corpus> {
        let dir = cache_dir(var, cache_name)?;
        if dir.join(".complete").exists() {
            return Some(Corpus { dir });
        }
        let msg = format!("corpus not found at {} (run {fetch})", dir.display());
        crate::skip_unless_ci(msg);
        None
    }

    /// The vmlinux, with its DWARF and the `.BTF` the build made.
    pub fn vmlinux(&self) -> PathBuf {
        self.dir.join("vmlinux")
    }

    /// Every module, sorted by path.
    pub fn modules(&self) -> Vec<PathBuf> {
        let list = std::fs::read_to_string(self.dir.join("modules.list")).expect("modules.list");
        list.lines().map(|l| self.dir.join(l)).collect()
    }

    /// A module by file name, e.g. `nf_conntrack.ko`.
    pub fn module(&self, name: &str) -> PathBuf {
        self.modules()
            .into_iter()
            .find(|p| p.file_name().is_some_and(|n| n == name))
            .unwrap_or_else(|| panic!("{name} is not in the corpus"))
    }
}

/// A sid module's references (`testdata/ref-sid.sh`).
pub struct SidModuleReference {
    /// pahole 1.32's `.BTF.1` of the module (empty when pahole wrote none).
    pub btf1: PathBuf,
    /// The module as linked, what pahole read: the shipped file, or for
    /// the few whose `.BTF_ids` the build processed, the script's copy with
    /// that section as the linker left it.
    pub input: PathBuf,
}

/// `$var`, else `kbtf/NAME` in `$XDG_CACHE_HOME` or `~/.cache`.
pub(crate) fn cache_dir(var: &str, name: &str) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from).or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
        Some(cache.join("kbtf").join(name))
    })
}
