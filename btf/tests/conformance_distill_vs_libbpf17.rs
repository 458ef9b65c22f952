//! kbtf's distill and relocate against libbpf 1.7.0's `btf__distill_base`
//! and `btf__relocate`, on every module of two corpora (Debian sid 7.2 and
//! bookworm 6.12): each module's shipped .BTF, split over its vmlinux's, is
//! distilled; the distilled `.BTF.base` and the new split must be
//! byte-identical to libbpf's, and the new split relocated back onto the
//! vmlinux's .BTF must be byte-identical to libbpf's relocation of its own
//! pair. Then the distilled splits are relocated onto another kernel's BTF:
//! bookworm's onto trixie's 6.12 (same kernel, other pahole, other ids),
//! which libbpf relocates, and sid's onto bookworm's, which libbpf refuses;
//! kbtf must give the same bytes, or refuse naming the same type.
//! The references come from the sid chroot (`testdata/ref-distill.sh`).
//! Skips, saying so, without a corpus or the references.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kbtf_btf::Btf;
use kbtf_testsupport::corpus::Corpus;

/// The first own type at which two blobs (parsed over their bases) differ.
fn first_diff(ours: &Btf, theirs: &[u8], base: Option<Arc<Btf>>) -> String {
    let theirs = match Btf::parse_split(theirs, base) {
        Ok(t) => t,
        Err(e) => return format!("libbpf's does not parse: {e}"),
    };
    for id in ours.own_ids() {
        let a = ours.type_by_id(id).map(|t| t.words().to_vec());
        let b = theirs.type_by_id(id).map(|t| t.words().to_vec());
        if a != b {
            return format!("first differing type [{id}]: ours {a:?}, libbpf's {b:?}");
        }
    }
    format!(
        "types {} vs {}, strings {} vs {} bytes",
        ours.type_count(),
        theirs.type_count(),
        ours.own_strings().len(),
        theirs.own_strings().len()
    )
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// The first `[N]` of libbpf's warning: the type it names.
fn named_id(warning: &str) -> Option<u32> {
    let start = warning.find('[')? + 1;
    let len = warning[start..].find(']')?;
    warning[start..start + len].parse().ok()
}

/// The reference directory of `set`, after checking that the references
/// were made against the kernel `vmlinux` is.
fn set_dir(refs: &Path, set: &str, vmlinux: &Path) -> PathBuf {
    let kernels = std::fs::read_to_string(refs.join("kernels.list")).unwrap();
    let kernel = kernels
        .lines()
        .find_map(|l| l.strip_prefix(set)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("kernels.list has no set {set}"));
    // The corpus's own link, as the script read it (not the link's target,
    // which may be another link).
    let ours = std::fs::read_link(vmlinux).unwrap_or_else(|_| vmlinux.to_owned());
    assert_eq!(
        ours.file_name().unwrap().to_string_lossy(),
        kernel,
        "the references of {set} were made against another kernel than the corpus has"
    );
    refs.join(set)
}

/// `module`'s reference file with extension `ext` in `dir`.
fn reference(dir: &Path, corpus: &Corpus, module: &Path, ext: &str) -> PathBuf {
    let rel = module
        .strip_prefix(corpus.vmlinux().with_file_name("modules"))
        .unwrap_or_else(|_| panic!("{} is outside the corpus", module.display()));
    let mut p = dir.join(rel).into_os_string();
    p.push(format!(".{ext}"));
    PathBuf::from(p)
}

fn load_vmlinux(corpus: &Corpus) -> Arc<Btf> {
    Arc::new(Btf::from_file(corpus.vmlinux()).unwrap_or_else(|e| panic!("{e}")))
}

/// Every module of `corpus` distilled and relocated back, against `set`.
fn distill_like_libbpf(corpus: &Corpus, refs: &Path, set: &str) {
    let dir = set_dir(refs, set, &corpus.vmlinux());
    let vmlinux = load_vmlinux(corpus);
    let (mut distilled, mut relocated, mut same_as_original) = (0, 0, 0);
    let (mut distill_refused, mut relocate_refused) = (0, 0);
    let mut failures = Vec::new();
    let modules = corpus.modules();
    for module in &modules {
        let reference = |ext: &str| reference(&dir, corpus, module, ext);
        let name = module.display();
        let split = Btf::from_file_split(module, Some(vmlinux.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = split.distill_base();
        let err = read(&reference("err")).map(|e| String::from_utf8_lossy(&e).into_owned());
        if let Some(err) = err.as_deref().filter(|e| e.starts_with("distill")) {
            match ours {
                Ok(_) => failures.push(format!("{name}: libbpf refuses to distill ({err})")),
                Err(_) => distill_refused += 1,
            }
            continue;
        }
        let ours = match ours {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{name}: kbtf refuses to distill: {e}"));
                continue;
            }
        };
        let (Some(base), Some(new_split)) = (read(&reference("base")), read(&reference("split")))
        else {
            failures.push(format!("{name}: no libbpf reference"));
            continue;
        };
        if ours.base.to_bytes() != base {
            let diff = first_diff(&ours.base, &base, None);
            failures.push(format!("{name}: distilled base differs: {diff}"));
            continue;
        }
        if ours.split.to_bytes() != new_split {
            let diff = first_diff(&ours.split, &new_split, Some(ours.base.clone()));
            failures.push(format!("{name}: new split differs: {diff}"));
            continue;
        }
        distilled += 1;

        let back = ours.split.relocate(vmlinux.clone());
        let Some(reloc) = read(&reference("reloc")) else {
            match back {
                Ok(_) => failures.push(format!(
                    "{name}: libbpf refuses to relocate ({}), kbtf does not",
                    err.unwrap_or_default()
                )),
                Err(_) => relocate_refused += 1,
            }
            continue;
        };
        match back {
            Ok(back) if back.to_bytes() == reloc => {
                relocated += 1;
                if reloc == split.to_bytes() {
                    same_as_original += 1;
                }
            }
            Ok(back) => {
                let diff = first_diff(&back, &reloc, Some(vmlinux.clone()));
                failures.push(format!("{name}: relocated split differs: {diff}"));
            }
            Err(e) => failures.push(format!("{name}: kbtf refuses to relocate: {e}")),
        }
    }
    println!(
        "{set}: {} modules: {distilled} distilled (base and split) byte-identical to libbpf 1.7, \
         {relocated} relocated back onto the vmlinux byte-identical to libbpf 1.7 \
         ({same_as_original} of them equal to the module's original .BTF, as libbpf's are), \
         {distill_refused} refused to distill and {relocate_refused} to relocate by both",
        modules.len()
    );
    assert!(
        failures.is_empty(),
        "{set}: {} of {} modules differ from libbpf 1.7:\n{}",
        failures.len(),
        modules.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert_eq!(distilled + distill_refused, modules.len());
    assert_eq!(relocated + relocate_refused, distilled);
}

/// Every module of `corpus` distilled and relocated onto `onto`'s vmlinux,
/// against `set`: the same bytes where libbpf relocates, a refusal naming
/// the type libbpf's warning names where it does not.
fn relocate_onto_like_libbpf(corpus: &Corpus, onto: &Corpus, refs: &Path, set: &str) {
    let dir = set_dir(refs, set, &onto.vmlinux());
    let vmlinux = load_vmlinux(corpus);
    let target = load_vmlinux(onto);
    let (mut relocated, mut refused) = (0, 0);
    let mut failures = Vec::new();
    let modules = corpus.modules();
    for module in &modules {
        let reference = |ext: &str| reference(&dir, corpus, module, ext);
        let name = module.display();
        let split = Btf::from_file_split(module, Some(vmlinux.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let distilled = split
            .distill_base()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = distilled.split.relocate(target.clone());
        match (read(&reference("reloc")), read(&reference("err")), ours) {
            (Some(theirs), _, Ok(ours)) if ours.to_bytes() == theirs => relocated += 1,
            (Some(theirs), _, Ok(ours)) => {
                let diff = first_diff(&ours, &theirs, Some(target.clone()));
                failures.push(format!("{name}: relocated split differs: {diff}"));
            }
            (Some(_), _, Err(e)) => {
                failures.push(format!("{name}: kbtf refuses, libbpf does not: {e}"))
            }
            (None, Some(err), ours) => {
                let err = String::from_utf8_lossy(&err);
                let theirs = err.lines().nth(1).and_then(named_id);
                match ours {
                    Ok(_) => failures.push(format!(
                        "{name}: libbpf refuses ({}), kbtf does not",
                        err.trim()
                    )),
                    Err(kbtf_btf::Error::Invalid { id, .. }) if Some(id.0) == theirs => {
                        refused += 1
                    }
                    Err(e) => failures.push(format!(
                        "{name}: libbpf refuses naming [{theirs:?}] ({}); kbtf: {e}",
                        err.trim()
                    )),
                }
            }
            (None, None, _) => failures.push(format!("{name}: no libbpf reference")),
        }
    }
    println!(
        "{set}: {} modules distilled and relocated onto another kernel: {relocated} \
         byte-identical to libbpf 1.7, {refused} refused by both naming the same type",
        modules.len(),
    );
    assert!(
        failures.is_empty(),
        "{set}: {} of {} modules differ from libbpf 1.7:\n{}",
        failures.len(),
        modules.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert_eq!(relocated + refused, modules.len());
}

#[test]
fn sid_modules_distill_and_relocate_like_libbpf_17() {
    let (Some(sid), Some(refs)) = (Corpus::sid(), Corpus::sid_distill_references()) else {
        return;
    };
    distill_like_libbpf(&sid, &refs, "sid");
}

#[test]
fn bookworm_modules_distill_and_relocate_like_libbpf_17() {
    let (Some(bookworm), Some(refs)) = (Corpus::find(), Corpus::sid_distill_references()) else {
        return;
    };
    distill_like_libbpf(&bookworm, &refs, "bookworm");
}

/// Same kernel, other pahole: every distilled type is found, at other ids.
#[test]
fn bookworm_modules_relocate_onto_trixie_like_libbpf_17() {
    let (Some(bookworm), Some(trixie), Some(refs)) = (
        Corpus::find(),
        Corpus::trixie(),
        Corpus::sid_distill_references(),
    ) else {
        return;
    };
    relocate_onto_like_libbpf(&bookworm, &trixie, &refs, "bookworm-onto-trixie");
}

/// Another kernel: embedded structs changed size or went away.
#[test]
fn sid_modules_relocate_onto_bookworm_like_libbpf_17() {
    let (Some(sid), Some(bookworm), Some(refs)) = (
        Corpus::sid(),
        Corpus::find(),
        Corpus::sid_distill_references(),
    ) else {
        return;
    };
    relocate_onto_like_libbpf(&sid, &bookworm, &refs, "sid-onto-bookworm");
}
