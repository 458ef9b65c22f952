//! The `btfids` fuzz target's seeds (btf/fuzz/seeds/btfids, see
//! testdata/FUZZING.md) are files kbtf resolves as upstream's
//! resolve_btfids does: a seed kbtf refused would seed the fuzzer with
//! error paths only.

use std::path::{Path, PathBuf};
use std::process::Command;

use kbtf_btf::input::btf_blob;
use kbtf_btf::BtfView;
use kbtf_btfids::{resolve, IdsElf, Outcome};

const UPSTREAM: &str =
    "/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids";

fn seed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../btf/fuzz/seeds/btfids")
        .join(name)
}

/// kbtf's outcome for `bytes`, against its own .BTF.
fn kbtf(bytes: &[u8]) -> (Outcome, Vec<u8>) {
    let blob = btf_blob(bytes).unwrap();
    let names = BtfView::parse(&blob).unwrap();
    let elf = IdsElf::parse(bytes).unwrap();
    let outcome = resolve(&elf, &names, &[]).unwrap();
    let patched = outcome.apply(&elf);
    (outcome, patched)
}

fn btf_ids(bytes: &[u8]) -> Vec<u8> {
    IdsElf::parse(bytes).unwrap().section_bytes().to_vec()
}

/// Upstream resolve_btfids's output for `bytes`; None (with a message)
/// where it is not installed, except under CI.
fn run_upstream(bytes: &[u8]) -> Option<Vec<u8>> {
    if !Path::new(UPSTREAM).exists() {
        kbtf_testsupport::skip_unless_ci(format!(
            "{UPSTREAM} is missing (Debian linux-kbuild-6.12.117+deb12)"
        ));
        return None;
    }
    let f = std::env::temp_dir().join(format!("kbtf-ids-seed-{}.o", std::process::id()));
    std::fs::write(&f, bytes).unwrap();
    let out = Command::new(UPSTREAM).arg(&f).output().unwrap();
    assert!(out.status.success(), "upstream resolve_btfids failed");
    let written = std::fs::read(&f).unwrap();
    let _ = std::fs::remove_file(&f);
    Some(written)
}

#[test]
fn seeds_resolve_as_upstream_resolves_them() {
    let fresh = std::fs::read(seed("ids.o")).unwrap();
    // Upstream's output, as make-btfids.sh stored it and, where the tool is
    // installed, as it writes it now.
    let mut theirs = vec![std::fs::read(seed("ids-upstream.o")).unwrap()];
    theirs.extend(run_upstream(&fresh));
    let (outcome, ours) = kbtf(&fresh);
    assert_eq!(
        outcome.warnings,
        ["resolve_btfids: unresolved symbol fuzz_missing"]
    );
    assert!(
        !outcome.moves.is_empty(),
        "the seed's sets are out of id order"
    );
    for upstream in &theirs {
        assert!(
            btf_ids(&ours) == btf_ids(upstream),
            "kbtf's .BTF_ids differs from upstream's"
        );
        // From upstream's output (stale symbols), kbtf repairs the symbols
        // and arrives at the file it makes from the fresh one.
        let (repair, repaired) = kbtf(upstream);
        assert!(!repair.notes.is_empty(), "no stale symbols noticed");
        assert!(
            repaired == ours,
            "repairing upstream's output gave another file"
        );
    }
    // The ELF32 and big-endian seeds (written by write_seeds).
    let mut classes = 0;
    for name in ["i386.o", "ppc.o", "ppc64.o"] {
        let fresh = std::fs::read(seed(name)).unwrap();
        let Some(upstream) = run_upstream(&fresh) else {
            break;
        };
        let (_, ours) = kbtf(&fresh);
        assert!(
            btf_ids(&ours) == btf_ids(&upstream),
            "{name}: .BTF_ids differs from upstream's"
        );
        classes += 1;
    }
    // Every seed (the fuzzer's finds too) resolves or is refused, without panic.
    let mut seeds = 0;
    for entry in std::fs::read_dir(seed("")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seeds += 1;
        let (Ok(elf), Ok(blob)) = (IdsElf::parse(&bytes), btf_blob(&bytes)) else {
            continue;
        };
        if let Ok(names) = BtfView::parse(&blob) {
            let _ = resolve(&elf, &names, &[]);
        }
    }
    println!(
        "ids.o resolved like upstream ({} upstream outputs), {classes} ELF32/big-endian \
         seeds too, {seeds} seeds read",
        theirs.len()
    );
}
