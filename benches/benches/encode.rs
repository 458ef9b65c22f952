//! DWARF -> BTF encoding (before dedup): a mid-size module and the vmlinux.

use kbtf_testsupport::corpus;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use kbtf_btf::encode::{encode_file, EncodeOptions};
use kbtf_btf::Btf;

fn encode(c: &mut Criterion) {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let module = corpus.module("nf_conntrack.ko");
    let opts = EncodeOptions::kernel();
    c.bench_function("encode nf_conntrack.ko", |b| {
        b.iter(|| encode_file(&module, Some(base.clone()), &opts).unwrap())
    });
    let mut slow = c.benchmark_group("encode vmlinux");
    slow.sample_size(10);
    let vmlinux = corpus.vmlinux();
    slow.bench_function("encode vmlinux", |b| {
        b.iter(|| encode_file(&vmlinux, None, &opts).unwrap())
    });
    slow.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
