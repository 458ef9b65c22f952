//! Corrupt input never panics the parser, and whatever it accepts is safe to
//! use: every view works, every referenced id and string resolves, and
//! writing then re-reading gives the same blob.
//!
//! Two inputs: a small base BTF with every kind, built here, and a real
//! module of the corpus parsed as split BTF over the corpus vmlinux. Both are
//! cut at every point and mutated by thousands of seeded (so reproducible)
//! bit flips and word overwrites. Every accepted mutant is also written as a
//! C header (its own types as roots), which may fail but never panics.

use kbtf_testsupport::corpus;
mod fixtures;

use std::sync::Arc;

use fixtures::every_kind;
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::{dump, Btf, Kind, StrOff, TypeId};

fn corpus_vmlinux(corpus: &corpus::Corpus) -> Arc<Btf> {
    Arc::new(Btf::from_file(corpus.vmlinux()).unwrap())
}

/// A small real module with structs, unions, enums, functions and arrays.
fn corpus_module(corpus: &corpus::Corpus) -> Vec<u8> {
    let bytes = FileBytes::open(&corpus.module("xt_policy.ko")).unwrap();
    btf_blob(&bytes).unwrap().into_owned()
}

/// Touches everything a user of an accepted BTF may touch; panics (failing
/// the test) where the parser let through something that is not usable.
/// Own types only: a split BTF's base is trusted input.
fn exercise(btf: &Btf, what: &str) {
    for id in btf.own_ids() {
        let t = btf
            .type_by_id(id)
            .unwrap_or_else(|| panic!("{what}: id {id} below type_count has no type"));
        assert_eq!(t.id(), id);
        let _ = (t.kind(), t.vlen(), t.kind_flag(), t.size(), t.type_id());
        let _ = (
            t.int(),
            t.array(),
            t.var_linkage(),
            t.decl_tag_component_idx(),
        );
        let counted = t.members().count()
            + t.enum_values().count()
            + t.enum64_values().count()
            + t.params().count()
            + t.datasec_vars().count();
        match t.kind() {
            Kind::Struct
            | Kind::Union
            | Kind::Enum
            | Kind::Enum64
            | Kind::FuncProto
            | Kind::Datasec => assert_eq!(counted, t.vlen() as usize, "{what}: [{id}]"),
            _ => assert_eq!(counted, 0, "{what}: [{id}]"),
        }
        let words = t.words();
        for slot in t.info().type_id_slots() {
            let target = TypeId(words[slot]);
            assert!(
                target == TypeId::VOID || btf.type_by_id(target).is_some(),
                "{what}: [{id}] refers to missing type {target}"
            );
        }
        for slot in t.info().str_off_slots() {
            assert!(
                btf.str_at(StrOff(words[slot])).is_some(),
                "{what}: [{id}] has a dangling string offset {}",
                words[slot]
            );
        }
        let _ = btf.name(t.name_off());
        if t.kind() == Kind::Func {
            assert_eq!(
                btf.get(t.type_id()).map(|p| p.kind()).ok(),
                Some(Kind::FuncProto),
                "{what}: [{id}]"
            );
        }
    }
    let _ = btf.find_by_name_kind(b"no such name", Kind::Struct);
}

/// A writer that fails past a few MiB: a mutated size can ask for a header
/// of many gigabytes, which the dump writes as bpftool would.
struct Capped(usize);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        if self.0 > 8 << 20 {
            return Err(std::io::Error::other("capped"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The C header of a BTF's own types (and what they need), into [`Capped`];
/// errors are fine, panics are not.
fn c_dump(btf: &Btf) {
    let opts = dump::COptions {
        roots: btf.own_ids().collect(),
        ..dump::COptions::default()
    };
    let _ = dump::write_c(btf, &opts, Capped(0));
    // bpftool 7.8's whole header sorts every type and reads every decl
    // tag, base types included: only where that is cheap on every mutant.
    if btf.type_count() < 10_000 {
        let opts = dump::COptions {
            bpftool: dump::BpftoolVersion::V7_8,
            ..dump::COptions::default()
        };
        let _ = dump::write_c(btf, &opts, Capped(0));
    }
}

/// Writes an accepted BTF and reads it back: the result must be accepted,
/// hold the same records, and write the same bytes, in both byte orders.
fn round_trip(btf: &Btf, base: Option<&Arc<Btf>>, what: &str) -> Vec<u8> {
    let out = btf.to_bytes();
    let again = Btf::parse_split(&out, base.cloned())
        .unwrap_or_else(|e| panic!("{what}: own output rejected: {e}"));
    assert_eq!(again.type_count(), btf.type_count(), "{what}");
    for id in btf.own_ids() {
        assert_eq!(
            again.type_by_id(id).map(|t| t.words()),
            btf.type_by_id(id).map(|t| t.words()),
            "{what}: [{id}]"
        );
    }
    assert!(again.to_bytes() == out, "{what}: rewrite differs");
    let swapped = btf.to_bytes_endian(btf.endian().other());
    let back = Btf::parse_split(&swapped, base.cloned())
        .unwrap_or_else(|e| panic!("{what}: own swapped output rejected: {e}"));
    assert!(
        back.to_bytes_endian(btf.endian()) == out,
        "{what}: swap differs"
    );
    out
}

/// Every strict prefix of `blob` is rejected, without a panic.
fn every_prefix_is_rejected(blob: &[u8], base: Option<&Arc<Btf>>, what: &str) -> usize {
    for len in 0..blob.len() {
        let r = Btf::parse_split(&blob[..len], base.cloned());
        assert!(r.is_err(), "{what}: prefix of {len} bytes accepted");
    }
    blob.len()
}

/// Cuts the type section (or the string section) short while keeping the
/// header consistent, so the cut reaches the record and string checks
/// rather than the section bounds. A cut inside a record must be rejected.
fn every_section_cut(
    blob: &[u8],
    base: Option<&Arc<Btf>>,
    record_ends: &[u32],
    what: &str,
) -> usize {
    let le = |at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().unwrap());
    let (hdr_len, type_len, str_off, str_len) = (le(4) as usize, le(12), le(16), le(20));
    assert_eq!(le(8), 0, "{what}: fixture must have types first");
    let strings = &blob[hdr_len + str_off as usize..][..str_len as usize];
    let mut cuts = 0;
    for cut in (0..type_len).step_by(4) {
        let mut b = blob[..hdr_len + cut as usize].to_vec();
        b[12..16].copy_from_slice(&cut.to_le_bytes());
        b[16..20].copy_from_slice(&cut.to_le_bytes());
        b.extend_from_slice(strings);
        let r = Btf::parse_split(&b, base.cloned());
        if let Ok(btf) = &r {
            assert!(
                record_ends.contains(&cut),
                "{what}: type section cut at {cut} accepted"
            );
            exercise(btf, what);
            round_trip(btf, base, what);
        }
        cuts += 1;
    }
    for cut in 0..str_len {
        let mut b = blob[..hdr_len + str_off as usize + cut as usize].to_vec();
        b[20..24].copy_from_slice(&cut.to_le_bytes());
        if let Ok(btf) = Btf::parse_split(&b, base.cloned()) {
            exercise(&btf, what);
            round_trip(&btf, base, what);
        }
        cuts += 1;
    }
    cuts
}

/// Byte offsets (in the type section) at which a record ends.
fn record_ends(btf: &Btf) -> Vec<u32> {
    let mut at = 0;
    let mut ends = vec![0];
    for t in btf.own_types() {
        at += t.words().len() as u32 * 4;
        ends.push(at);
    }
    ends
}

/// xorshift64*: a fixed, seeded sequence, the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values worth writing over a word: limits of each field and just past them.
fn absurd_word(rng: &mut Rng, btf: &Btf) -> u32 {
    let last_id = btf.type_count() - 1;
    let str_end = btf.str_end();
    let kind = rng.below(0x80) as u32;
    let candidates = [
        0,
        1,
        0x00ff_ffff,                      // vlen at its maximum
        0x7f00_0000,                      // kind 0x7f
        kind << 24,                       // any kind, vlen 0
        kind << 24 | rng.below(4) as u32, // any kind, small vlen
        0x8000_0000 | kind << 24 | 1,     // with kind_flag
        u32::MAX,
        u32::MAX - 3,
        u32::MAX - rng.below(64) as u32,
        0x7fff_ffff,
        last_id,
        last_id + 1,
        str_end - 1,
        str_end,
        rng.next() as u32,
    ];
    candidates[rng.below(candidates.len())]
}

/// Mutates `blob` a few times; returns whether only data (not the header) changed.
fn mutate(rng: &mut Rng, blob: &mut [u8], btf: &Btf) -> bool {
    let mut header_intact = true;
    for _ in 0..1 + rng.below(3) {
        let at = match rng.below(2) {
            0 => {
                let at = rng.below(blob.len());
                blob[at] ^= 1 << rng.below(8);
                at
            }
            _ => {
                let at = rng.below(blob.len() / 4) * 4;
                let w = absurd_word(rng, btf);
                blob[at..at + 4].copy_from_slice(&w.to_le_bytes());
                at
            }
        };
        header_intact &= at >= 24;
    }
    header_intact
}

/// Parses `rounds` mutants of `blob`; returns how many were accepted.
fn fuzz(blob: &[u8], base: Option<&Arc<Btf>>, seed: u64, rounds: usize, what: &str) -> usize {
    let pristine = Btf::parse_split(blob, base.cloned()).unwrap();
    let mut rng = Rng(seed);
    let mut accepted = 0;
    for round in 0..rounds {
        let mut b = blob.to_vec();
        let header_intact = mutate(&mut rng, &mut b, &pristine);
        let what = format!("{what} mutant {round} (seed {seed:#x})");
        // The checker takes any blob, parsed or not, without panicking.
        let _ = kbtf_btf::check::check_blob(&b, base);
        let Ok(btf) = Btf::parse_split(&b, base.cloned()) else {
            continue;
        };
        accepted += 1;
        exercise(&btf, &what);
        // The C dump takes any accepted BTF without panicking.
        c_dump(&btf);
        let out = round_trip(&btf, base, &what);
        // The writer lays sections out as the fixture does, so an accepted
        // mutant whose header is untouched must come back byte for byte.
        if header_intact {
            assert!(out == b, "{what}: rewrite differs from the input");
        }
    }
    accepted
}

#[test]
fn built_base_every_kind() {
    let btf = every_kind();
    let blob = btf.to_bytes();
    let parsed = Btf::parse(&blob).unwrap();
    exercise(&parsed, "every kind");
    c_dump(&parsed);
    assert!(round_trip(&parsed, None, "every kind") == blob);
    let kinds: std::collections::BTreeSet<u8> =
        parsed.own_types().map(|t| t.kind().raw()).collect();
    assert_eq!(kinds.len(), 19, "fixture must hold every kind: {kinds:?}");

    let prefixes = every_prefix_is_rejected(&blob, None, "every kind");
    let cuts = every_section_cut(&blob, None, &record_ends(&parsed), "every kind");
    let rounds = 20_000;
    let accepted = fuzz(&blob, None, 0x6b62_7466, rounds, "every kind");
    println!(
        "every-kind base BTF ({} bytes): {prefixes} prefixes rejected, {cuts} section cuts, \
         {rounds} mutants of which {accepted} accepted and checked",
        blob.len()
    );
    assert!(accepted > 0 && accepted < rounds);
}

#[test]
fn corpus_module_split_over_vmlinux() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let base = corpus_vmlinux(&corpus);
    let blob = corpus_module(&corpus);
    let parsed = Btf::parse_split(&blob, Some(base.clone())).unwrap();
    exercise(&parsed, "xt_policy.ko");
    assert!(round_trip(&parsed, Some(&base), "xt_policy.ko") == blob);

    let prefixes = every_prefix_is_rejected(&blob, Some(&base), "xt_policy.ko");
    // As base BTF it is rejected whole (its strings do not start with ""),
    // and so is every prefix.
    every_prefix_is_rejected(&blob, None, "xt_policy.ko as base");
    let err = Btf::parse(&blob).unwrap_err().to_string();
    assert!(
        err.contains("a base BTF's strings must start with the empty string"),
        "{err}"
    );
    let cuts = every_section_cut(&blob, Some(&base), &record_ends(&parsed), "xt_policy.ko");
    let rounds = 10_000;
    let accepted = fuzz(&blob, Some(&base), 0x6d6f_6475_6c65, rounds, "xt_policy.ko");
    println!(
        "xt_policy.ko split BTF ({} bytes): {prefixes} prefixes rejected, {cuts} section cuts, \
         {rounds} mutants of which {accepted} accepted and checked",
        blob.len()
    );
    assert!(accepted > 0 && accepted < rounds);
}

/// Sections that overlap would let one byte be read as a type and as a
/// string; libbpf rejects a type section that runs past the string section's
/// start, and so must kbtf.
#[test]
fn overlapping_sections_are_rejected() {
    let blob = every_kind().to_bytes();
    let le = |at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().unwrap());
    let (str_off, str_len) = (le(16), le(20));
    // The last type word is ENUM64's high half, 0x100: its first byte is a
    // NUL, so the strings would still start with "".
    assert_eq!(blob[24 + str_off as usize - 4], 0);
    let mut b = blob.clone();
    b[16..20].copy_from_slice(&(str_off - 4).to_le_bytes());
    b[20..24].copy_from_slice(&(str_len + 4).to_le_bytes());
    let err = Btf::parse(&b).unwrap_err().to_string();
    assert!(err.contains("overlaps the string section"), "{err}");
}
