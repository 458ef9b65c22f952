//! kbtf's dumps equal bpftool's (Debian's 7.1, libbpf 1.1): the text byte for
//! byte, the JSON as values, for the running kernel's BTF, the corpus vmlinux
//! and every corpus module read as split BTF over it.

use kbtf_testsupport::bpftool::{self, first_difference};
use kbtf_testsupport::corpus;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bpftool::{bpftool_json, Bpftool};
use kbtf_btf::{dump, Btf};

/// bpftool processes at once: the machines this runs on have 2 cores.
const WORKERS: usize = 2;
/// Every this many modules (and the first), the JSON is compared too.
const JSON_SAMPLE_EVERY: usize = 50;

fn kbtf_dump(btf: &Btf, format: dump::Format) -> Vec<u8> {
    let mut out = Vec::new();
    dump::write(btf, format, &mut out).expect("writing to a Vec");
    out
}

/// Compares one file's dumps; `Err` says how they differ.
fn check(
    bpftool: &Bpftool,
    btf: &Btf,
    base: Option<&Path>,
    file: &Path,
    json: bool,
) -> Result<(), String> {
    let want = bpftool.dump(base, file, false)?;
    let got = kbtf_dump(btf, dump::Format::Raw);
    if got != want {
        return Err(format!(
            "{}: text differs from bpftool's {}",
            file.display(),
            first_difference(&got, &want)
        ));
    }
    if json {
        let want = bpftool_json(&bpftool.dump(base, file, true)?)?;
        let got: serde_json::Value = serde_json::from_slice(&kbtf_dump(btf, dump::Format::Json))
            .map_err(|e| format!("{}: kbtf's JSON: {e}", file.display()))?;
        if got != want {
            return Err(format!("{}: JSON differs from bpftool's", file.display()));
        }
    }
    Ok(())
}

/// Another kernel and another pahole (trixie's 6.12, pahole 1.30): a
/// fixture, not the host's BTF, so the verdict holds on any machine.
#[test]
fn other_kernel_matches_bpftool() {
    let (Some(trixie), Some(bpftool)) = (corpus::Corpus::trixie(), Bpftool::find()) else {
        return;
    };
    let path = trixie.vmlinux();
    let btf = Btf::from_file(&path).unwrap();
    check(&bpftool, &btf, None, &path, true).unwrap();
    println!("{}: text and JSON equal bpftool's", path.display());
}

#[test]
fn corpus_matches_bpftool() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let base = Arc::new(Btf::from_file(&vmlinux).unwrap());
    check(&bpftool, &base, None, &vmlinux, true).unwrap();

    let modules = corpus.modules();
    let next = AtomicUsize::new(0);
    let json_checked = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let check_module = |i: usize, path: &PathBuf| -> Result<(), String> {
        let btf = Btf::from_file_split(path, Some(base.clone())).map_err(|e| e.to_string())?;
        let json = i % JSON_SAMPLE_EVERY == 0;
        check(&bpftool, &btf, Some(&vmlinux), path, json)?;
        if json {
            json_checked.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = modules.get(i) else { break };
                if let Err(e) = check_module(i, path) {
                    failures.lock().unwrap().push(e);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    for f in failures.iter().take(5) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} modules differ",
        failures.len(),
        modules.len()
    );
    println!(
        "equal to bpftool: vmlinux (text and JSON) + {} modules (text; JSON for {})",
        modules.len(),
        json_checked.into_inner()
    );
    assert_eq!(modules.len(), 1138);
}
