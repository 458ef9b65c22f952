//! kbtf's distill and relocate against libbpf 1.7.0's `btf__distill_base`
//! and `btf__relocate`, on every module of the Debian sid 7.2 corpus: the
//! module's shipped .BTF, split over the vmlinux's, is distilled; the
//! distilled `.BTF.base` and the new split must be byte-identical to
//! libbpf's, and the new split relocated back onto the vmlinux's .BTF must
//! be byte-identical to what libbpf's relocation of its own pair gives.
//! The references come from the sid chroot (`testdata/ref-distill.sh`).
//! Skips, saying so, without the sid corpus or the references.

use std::path::Path;
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

#[test]
fn sid_modules_distill_and_relocate_like_libbpf_17() {
    let Some(corpus) = Corpus::sid() else {
        return;
    };
    let Some(refs) = Corpus::sid_distill_references() else {
        return;
    };
    let vmlinux = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap_or_else(|e| panic!("{e}")));
    let (mut distilled, mut relocated, mut same_as_original) = (0, 0, 0);
    let (mut distill_refused, mut relocate_refused) = (0, 0);
    let mut failures = Vec::new();
    let modules = corpus.modules();
    for module in &modules {
        let rel = module
            .strip_prefix(corpus.vmlinux().with_file_name("modules"))
            .unwrap_or_else(|_| panic!("{} is outside the corpus", module.display()));
        let reference = |ext: &str| {
            let mut p = refs.join("modules").join(rel).into_os_string();
            p.push(format!(".{ext}"));
            std::path::PathBuf::from(p)
        };
        let split = Btf::from_file_split(module, Some(vmlinux.clone()))
            .unwrap_or_else(|e| panic!("{}: {e}", module.display()));
        let ours = split.distill_base();
        if let Some(err) = read(&reference("err")) {
            let err = String::from_utf8_lossy(&err);
            if err.starts_with("distill") {
                assert!(
                    ours.is_err(),
                    "{}: libbpf refuses to distill ({err}), kbtf does not",
                    rel.display()
                );
                distill_refused += 1;
                continue;
            }
        }
        let ours = match ours {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: kbtf refuses to distill: {e}", rel.display()));
                continue;
            }
        };
        let (Some(base), Some(new_split)) = (read(&reference("base")), read(&reference("split")))
        else {
            failures.push(format!("{}: no libbpf reference", rel.display()));
            continue;
        };
        if ours.base.to_bytes() != base {
            failures.push(format!(
                "{}: distilled base differs: {}",
                rel.display(),
                first_diff(&ours.base, &base, None)
            ));
            continue;
        }
        if ours.split.to_bytes() != new_split {
            failures.push(format!(
                "{}: new split differs: {}",
                rel.display(),
                first_diff(&ours.split, &new_split, Some(ours.base.clone()))
            ));
            continue;
        }
        distilled += 1;

        let back = ours.split.relocate(vmlinux.clone());
        let Some(reloc) = read(&reference("reloc")) else {
            assert!(
                back.is_err(),
                "{}: libbpf refuses to relocate ({}), kbtf does not",
                rel.display(),
                read(&reference("err"))
                    .map(|e| String::from_utf8_lossy(&e).into_owned())
                    .unwrap_or_default()
            );
            relocate_refused += 1;
            continue;
        };
        let back = match back {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{}: kbtf refuses to relocate: {e}", rel.display()));
                continue;
            }
        };
        if back.to_bytes() != reloc {
            failures.push(format!(
                "{}: relocated split differs: {}",
                rel.display(),
                first_diff(&back, &reloc, Some(vmlinux.clone()))
            ));
            continue;
        }
        relocated += 1;
        if reloc == split.to_bytes() {
            same_as_original += 1;
        }
    }
    println!(
        "{} sid modules: {distilled} distilled (base and split) byte-identical to libbpf 1.7, \
         {relocated} relocated onto the vmlinux byte-identical to libbpf 1.7 \
         ({same_as_original} of them equal to the module's original .BTF, as libbpf's are), \
         {distill_refused} refused to distill and {relocate_refused} to relocate by both",
        modules.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} modules differ from libbpf 1.7:\n{}",
        failures.len(),
        modules.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert_eq!(distilled + distill_refused, modules.len());
    assert_eq!(relocated + relocate_refused, distilled);
}
