//! Dedup speed: the corpus vmlinux BTF followed by a copy of itself (214,662
//! types in, 107,715 out), the input `tests/conformance_dedup_vs_libbpf.rs` checks against
//! libbpf. Each iteration dedups a fresh clone; cloning is timed apart.

use kbtf_testsupport::corpus;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;

fn vmlinux_twice() -> Option<Btf> {
    let corpus = corpus::Corpus::find()?;
    let bytes = FileBytes::open(&corpus.vmlinux()).expect("corpus vmlinux");
    let vmlinux = Btf::parse(&btf_blob(&bytes).expect(".BTF")).expect("vmlinux BTF");
    let mut twice = Btf::new();
    twice.add_btf(&vmlinux).expect("add_btf");
    twice.add_btf(&vmlinux).expect("add_btf");
    Some(twice)
}

fn bench(c: &mut Criterion) {
    let Some(input) = vmlinux_twice() else {
        return;
    };
    let mut group = c.benchmark_group("dedup");
    group.sample_size(20);
    group.bench_function("clone vmlinux x2", |b| b.iter(|| input.clone()));
    group.bench_function("vmlinux x2", |b| {
        b.iter_batched(
            || input.clone(),
            |mut btf| dedup(&mut btf, &DedupOptions::default()).expect("dedup"),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
