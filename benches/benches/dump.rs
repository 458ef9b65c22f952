//! The text and JSON dumps of the corpus vmlinux (about 107k types), written to a sink.

use kbtf_testsupport::corpus;

use criterion::{criterion_group, criterion_main, Criterion};
use kbtf_btf::{dump, Btf};

fn dumps(c: &mut Criterion) {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let btf = Btf::from_file(corpus.vmlinux()).expect("the corpus vmlinux's BTF");
    let mut group = c.benchmark_group("dump vmlinux");
    group.sample_size(20);
    group.bench_function("raw", |b| {
        b.iter(|| dump::write_raw(&btf, std::io::sink()).expect("writing to a sink"))
    });
    group.bench_function("json", |b| {
        b.iter(|| dump::write_json(&btf, std::io::sink()).expect("writing to a sink"))
    });
    group.finish();
}

criterion_group!(benches, dumps);
criterion_main!(benches);
