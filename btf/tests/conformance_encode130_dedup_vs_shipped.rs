//! kbtf as pahole 1.30 (Debian trixie's, with the flags Linux 6.12 passes
//! it) against the `.BTF` trixie shipped for linux 6.12.*+deb13: the
//! vmlinux for any thread count, and how many of the modules come out byte
//! for byte. Skips, saying so, without the trixie corpus
//! (`testdata/fetch-trixie.sh`).

#![cfg(feature = "dwarf")]

use kbtf_testsupport::corpus;

use std::sync::Arc;

use kbtf_btf::encode::{encode_deduped, EncodeOptions, PaholeVersion};
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;
use rayon::prelude::*;

fn shipped(path: &std::path::Path) -> Vec<u8> {
    let bytes = FileBytes::open(path).unwrap();
    btf_blob(&bytes).unwrap().into_owned()
}

fn opts() -> EncodeOptions {
    EncodeOptions::kernel_for(PaholeVersion::V1_30)
}

/// The first type id at which two BTF blobs differ, and how many differ.
fn type_diff(ours: &Btf, theirs: &Btf) -> (Option<u32>, usize) {
    let n = ours.type_count().max(theirs.type_count());
    let start = ours.start_id().0;
    let mut first = None;
    let mut count = 0;
    for id in start..n {
        let a = ours
            .type_by_id(kbtf_btf::TypeId(id))
            .map(|t| t.words().to_vec());
        let b = theirs
            .type_by_id(kbtf_btf::TypeId(id))
            .map(|t| t.words().to_vec());
        if a != b {
            first.get_or_insert(id);
            count += 1;
        }
    }
    (first, count)
}

#[test]
fn trixie_vmlinux_encodes_to_the_shipped_btf_for_any_thread_count() {
    let Some(corpus) = corpus::Corpus::trixie() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let expected = shipped(&vmlinux);
    for threads in [1, 2, 8] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let ours = pool
            .install(|| encode_deduped(&vmlinux, None, &opts()))
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = ours.to_bytes();
        if bytes != expected {
            let (first, count) = type_diff(&ours, &Btf::parse_split(&expected, None).unwrap());
            panic!("trixie vmlinux with {threads} threads differs: first type {first:?}, {count} types");
        }
        println!("trixie vmlinux with {threads} thread(s): byte-identical to the shipped .BTF");
    }
}

#[test]
fn trixie_modules_count() {
    let Some(corpus) = corpus::Corpus::trixie() else {
        return;
    };
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let modules = corpus.modules();
    let mut differ: Vec<(String, Option<u32>, usize)> = modules
        .par_iter()
        .filter_map(|path| {
            let ours =
                encode_deduped(path, Some(base.clone()), &opts()).unwrap_or_else(|e| panic!("{e}"));
            let expected = shipped(path);
            if ours.to_bytes() == expected {
                return None;
            }
            let theirs = Btf::parse_split(&expected, Some(base.clone())).unwrap();
            let (first, count) = type_diff(&ours, &theirs);
            Some((path.display().to_string(), first, count))
        })
        .collect();
    differ.sort();
    println!(
        "trixie modules byte-identical to the shipped .BTF: {} of {}",
        modules.len() - differ.len(),
        modules.len()
    );
    for (path, first, count) in differ.iter().take(20) {
        println!("  differs: {path}: first type {first:?}, {count} types");
    }
    assert_eq!(modules.len(), 1138);
    assert!(differ.is_empty(), "{} modules differ", differ.len());
}

#[test]
fn trixie_modules_encode_the_same_for_any_thread_count() {
    let Some(corpus) = corpus::Corpus::trixie() else {
        return;
    };
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    for name in ["nf_conntrack.ko", "xfs.ko", "kvm.ko"] {
        let path = corpus.module(name);
        let encode = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| encode_deduped(&path, Some(base.clone()), &opts()))
                .unwrap_or_else(|e| panic!("{e}"))
                .to_bytes()
        };
        let one = encode(1);
        assert!(
            one == shipped(&path),
            "{name}: differs from the shipped .BTF"
        );
        for threads in [2, 8] {
            assert!(encode(threads) == one, "{name}: {threads} threads differ");
        }
    }
}
