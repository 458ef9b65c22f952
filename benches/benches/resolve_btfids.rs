//! kbtf vs the kernel's resolve_btfids (Debian's linux-kbuild-6.12.117+deb12)
//! on the corpus vmlinux and nf_conntrack.ko.
//!
//! - `upstream`: the upstream process resolving a private copy in place.
//! - `kbtf_resolve`: kbtf's work in process: map the files, read `.BTF_ids`,
//!   its symbols and the BTF names (the base's too), resolve, sort and
//!   repair: everything but writing the file.
//! - `kbtf_process`: the `kbtf resolve_btfids` process, in place, including
//!   the atomic rewrite of the whole file (module only: for a 340 MB vmlinux
//!   that rewrite dominates; upstream writes into the file).
//! - `kbtf_process_rerun`: the process on its own output, which it finds
//!   resolved already and leaves alone (upstream rewrites, and swaps flags).

use kbtf_testsupport::corpus;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::BtfView;
use kbtf_btfids::{resolve, IdsElf};

const UPSTREAM: &str =
    "/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids";

fn kbtf_bin() -> PathBuf {
    // target/release/deps/<bench> -> target/release/kbtf
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("kbtf")
}

/// What `kbtf resolve_btfids [-b BASE] FILE` does before writing: map the
/// files, read `.BTF_ids`, its symbols and the BTF names, resolve, sort, repair.
fn kbtf_resolve(path: &Path, base: Option<&Path>) -> usize {
    let base_data = base.map(|b| FileBytes::open(b).unwrap());
    let base_blob = base_data.as_ref().map(|d| btf_blob(d).unwrap());
    let base_view = base_blob.as_ref().map(|b| BtfView::parse(b).unwrap());
    let data = FileBytes::open(path).unwrap();
    let elf = IdsElf::parse(&data).unwrap();
    let blob = btf_blob(&data).unwrap();
    let names = BtfView::parse_split(&blob, base_view.as_ref()).unwrap();
    let outcome = resolve(&elf, &names, &[]).unwrap();
    outcome.section.len() + outcome.moves.len()
}

fn bench(c: &mut Criterion) {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = corpus.vmlinux();
    let module = corpus.module("nf_conntrack.ko");

    let mut g = c.benchmark_group("resolve_btfids");
    g.sample_size(20).measurement_time(Duration::from_secs(8));

    // Upstream does the same work on every run of a processed file.
    let vm_copy = dir.path().join("vmlinux");
    std::fs::copy(&vmlinux, &vm_copy).unwrap();
    g.bench_function("vmlinux/upstream", |b| {
        b.iter(|| {
            assert!(Command::new(UPSTREAM)
                .arg(&vm_copy)
                .status()
                .unwrap()
                .success())
        })
    });
    g.bench_function("vmlinux/kbtf_resolve", |b| {
        b.iter(|| kbtf_resolve(&vmlinux, None))
    });

    let ko_copy = dir.path().join("nf_conntrack.ko");
    std::fs::copy(&module, &ko_copy).unwrap();
    g.bench_function("nf_conntrack/upstream", |b| {
        b.iter(|| {
            let st = Command::new(UPSTREAM)
                .arg("-b")
                .arg(&vmlinux)
                .arg(&ko_copy)
                .status();
            assert!(st.unwrap().success())
        })
    });
    g.bench_function("nf_conntrack/kbtf_resolve", |b| {
        b.iter(|| kbtf_resolve(&module, Some(&vmlinux)))
    });
    let kbtf = kbtf_bin();
    if kbtf.exists() {
        // Re-running on kbtf's own output: the idempotent case, nothing to write.
        let vm_kbtf = dir.path().join("vmlinux.kbtf");
        std::fs::copy(&vmlinux, &vm_kbtf).unwrap();
        let process = |args: &[&Path]| {
            let st = Command::new(&kbtf)
                .arg("resolve_btfids")
                .args(args)
                .status();
            assert!(st.unwrap().success())
        };
        process(&[&vm_kbtf]);
        g.bench_function("vmlinux/kbtf_process_rerun", |b| {
            b.iter(|| process(&[&vm_kbtf]))
        });
        let ko_kbtf = dir.path().join("nf_conntrack.kbtf.ko");
        std::fs::copy(&module, &ko_kbtf).unwrap();
        let b_opt = Path::new("-b");
        process(&[b_opt, &vmlinux, &ko_kbtf]);
        g.bench_function("nf_conntrack/kbtf_process_rerun", |b| {
            b.iter(|| process(&[b_opt, &vmlinux, &ko_kbtf]))
        });
        // From the shipped file each time, so that kbtf has symbols to move and a file to write.
        g.bench_function("nf_conntrack/kbtf_process", |b| {
            b.iter_batched(
                || std::fs::copy(&module, &ko_copy).unwrap(),
                |_| {
                    let st = Command::new(&kbtf)
                        .arg("resolve_btfids")
                        .arg("-b")
                        .arg(&vmlinux)
                        .arg(&ko_copy)
                        .status();
                    assert!(st.unwrap().success())
                },
                BatchSize::PerIteration,
            )
        });
    } else {
        eprintln!(
            "skipping kbtf_process: build the kbtf binary first ({})",
            kbtf.display()
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
