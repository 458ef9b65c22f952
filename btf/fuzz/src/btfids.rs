//! The `btfids` target's checks: `.BTF_ids` resolution of arbitrary ELF
//! bytes, against the file's own `.BTF` (or, when it is split, over the
//! fixed base), as `kbtf resolve_btfids` does in place, and through
//! resolve_btfids 7.x's `--btf` mode.

use std::hint::black_box;

use kbtf_btf::input::btf_blob;
use kbtf_btf::{Btf, BtfView};
use kbtf_btfids::btf2btf::btf2btf;
use kbtf_btfids::{move_symbols, moves, patch_section, resolve, IdsElf, Outcome};

use crate::fixed_base;

/// Resolves `data`; must not panic. When it succeeds: the patches are what
/// `apply` writes, the gen-btf.sh route (blob, moves file, patch) writes the
/// same, the full BTF model resolves as the name index does, and resolving
/// the patched file again changes no byte (kbtf's promise).
pub fn check(data: &[u8]) {
    let Ok(elf) = IdsElf::parse(data) else {
        return;
    };
    let Ok(blob) = btf_blob(data) else { return };
    let base_blob = fixed_base().to_bytes();
    let Ok(base_view) = BtfView::parse(&base_blob) else {
        unreachable!("the fixed base is BTF");
    };
    let (names, base) = match BtfView::parse(&blob) {
        Ok(names) => (names, None),
        Err(_) => match BtfView::parse_split(&blob, Some(&base_view)) {
            Ok(names) => (names, Some(fixed_base())),
            Err(e) => {
                black_box(e.to_string());
                return;
            }
        },
    };
    let outcome = match resolve(&elf, &names, &[]) {
        Ok(o) => o,
        Err(e) => {
            black_box(e.to_string());
            return;
        }
    };
    black_box((&outcome.warnings, &outcome.notes));
    let patched = outcome.apply(&elf);
    check_patches(data, &elf, &outcome, &patched);
    check_patch_route(data, &elf, &outcome, &patched);

    check_btf2btf(&elf, &blob, base.clone());

    // The parsed model, where it takes the blob, gives the same ids.
    if let Ok(btf) = Btf::parse_split(&blob, base) {
        let by_model = resolve(&elf, &btf, &[]).expect("the name index resolved this file");
        assert!(
            by_model.section == outcome.section && by_model.moves == outcome.moves,
            "the BTF model and the name index resolve differently"
        );
    }

    // A second run on kbtf's own output is a fixed point.
    let elf2 = IdsElf::parse(&patched).expect("kbtf's patched file parses");
    let again = resolve(&elf2, &names, &[]).expect("kbtf's patched file resolves");
    assert!(
        again.moves.is_empty(),
        "the second run moves symbols: {:?}",
        again.moves
    );
    assert!(
        again.apply(&elf2) == patched,
        "the second run changed the file"
    );
}

/// resolve_btfids 7.x's `--btf` mode on the file's BTF: must not panic; when
/// it succeeds, a second run on the file it patched, with the BTF it wrote
/// as the one that produced the ids, gives the same BTF and `.BTF_ids`.
fn check_btf2btf(elf: &IdsElf, blob: &[u8], base: Option<std::sync::Arc<Btf>>) {
    let Ok(btf) = Btf::parse_split(blob, base) else {
        return;
    };
    let out = match btf2btf(btf.clone(), Some(elf), &[]) {
        Ok(o) => o,
        Err(e) => {
            black_box(e.to_string());
            return;
        }
    };
    let Some(outcome) = &out.btf_ids else {
        unreachable!("the file has .BTF_ids")
    };
    let patched = outcome.apply(elf);
    let elf2 = IdsElf::parse(&patched).expect("kbtf's patched file parses");
    let again = btf2btf(btf, Some(&elf2), &[&out.btf]).expect("the patched file transforms");
    assert!(
        again.btf.to_bytes() == out.btf.to_bytes(),
        "the second btf2btf run gives another BTF"
    );
    let section = again.btf_ids.map(|o| o.section);
    assert!(
        section.as_deref() == Some(&outcome.section[..]),
        "the second btf2btf run gives another .BTF_ids"
    );
}

/// `patches` describes exactly the bytes `apply` writes.
fn check_patches(data: &[u8], elf: &IdsElf, outcome: &Outcome, patched: &[u8]) {
    let mut out = data.to_vec();
    for (off, bytes) in outcome.patches(elf) {
        out[off as usize..off as usize + bytes.len()].copy_from_slice(&bytes);
    }
    assert!(out == patched, "patches() and apply() disagree");
}

/// gen-btf.sh's route: the new blob and the moves file, then
/// `--patch_btfids`, write what `apply` writes.
fn check_patch_route(data: &[u8], elf: &IdsElf, outcome: &Outcome, patched: &[u8]) {
    // The moves file is line-based text: names it cannot carry are not checked.
    let plain = |s: &kbtf_btfids::IdSymbol| {
        std::str::from_utf8(&s.name).is_ok_and(|n| !n.contains(['\n', '\r']))
    };
    if !elf.symbols.iter().all(plain) {
        return;
    }
    let text = moves::encode(elf, &outcome.section, &outcome.moves);
    let mut out = patch_section(data, &outcome.section).expect("the section is as long as before");
    let decoded = moves::decode(&text, elf, &outcome.section).expect("kbtf reads its moves file");
    move_symbols(elf, &mut out, &decoded);
    assert!(
        out == patched,
        "the --patch_btfids route writes another file"
    );
}
