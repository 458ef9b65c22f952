//! kbtf's whole pahole path (DWARF encoder + kbtf's own dedup) against the
//! `.BTF` Debian shipped, which pahole 1.24 produced: byte for byte for the
//! vmlinux and every module, for any thread count; and the running kernel
//! accepts the vmlinux result.

#![cfg(feature = "dwarf")]

use kbtf_testsupport::corpus;

use std::sync::Arc;

use kbtf_btf::encode::{encode_deduped, EncodeOptions};
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;
use rayon::prelude::*;

fn shipped(path: &std::path::Path) -> Vec<u8> {
    let bytes = FileBytes::open(path).unwrap();
    btf_blob(&bytes).unwrap().into_owned()
}

fn encode_with_threads(threads: usize, path: &std::path::Path, base: Option<Arc<Btf>>) -> Vec<u8> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let btf = pool
        .install(|| encode_deduped(path, base, &EncodeOptions::kernel()))
        .unwrap_or_else(|e| panic!("{e}"));
    btf.to_bytes()
}

#[test]
fn every_module_encodes_to_the_shipped_btf() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let modules = corpus.modules();
    let differ: Vec<String> = modules
        .par_iter()
        .filter_map(|path| {
            let ours = encode_deduped(path, Some(base.clone()), &EncodeOptions::kernel())
                .unwrap_or_else(|e| panic!("{e}"))
                .to_bytes();
            (ours != shipped(path)).then(|| path.display().to_string())
        })
        .collect();
    println!(
        "modules byte-identical to the shipped .BTF: {} of {}",
        modules.len() - differ.len(),
        modules.len()
    );
    assert!(differ.is_empty(), "differ: {differ:#?}");
    assert_eq!(modules.len(), 1138);
}

#[test]
fn vmlinux_encodes_to_the_shipped_btf_for_any_thread_count() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let expected = shipped(&vmlinux);
    let mut ours = Vec::new();
    for threads in [1, 2, 8] {
        ours = encode_with_threads(threads, &vmlinux, None);
        assert!(
            ours == expected,
            "vmlinux with {threads} threads differs from the shipped .BTF"
        );
        println!("vmlinux with {threads} thread(s): byte-identical to the shipped .BTF");
    }
    match kbtf_btf::kernel::load_btf(&ours) {
        Ok(_) => println!("vmlinux: the running kernel accepts kbtf's BTF"),
        Err(r) if r.is_unavailable() => eprintln!("skipping the kernel check: {}", r.reason()),
        Err(r) => panic!(
            "the running kernel rejects kbtf's vmlinux BTF: {}",
            r.reason()
        ),
    }
}

#[test]
fn modules_encode_the_same_for_any_thread_count() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    for name in ["nf_conntrack.ko", "xfs.ko", "kvm.ko"] {
        let path = corpus.module(name);
        let one = encode_with_threads(1, &path, Some(base.clone()));
        for threads in [2, 8] {
            assert!(
                encode_with_threads(threads, &path, Some(base.clone())) == one,
                "{name}: {threads} threads differ"
            );
        }
    }
}
