//! Parsing, writing and checking real kernel BTF: the corpus vmlinux as base
//! BTF, and a large module as split BTF over it. Skips (with a message)
//! without the corpus.

use kbtf_testsupport::corpus;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kbtf_btf::check::check;
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;

/// A module with a big split BTF of its own (structs, functions, enums).
const MODULE: &str = "nf_conntrack.ko";

fn blob_of(path: &std::path::Path) -> Vec<u8> {
    let bytes = FileBytes::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    btf_blob(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_owned()
}

fn parse_and_write(c: &mut Criterion) {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let vmlinux = blob_of(&corpus.vmlinux());
    let module = blob_of(&corpus.module(MODULE));
    let base = Arc::new(Btf::parse(&vmlinux).expect("corpus vmlinux BTF"));
    let split = Btf::parse_split(&module, Some(base.clone())).expect("corpus module BTF");
    println!(
        "vmlinux: {} types, {} bytes; {MODULE}: {} own types, {} bytes",
        base.type_count() - 1,
        vmlinux.len(),
        split.own_ids().len(),
        module.len()
    );

    let mut g = c.benchmark_group("vmlinux");
    g.throughput(Throughput::Bytes(vmlinux.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| Btf::parse(black_box(&vmlinux)).unwrap())
    });
    g.bench_function("write", |b| b.iter(|| black_box(&base).to_bytes()));
    // The kernel's loader rules, for comparison with parsing.
    g.bench_function("check", |b| b.iter(|| check(black_box(&base))));
    g.finish();

    let mut g = c.benchmark_group(MODULE);
    g.throughput(Throughput::Bytes(module.len() as u64));
    g.bench_function("parse split", |b| {
        b.iter(|| Btf::parse_split(black_box(&module), Some(base.clone())).unwrap())
    });
    g.bench_function("write split", |b| b.iter(|| black_box(&split).to_bytes()));
    g.finish();
}

criterion_group!(benches, parse_and_write);
criterion_main!(benches);
