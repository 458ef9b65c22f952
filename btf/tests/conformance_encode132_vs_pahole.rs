//! kbtf as pahole 1.32 (Debian sid's, with the flags Linux 7.2 passes it)
//! against sid's own pahole 1.32 on linux 7.2.*+deb14: what gen-btf.sh
//! hands resolve_btfids (`X.BTF.1`, deduplicated BTF before resolve_btfids
//! sorts it). The shipped .BTF is sorted by resolve_btfids 7.2, so the
//! references come from the sid chroot (`testdata/ref-sid.sh`), which also
//! checks that they give the shipped .BTF. Inputs whose .BTF_ids the build
//! processed are read as linked (the references' copies). Skips, saying
//! so, without the sid corpus or the references.

#![cfg(feature = "dwarf")]

use kbtf_testsupport::corpus;

use std::path::PathBuf;
use std::sync::Arc;

use kbtf_btf::encode::{encode_deduped, EncodeOptions, PaholeVersion};
use kbtf_btf::Btf;
use rayon::prelude::*;

fn opts() -> EncodeOptions {
    EncodeOptions::kernel_for(PaholeVersion::V1_32)
}

/// The first type id at which two BTFs differ, and how many differ.
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

fn find() -> Option<(corpus::Corpus, PathBuf)> {
    let corpus = corpus::Corpus::sid()?;
    let refs = corpus::Corpus::sid_references()?;
    Some((corpus, refs))
}

#[test]
fn sid_vmlinux_encodes_like_pahole_132_for_any_thread_count() {
    let Some((_, refs)) = find() else {
        return;
    };
    let input = refs.join("vmlinux.fresh");
    let expected = std::fs::read(refs.join("vmlinux.BTF.1")).unwrap();
    for threads in [1, 8] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let ours = pool
            .install(|| encode_deduped(&input, None, &opts()))
            .unwrap_or_else(|e| panic!("{e}"));
        if ours.to_bytes() != expected {
            let theirs = Btf::parse_split(&expected, None).unwrap();
            let (first, count) = type_diff(&ours, &theirs);
            panic!(
                "sid vmlinux with {threads} threads differs from pahole 1.32: first type {first:?}, {count} types ({} vs {})",
                ours.type_count() - 1,
                theirs.type_count() - 1
            );
        }
        println!("sid vmlinux with {threads} thread(s): byte-identical to pahole 1.32's .BTF.1");
    }
}

#[test]
fn sid_modules_count() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    // gen-btf.sh encodes modules over the final (resolved, sorted) vmlinux.
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let modules = corpus.modules();
    let with_ref: Vec<(PathBuf, PathBuf, PathBuf)> = modules
        .iter()
        .filter_map(|m| {
            let r = corpus.sid_module_reference(&refs, m);
            let (btf1, input) = (r.btf1, r.input);
            btf1.exists().then(|| (m.clone(), btf1, input))
        })
        .collect();
    let mut differ: Vec<(String, Option<u32>, usize)> = with_ref
        .par_iter()
        .filter_map(|(module, btf1, input)| {
            let ours = encode_deduped(input, Some(base.clone()), &opts())
                .unwrap_or_else(|e| panic!("{e}"));
            let expected = std::fs::read(btf1).unwrap();
            // An empty reference: pahole wrote no file (no types of its own).
            let same = if expected.is_empty() {
                ours.type_count() == base.type_count()
            } else {
                ours.to_bytes() == expected
            };
            if same {
                return None;
            }
            let name = module.display().to_string();
            if expected.is_empty() {
                return Some((name, None, (ours.type_count() - base.type_count()) as usize));
            }
            let theirs = Btf::parse_split(&expected, Some(base.clone())).unwrap();
            let (first, count) = type_diff(&ours, &theirs);
            Some((name, first, count))
        })
        .collect();
    differ.sort();
    println!(
        "sid modules byte-identical to pahole 1.32's .BTF.1: {} of {} with a reference ({} modules in the corpus)",
        with_ref.len() - differ.len(),
        with_ref.len(),
        modules.len()
    );
    for (path, first, count) in differ.iter().take(20) {
        println!("  differs: {path}: first type {first:?}, {count} types");
    }
    assert_eq!(modules.len(), 1018);
    assert!(differ.is_empty(), "{} modules differ", differ.len());
}
