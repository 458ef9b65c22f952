//! Where the real-kernel corpus is, for tests and benches (included with `#[path]`).
//!
//! `testdata/fetch-corpus.sh` unpacks it; tests that need it skip with a
//! message when it is absent, except under CI (`CI` set), where that fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `$ENV`, else `$XDG_CACHE_HOME/SUB` or `~/.cache/SUB`.
fn cache_dir(env: &str, sub: &str) -> Option<PathBuf> {
    std::env::var_os(env).map(PathBuf::from).or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
        Some(cache.join(sub))
    })
}

pub struct Corpus {
    pub dir: PathBuf,
}

impl Corpus {
    /// The corpus, or `None` (with a message) when it has not been fetched.
    pub fn find() -> Option<Corpus> {
        let dir = std::env::var_os("KBTF_CORPUS_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
                Some(cache.join("kbtf/corpus"))
            })?;
        if dir.join(".complete").exists() {
            return Some(Corpus { dir });
        }
        let msg = format!(
            "corpus not found at {} (run testdata/fetch-corpus.sh)",
            dir.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("skipping: {msg}");
        None
    }

    /// The Debian trixie corpus (linux 6.12.*+deb13, built with pahole
    /// 1.30) from `testdata/fetch-trixie.sh` (`KBTF_TRIXIE_DIR`), or `None`
    /// with a message. CI does not fetch it yet, so its absence never fails.
    pub fn find_trixie() -> Option<Corpus> {
        let dir = std::env::var_os("KBTF_TRIXIE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
                Some(cache.join("kbtf/trixie"))
            })?;
        if dir.join(".complete").exists() {
            return Some(Corpus { dir });
        }
        eprintln!(
            "skipping: trixie corpus not found at {} (run testdata/fetch-trixie.sh)",
            dir.display()
        );
        None
    }

    /// The Debian sid corpus (linux 7.2.*+deb14, built with pahole 1.32
    /// and gen-btf.sh) from `testdata/fetch-sid.sh` (`KBTF_SID_DIR`), or
    /// `None` with a message. CI does not fetch it, so its absence never fails.
    pub fn find_sid() -> Option<Corpus> {
        let dir = cache_dir("KBTF_SID_DIR", "kbtf/sid")?;
        if dir.join(".complete").exists() {
            return Some(Corpus { dir });
        }
        eprintln!(
            "skipping: sid corpus not found at {} (run testdata/fetch-sid.sh)",
            dir.display()
        );
        None
    }

    /// The pahole 1.32 references of the sid corpus from
    /// `testdata/ref-sid.sh` (`KBTF_SID_REF`), or `None` with a message.
    pub fn find_sid_ref() -> Option<PathBuf> {
        let dir = cache_dir("KBTF_SID_REF", "kbtf/sid-ref")?;
        if dir.join("vmlinux.BTF.1").exists() {
            return Some(dir);
        }
        eprintln!(
            "skipping: pahole 1.32 references not found at {} (run testdata/chroot-sid.sh, then testdata/ref-sid.sh as root)",
            dir.display()
        );
        None
    }

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
