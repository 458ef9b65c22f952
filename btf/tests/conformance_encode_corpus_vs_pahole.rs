//! The DWARF encoder against pahole 1.24: for every module of the corpus
//! (and the vmlinux), kbtf's pre-dedup BTF, deduplicated by the system
//! libbpf 1.1.2 (`testdata/oracle/btf_dedup.c`), must equal the `.BTF`
//! Debian shipped, which pahole 1.24 produced, byte for byte.

#![cfg(feature = "dwarf")]

use kbtf_testsupport::corpus;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kbtf_btf::encode::{encode_file, EncodeOptions};
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;

/// Builds the dedup oracle; None (with a message) where no C compiler or
/// libbpf-dev is installed, except under CI.
fn oracle(dir: &Path) -> Option<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/oracle/btf_dedup.c");
    let exe = dir.join("btf_dedup");
    let ok = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg("-lbpf")
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(exe);
    }
    kbtf_testsupport::skip_unless_ci(
        "cannot build testdata/oracle/btf_dedup.c (needs gcc and libbpf-dev)",
    );
    None
}

struct Oracle {
    exe: PathBuf,
    dir: PathBuf,
    /// The shipped vmlinux BTF as a raw file, the base of module BTF.
    base_file: PathBuf,
    base: Arc<Btf>,
}

impl Oracle {
    fn new(corpus: &corpus::Corpus, tag: &str) -> Option<Oracle> {
        let dir = std::env::temp_dir().join(format!("kbtf-encode-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = oracle(&dir)?;
        let bytes = FileBytes::open(&corpus.vmlinux()).unwrap();
        let blob = btf_blob(&bytes).unwrap();
        let base_file = dir.join("vmlinux.btf");
        std::fs::write(&base_file, &blob).unwrap();
        let base = Arc::new(Btf::parse(&blob).unwrap());
        Some(Oracle {
            exe,
            dir,
            base_file,
            base,
        })
    }

    /// Encodes `path`, dedups with libbpf and compares with the shipped
    /// `.BTF`. Err describes the difference.
    fn check(&self, path: &Path, split: bool) -> Result<(), String> {
        let base = split.then(|| self.base.clone());
        let btf = encode_file(path, base, &EncodeOptions::kernel()).map_err(|e| e.to_string())?;
        let stem = path.file_name().unwrap().to_string_lossy().into_owned();
        let pre = self.dir.join(format!("{stem}.pre"));
        let out = self.dir.join(format!("{stem}.out"));
        std::fs::write(&pre, btf.to_bytes()).unwrap();
        let mut cmd = Command::new(&self.exe);
        if split {
            cmd.arg("-b").arg(&self.base_file);
        }
        let status = cmd.arg(&pre).arg(&out).status().unwrap();
        let _ = std::fs::remove_file(&pre);
        if !status.success() {
            return Err("libbpf btf__dedup rejected the encoded BTF".into());
        }
        let ours = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        let bytes = FileBytes::open(path).unwrap();
        let shipped = btf_blob(&bytes).unwrap();
        if ours == *shipped {
            Ok(())
        } else {
            Err(format!(
                "deduplicated BTF differs: {} bytes, shipped {}",
                ours.len(),
                shipped.len()
            ))
        }
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Modules whose BTF kbtf does not reproduce yet, with the reason.
const KNOWN_DIFFERENT: &[(&str, &str)] = &[];

#[test]
fn modules_encode_like_pahole() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let Some(oracle) = Oracle::new(&corpus, "modules") else {
        return;
    };
    let modules = corpus.modules();
    let results: Vec<(PathBuf, Result<(), String>)> = {
        use rayon::prelude::*;
        modules
            .par_iter()
            .map(|m| (m.clone(), oracle.check(m, true)))
            .collect()
    };
    let mut matched = 0;
    let mut unexpected = Vec::new();
    for (path, result) in &results {
        let name = path.file_name().unwrap().to_string_lossy();
        let known = KNOWN_DIFFERENT.iter().any(|(n, _)| *n == name);
        match (result, known) {
            (Ok(()), false) => matched += 1,
            (Ok(()), true) => {
                unexpected.push(format!("{name}: matches now; drop it from KNOWN_DIFFERENT"))
            }
            (Err(_), true) => {}
            (Err(e), false) => unexpected.push(format!("{name}: {e}")),
        }
    }
    println!(
        "{matched} of {} modules encode byte for byte like pahole 1.24 ({} known to differ)",
        modules.len(),
        KNOWN_DIFFERENT.len()
    );
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    assert_eq!(modules.len(), 1138);
}

#[test]
fn vmlinux_encodes_like_pahole() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let Some(oracle) = Oracle::new(&corpus, "vmlinux") else {
        return;
    };
    let result = oracle.check(&corpus.vmlinux(), false);
    println!(
        "vmlinux: {}",
        if result.is_ok() {
            "byte for byte like pahole 1.24"
        } else {
            "differs"
        }
    );
    result.unwrap();
}

/// The output does not depend on the number of threads.
#[test]
fn encoding_is_deterministic() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let path = corpus.module("nf_conntrack.ko");
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let encode = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            encode_file(&path, Some(base.clone()), &EncodeOptions::kernel())
                .unwrap()
                .to_bytes()
        })
    };
    let one = encode(1);
    assert!(one == encode(3), "1 and 3 threads give different BTF");
    println!(
        "nf_conntrack.ko: same {} bytes with 1 and 3 threads",
        one.len()
    );
}

/// `(id, kind, first word of the name)` of each type pahole's `-V` log
/// reports, in order: pahole's BTF before dedup.
fn pahole_verbose_types(
    module: &Path,
    base: &Path,
    out: &Path,
) -> Option<Vec<(u32, String, String)>> {
    let _ = std::fs::remove_file(out);
    let output = Command::new("pahole")
        .args([
            "-J",
            "-V",
            "--btf_gen_floats",
            "--lang_exclude=rust",
            "--btf_base",
        ])
        .arg(base)
        .arg(format!("--btf_encode_detached={}", out.display()))
        .arg(module)
        .output();
    let output = match output {
        Ok(o) if o.status.success() => o,
        _ => {
            kbtf_testsupport::skip_unless_ci("pahole (Debian package dwarves) is not installed");
            return None;
        }
    };
    let _ = std::fs::remove_file(out);
    let log = String::from_utf8_lossy(&output.stdout);
    let types = log
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('[')?;
            let (id, rest) = rest.split_once("] ")?;
            let mut words = rest.split(' ');
            let kind = words.next()?.to_string();
            let name = words.next().unwrap_or("").to_string();
            Some((id.parse().ok()?, kind, name))
        })
        .collect();
    Some(types)
}

/// Before dedup, kbtf's types come in pahole's order with pahole's kinds
/// and names (pahole's `-V` log lists every type it adds).
#[test]
fn pre_dedup_types_follow_pahole() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kbtf-encode-verbose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let mut checked = 0;
    for name in [
        "crc7.ko",
        "twofish-x86_64.ko",
        "nf_conntrack.ko",
        "kvm.ko",
        "xfs.ko",
    ] {
        let path = corpus.module(name);
        let Some(expected) = pahole_verbose_types(&path, &corpus.vmlinux(), &dir.join("out.btf"))
        else {
            return;
        };
        let btf = encode_file(&path, Some(base.clone()), &EncodeOptions::kernel()).unwrap();
        let ours: Vec<(u32, String, String)> = btf
            .own_types()
            .map(|t| {
                let n = btf.name(t.name_off());
                let n = if n.is_empty() {
                    "(anon)".to_string()
                } else {
                    n.split(' ').next().unwrap().to_string()
                };
                (t.id().0, t.kind().name().to_string(), n)
            })
            .collect();
        assert_eq!(ours.len(), expected.len(), "{name}: type count");
        if let Some(i) = (0..ours.len()).find(|&i| ours[i] != expected[i]) {
            panic!(
                "{name}: first difference at {:?}, pahole has {:?}",
                ours[i], expected[i]
            );
        }
        checked += ours.len();
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{checked} pre-dedup types of 5 modules in pahole's order, kinds and names");
}
