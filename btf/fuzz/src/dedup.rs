//! The `dedup` target's checks: dedup of well-formed generated BTF
//! ([`crate::gen`]) keeps the promises that hold whatever the input.

use std::collections::HashMap;

use kbtf_btf::dedup::{dedup, dedup_owned, BaseCandidates, DedupOptions};
use kbtf_btf::{Btf, Kind, TypeRef};

use crate::gen::Generated;
use crate::{check_parsed, check_roundtrip};

/// Dedups `g` both ways libbpf can (strings rebuilt, as for parsed BTF, and
/// kept, as for BTF pahole built) and checks each result.
pub fn check(g: &Generated) {
    let blob = g.btf.to_bytes();
    let parsed = Btf::parse_split(&blob, g.base.clone())
        .unwrap_or_else(|e| panic!("the generator made BTF the parser rejects: {e}"));
    check_parsed(&parsed);
    for rebuild_strings in [true, false] {
        for libbpf_1_7 in [false, true] {
            check_one(
                &parsed,
                &blob,
                &DedupOptions {
                    rebuild_strings,
                    libbpf_1_7,
                },
            );
        }
    }
}

fn check_one(input: &Btf, blob: &[u8], opts: &DedupOptions) {
    let mut once = input.clone();
    let stats = match dedup(&mut once, opts) {
        Ok(stats) => stats,
        Err(e) => {
            std::hint::black_box(e.to_string());
            assert!(
                once.to_bytes() == blob,
                "a failed dedup changed the BTF ({e})"
            );
            return;
        }
    };
    let own = input.own_ids().len() as u32;
    assert_eq!(stats.types_before, own);
    assert_eq!(stats.types_after, once.own_ids().len() as u32);
    assert!(
        stats.types_after <= stats.types_before,
        "dedup grew the BTF from {} to {} types",
        stats.types_before,
        stats.types_after
    );
    if !opts.rebuild_strings {
        assert_eq!(
            once.own_strings().as_bytes(),
            input.own_strings().as_bytes(),
            "kept strings changed"
        );
    }

    // The result is BTF the parser takes (and a base's ids did not move), and
    // it writes and reads back the same.
    let written = once.to_bytes();
    let again = Btf::parse_split(&written, input.base().cloned())
        .unwrap_or_else(|e| panic!("the parser rejects deduplicated BTF: {e}"));
    check_parsed(&again);
    check_roundtrip(&again);
    assert_eq!(again.start_id(), input.start_id());

    // Deterministic: a second dedup of the same input gives the same bytes,
    // also through the path kbtf gen takes (the input given up, and a split
    // BTF's base candidates made beforehand, as for a batch of modules).
    let candidates = input.base().cloned().map(BaseCandidates::new);
    let twice = dedup_owned(input.clone(), opts, candidates.as_ref())
        .expect("dedup succeeded on the same input before");
    assert!(twice.to_bytes() == written, "dedup is not deterministic");

    check_prims_merged(&once);
    // Not checked: that a second dedup changes nothing. libbpf's does not
    // promise it, even without a base: the fuzzer found generated base BTF
    // that libbpf 1.1.2 (testdata/oracle/btf_dedup) shrinks again on a
    // second run. Sameness with libbpf is checked offline, on the corpus
    // (examples/dedup_libbpf.rs): libbpf cannot run in the fuzzer, as it
    // crashes on some of these inputs.
}

/// Types that reference nothing (INT, FLOAT, FWD, ENUM, ENUM64) merge when
/// equal: no two of the result's own types are equal, nor equal to a base type.
fn check_prims_merged(btf: &Btf) {
    let mut seen: HashMap<Vec<Vec<u8>>, String> = HashMap::new();
    if let Some(base) = btf.base() {
        for t in base.own_ids().filter_map(|id| base.type_by_id(id)) {
            if let Some(key) = prim_key(base, &t) {
                seen.entry(key)
                    .or_insert_with(|| format!("base [{}]", t.id()));
            }
        }
    }
    for t in btf.own_ids().filter_map(|id| btf.type_by_id(id)) {
        let Some(key) = prim_key(btf, &t) else {
            continue;
        };
        if let Some(other) = seen.insert(key, format!("[{}]", t.id())) {
            panic!(
                "{other} and [{}] are equal {:?}s that dedup kept apart",
                t.id(),
                t.kind()
            );
        }
    }
}

/// What makes two types of the primitive kinds equal: their words, with
/// names compared as strings.
fn prim_key(btf: &Btf, t: &TypeRef<'_>) -> Option<Vec<Vec<u8>>> {
    if !matches!(
        t.kind(),
        Kind::Int | Kind::Float | Kind::Fwd | Kind::Enum | Kind::Enum64
    ) {
        return None;
    }
    let strings: Vec<usize> = t.info().str_off_slots().collect();
    let key = t
        .words()
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            if strings.contains(&i) {
                let s = btf.str_at(kbtf_btf::StrOff(w)).unwrap_or_default();
                [b"s:".as_slice(), s].concat()
            } else {
                w.to_le_bytes().to_vec()
            }
        })
        .collect();
    Some(key)
}
