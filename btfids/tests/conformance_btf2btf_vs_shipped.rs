//! kbtf's resolve_btfids 7.x `--btf` mode (`kbtf_btfids::btf2btf`) against
//! what Debian sid shipped for linux 7.2.*+deb14: pahole 1.32's BTF
//! (`X.BTF.1`, made in sid's chroot by `testdata/ref-sid.sh`) and the ELF
//! file as linked must give the shipped `.BTF` and `.BTF_ids` byte for
//! byte, for the vmlinux and every module (split over the shipped vmlinux
//! `.BTF`). Skips, saying so, without the sid corpus or the references.

use std::path::PathBuf;
use std::sync::Arc;

use kbtf_btf::Btf;
use kbtf_btfids::btf2btf::btf2btf;
use kbtf_btfids::{Error, IdsElf};
use kbtf_testsupport::corpus::Corpus;
use kbtf_testsupport::elf::section;
use rayon::prelude::*;

fn find() -> Option<(Corpus, PathBuf)> {
    let corpus = Corpus::sid()?;
    let refs = Corpus::sid_references()?;
    Some((corpus, refs))
}

/// The `.BTF_ids` of an ELF file, `None` if it has none to resolve.
fn ids_elf(bytes: &[u8]) -> Option<IdsElf<'_>> {
    match IdsElf::parse(bytes) {
        Ok(e) => Some(e),
        Err(Error::NoBtfIdsSection | Error::NoSymtab) => None,
        Err(e) => panic!("{e}"),
    }
}

/// What differs between ours and the shipped sections, if anything.
fn compare(
    what: &str,
    ours_btf: &[u8],
    ours_ids: Option<&[u8]>,
    shipped: &[u8],
) -> (bool, bool, Option<String>) {
    let btf = section(shipped, ".BTF");
    let ids = section(shipped, ".BTF_ids");
    let btf_same = btf.as_deref() == Some(ours_btf);
    let ids_same = ids.as_deref() == ours_ids;
    let why = (!btf_same || !ids_same).then(|| {
        format!(
            "{what}: .BTF {} ({} vs {} bytes), .BTF_ids {}",
            if btf_same { "same" } else { "differs" },
            ours_btf.len(),
            btf.as_ref().map_or(0, Vec::len),
            if ids_same { "same" } else { "differs" },
        )
    });
    (btf_same, ids_same, why)
}

#[test]
fn sid_vmlinux_gives_the_shipped_btf_and_btf_ids() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let btf = Btf::from_file(refs.join("vmlinux.BTF.1")).unwrap();
    let fresh = std::fs::read(refs.join("vmlinux.fresh")).unwrap();
    let elf = ids_elf(&fresh).expect("the vmlinux has .BTF_ids");
    let out = btf2btf(btf, Some(&elf), &[]).unwrap_or_else(|e| panic!("{e}"));
    let ids = out.btf_ids.as_ref().map(|o| o.section.as_slice());
    let shipped = std::fs::read(corpus.vmlinux()).unwrap();
    let (_, _, why) = compare("vmlinux", &out.btf.to_bytes(), ids, &shipped);
    println!(
        "btf2btf: vmlinux: {} kfuncs rewritten for KF_IMPLICIT_ARGS ({})",
        out.rewritten.len(),
        out.rewritten.join(" ")
    );
    assert!(why.is_none(), "{}", why.unwrap_or_default());
    println!("btf2btf: vmlinux gives the shipped .BTF and .BTF_ids");
}

#[test]
fn sid_modules_give_the_shipped_btf_and_btf_ids() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let modules = corpus.modules();
    // (btf same, has .BTF_ids, .BTF_ids same, why not)
    let results: Vec<(bool, bool, bool, Option<String>)> = modules
        .par_iter()
        .map(|module| {
            let r = corpus.sid_module_reference(&refs, module);
            let (btf1, input) = (r.btf1, r.input);
            let btf =
                Btf::from_file_split(&btf1, Some(base.clone())).unwrap_or_else(|e| panic!("{e}"));
            let bytes = std::fs::read(&input).unwrap();
            let elf = ids_elf(&bytes);
            let has_ids = elf.is_some();
            let out = btf2btf(btf, elf.as_ref(), &[])
                .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            let ids = out.btf_ids.as_ref().map(|o| o.section.as_slice());
            let shipped = std::fs::read(module).unwrap();
            let name = module.display().to_string();
            let (b, i, why) = compare(&name, &out.btf.to_bytes(), ids, &shipped);
            (b, has_ids, i, why)
        })
        .collect();
    let btf_same = results.iter().filter(|r| r.0).count();
    let with_ids = results.iter().filter(|r| r.1).count();
    let ids_same = results.iter().filter(|r| r.1 && r.2).count();
    println!(
        "btf2btf: {btf_same}/{} modules give the shipped .BTF, {ids_same}/{with_ids} the shipped .BTF_ids",
        modules.len()
    );
    let why: Vec<&String> = results.iter().filter_map(|r| r.3.as_ref()).collect();
    for w in why.iter().take(20) {
        println!("  {w}");
    }
    assert_eq!(modules.len(), 1018);
    assert_eq!(with_ids, 7);
    assert!(why.is_empty(), "{} modules differ", why.len());
}

/// On files upstream already processed (each set sorted, its symbols left
/// at their old slots), kbtf reads every kfunc's flags from its own entry,
/// found through the file's own `.BTF`, so a second run gives the shipped
/// bytes again. (Upstream's second run rewrites the wrong kfuncs.)
#[test]
fn sid_processed_files_give_the_shipped_bytes_again() {
    let Some((corpus, refs)) = find() else {
        return;
    };
    let vmlinux = std::fs::read(corpus.vmlinux()).unwrap();
    let own = Btf::parse(&section(&vmlinux, ".BTF").unwrap()).unwrap();
    let btf = Btf::from_file(refs.join("vmlinux.BTF.1")).unwrap();
    let elf = ids_elf(&vmlinux).unwrap();
    let out = btf2btf(btf, Some(&elf), &[&own]).unwrap_or_else(|e| panic!("{e}"));
    let ids = out.btf_ids.as_ref().map(|o| o.section.as_slice());
    let (_, _, why) = compare("vmlinux", &out.btf.to_bytes(), ids, &vmlinux);
    assert!(why.is_none(), "{}", why.unwrap_or_default());
    let moved = out.btf_ids.as_ref().map_or(0, |o| o.moves.len());

    let base = Arc::new(own);
    let mut n = 0;
    for module in corpus.modules() {
        let bytes = std::fs::read(&module).unwrap();
        let Some(elf) = ids_elf(&bytes) else {
            continue;
        };
        let btf1 = corpus.sid_module_reference(&refs, &module).btf1;
        let own = Btf::parse_split(&section(&bytes, ".BTF").unwrap(), Some(base.clone())).unwrap();
        let btf = Btf::from_file_split(&btf1, Some(base.clone())).unwrap();
        let out = btf2btf(btf, Some(&elf), &[&own]).unwrap_or_else(|e| panic!("{e}"));
        let ids = out.btf_ids.as_ref().map(|o| o.section.as_slice());
        let name = module.display().to_string();
        let (_, _, why) = compare(&name, &out.btf.to_bytes(), ids, &bytes);
        assert!(why.is_none(), "{}", why.unwrap_or_default());
        n += 1;
    }
    println!(
        "btf2btf on the shipped (processed) files: the vmlinux ({moved} symbols moved to their \
         entries) and {n}/7 modules give the shipped .BTF and .BTF_ids again"
    );
    assert_eq!(n, 7);
}
