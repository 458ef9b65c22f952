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

/// Small hand-made cases for the paths the corpora do not take. Each is a
/// base, a split over it and another base to relocate onto, written to
/// `btf/tests/data/distill/CASE/{base,split,onto}.btf` (which
/// `testdata/ref-distill.sh` hands libbpf).
mod cases {
    use std::sync::Arc;

    use kbtf_btf::{Btf, Info, Kind, StrOff, TypeId};

    /// One case: its name, base, split and the base to relocate onto.
    pub struct Case {
        pub name: &'static str,
        pub base: Arc<Btf>,
        pub split: Btf,
        pub onto: Btf,
    }

    fn int(btf: &mut Btf, name: &str, encoding: u8) -> TypeId {
        btf.add_int(name, 4, encoding).unwrap()
    }

    fn strukt(btf: &mut Btf, name: &str, size: u32, member: TypeId) -> TypeId {
        let s = btf.add_struct(name, size).unwrap();
        btf.add_field("x", member, 0, 0).unwrap();
        s
    }

    fn case(name: &'static str, base: Btf, split: impl FnOnce(&mut Btf), onto: Btf) -> Case {
        let base = Arc::new(base);
        let mut s = Btf::new_split(base.clone());
        split(&mut s);
        Case {
            name,
            base,
            split: s,
            onto,
        }
    }

    pub fn all() -> Vec<Case> {
        let mut out = Vec::new();

        // Two structs of one name and one size in the new base: ambiguous.
        let mut base = Btf::new();
        let i = int(&mut base, "int", 1);
        let s = strukt(&mut base, "s", 4, i);
        let mut onto = Btf::new();
        let i2 = int(&mut onto, "int", 1);
        strukt(&mut onto, "s", 4, i2);
        strukt(&mut onto, "s", 4, i2);
        out.push(case(
            "multiple-candidates",
            base,
            |sp| {
                sp.add_ptr(s).unwrap();
            },
            onto,
        ));

        // An embedded struct picks, of two of its name, the one of its size.
        let mut base = Btf::new();
        let i = int(&mut base, "int", 1);
        let s = strukt(&mut base, "s", 8, i);
        let mut onto = Btf::new();
        let c = int(&mut onto, "char", 2);
        let i2 = int(&mut onto, "int", 1);
        strukt(&mut onto, "s", 4, i2);
        strukt(&mut onto, "s", 8, c);
        out.push(case(
            "embedded-picks-by-size",
            base,
            |sp| {
                let u = sp.add_struct("u", 16).unwrap();
                sp.add_field("s", s, 0, 0).unwrap();
                sp.add_field("i", i, 64, 0).unwrap();
                sp.add_ptr(u).unwrap();
            },
            onto,
        ));

        // An anonymous INT is distilled as it is, and relocation refuses it.
        let mut base = Btf::new();
        let anon = base
            .add_type(StrOff(0), Info::new(Kind::Int, false, 0), 4, &[32])
            .unwrap();
        let mut onto = Btf::new();
        int(&mut onto, "int", 1);
        out.push(case(
            "anonymous-int",
            base,
            |sp| {
                sp.add_ptr(anon).unwrap();
            },
            onto,
        ));

        // A split DATASEC holding a base VAR: not distillable.
        let mut base = Btf::new();
        let i = int(&mut base, "int", 1);
        let v = base.add_var("v", i, 1).unwrap();
        out.push(case(
            "base-var-in-split-datasec",
            base,
            |sp| {
                sp.add_datasec(".data", 4).unwrap();
                sp.add_datasec_var(v, 0, 4).unwrap();
            },
            Btf::new(),
        ));

        // ENUM64 distilled as an 8-byte ENUM, found again as an ENUM64; a
        // FWD found as a struct; a union; a typedef and a FUNC_PROTO moved
        // into the split.
        let mut base = Btf::new();
        let i = int(&mut base, "int", 1);
        let e = base.add_enum64("e", 8, false).unwrap();
        base.add_enum_value("A", 1 << 40).unwrap();
        let f = base.add_fwd("f", false).unwrap();
        let un = base.add_union("un", 4).unwrap();
        base.add_field("x", i, 0, 0).unwrap();
        let td = base.add_typedef("un_t", un).unwrap();
        let proto = base.add_func_proto(i).unwrap();
        base.add_func_param("a", td).unwrap();
        let mut onto = Btf::new();
        let i2 = int(&mut onto, "int", 1);
        onto.add_union("un", 4).unwrap();
        onto.add_field("y", i2, 0, 0).unwrap();
        strukt(&mut onto, "f", 16, i2);
        onto.add_enum64("e", 8, true).unwrap();
        onto.add_enum_value("B", -1).unwrap();
        out.push(case(
            "enum64-fwd-union",
            base,
            |sp| {
                let u = sp.add_struct("u", 24).unwrap();
                sp.add_field("e", e, 0, 0).unwrap();
                let pf = sp.add_ptr(f).unwrap();
                let pp = sp.add_ptr(proto).unwrap();
                sp.add_struct("v", 16).unwrap();
                sp.add_field("f", pf, 0, 0).unwrap();
                sp.add_field("p", pp, 64, 0).unwrap();
                sp.add_ptr(u).unwrap();
            },
            onto,
        ));

        // A named 3-byte ENUM: libbpf's btf__add_enum refuses that size.
        let mut base = Btf::new();
        let name = base.add_str(b"odd").unwrap();
        let odd = base
            .add_type(name, Info::new(Kind::Enum, false, 0), 3, &[])
            .unwrap();
        out.push(case(
            "enum-of-3-bytes",
            base,
            |sp| {
                sp.add_ptr(odd).unwrap();
            },
            Btf::new(),
        ));

        // A distilled struct is found as a FWD of its name; with a struct of
        // that name too, it is found twice.
        for (name, with_struct) in [
            ("struct-onto-fwd", false),
            ("struct-onto-fwd-and-struct", true),
        ] {
            let mut base = Btf::new();
            let i = int(&mut base, "int", 1);
            let q = strukt(&mut base, "q", 8, i);
            let mut onto = Btf::new();
            let i2 = int(&mut onto, "int", 1);
            onto.add_fwd("q", false).unwrap();
            if with_struct {
                strukt(&mut onto, "q", 8, i2);
            }
            out.push(case(
                name,
                base,
                |sp| {
                    sp.add_ptr(q).unwrap();
                },
                onto,
            ));
        }

        // An INT of another encoding is no match.
        let mut base = Btf::new();
        let i = int(&mut base, "int", 1);
        let mut onto = Btf::new();
        int(&mut onto, "int", 0);
        out.push(case(
            "int-encoding-mismatch",
            base,
            |sp| {
                sp.add_ptr(i).unwrap();
            },
            onto,
        ));

        // A split FWD, and a FLOAT and a named struct that only the base's
        // struct members needed (not distilled).
        let mut base = Btf::new();
        let fl = base.add_float("double", 8).unwrap();
        let inner = strukt(&mut base, "inner", 8, fl);
        let outer = strukt(&mut base, "outer", 8, inner);
        let mut onto = Btf::new();
        onto.add_float("double", 8).unwrap();
        onto.add_struct("outer", 8).unwrap();
        out.push(case(
            "split-fwd-and-float",
            base,
            |sp| {
                sp.add_fwd("later", true).unwrap();
                let c = sp.add_const(fl).unwrap();
                let p = sp.add_ptr(outer).unwrap();
                sp.add_struct("w", 16).unwrap();
                sp.add_field("c", c, 0, 0).unwrap();
                sp.add_field("p", p, 64, 0).unwrap();
            },
            onto,
        ));
        out
    }
}

/// The committed case files are what [`cases::all`] builds
/// (`KBTF_WRITE_FIXTURES=1` rewrites them), so the references
/// `testdata/ref-distill.sh` makes from them match the code.
#[test]
fn distill_case_files_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/distill");
    let write = std::env::var_os("KBTF_WRITE_FIXTURES").is_some();
    for case in cases::all() {
        let be = kbtf_btf::Endian::Big;
        let files = [
            ("base.btf", case.base.to_bytes()),
            ("split.btf", case.split.to_bytes()),
            ("onto.btf", case.onto.to_bytes()),
            ("base-be.btf", case.base.to_bytes_endian(be)),
            ("split-be.btf", case.split.to_bytes_endian(be)),
            ("onto-be.btf", case.onto.to_bytes_endian(be)),
        ];
        for (file, bytes) in files {
            let path = dir.join(case.name).join(file);
            if write {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            assert_eq!(
                std::fs::read(&path).ok(),
                Some(bytes),
                "{} is not what the case builds (KBTF_WRITE_FIXTURES=1 rewrites it)",
                path.display()
            );
        }
    }
}

/// Whether kbtf's error `ours` matches libbpf's refusal `err` (an .err
/// file): kbtf refuses too, naming the type libbpf's warning names, if any.
fn same_refusal(err: &[u8], ours: Option<kbtf_btf::Error>) -> Result<(), String> {
    let err = String::from_utf8_lossy(err);
    let theirs = err.lines().nth(1).and_then(named_id);
    match (ours, theirs) {
        (None, _) => Err(format!("libbpf refuses ({}), kbtf does not", err.trim())),
        (Some(kbtf_btf::Error::Invalid { id, .. }), Some(t)) if id.0 == t => Ok(()),
        (Some(_), None) => Ok(()),
        (Some(e), _) => Err(format!(
            "both refuse, libbpf naming {theirs:?} ({}), kbtf: {e}",
            err.trim()
        )),
    }
}

/// The hand-made cases against libbpf 1.7: distilled base and split,
/// relocation back and onto the case's other base; the same bytes, or a
/// refusal by both naming the type libbpf's warning names (when it names
/// one). Each case twice: little-endian, and big-endian (read from the
/// case's `-be` files, as libbpf reads them).
#[test]
fn distill_cases_like_libbpf_17() {
    let Some(refs) = Corpus::sid_distill_references() else {
        return;
    };
    let (mut same, mut refused) = (0, 0);
    let mut failures = Vec::new();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/distill");
    let big_endian = cases::all().into_iter().map(|c| {
        let dir = data.join(c.name);
        let base = Arc::new(Btf::parse(&std::fs::read(dir.join("base-be.btf")).unwrap()).unwrap());
        let split = std::fs::read(dir.join("split-be.btf")).unwrap();
        let onto = Btf::parse(&std::fs::read(dir.join("onto-be.btf")).unwrap()).unwrap();
        let split = Btf::parse_split(&split, Some(base.clone())).unwrap();
        assert_eq!(split.endian(), kbtf_btf::Endian::Big);
        (
            "split-be.btf",
            cases::Case {
                name: c.name,
                base,
                split,
                onto,
            },
        )
    });
    let little_endian = cases::all().into_iter().map(|c| ("split.btf", c));
    for (file, case) in little_endian.chain(big_endian.collect::<Vec<_>>()) {
        let name = format!("{} ({file})", case.name);
        let dir = refs.join("cases").join(case.name);
        let ref_file = |set: &str, ext: &str| read(&dir.join(set).join(format!("{file}.{ext}")));
        let distilled = case.split.distill_base();
        if let Some(err) = ref_file("back", "err").filter(|e| e.starts_with(b"distill")) {
            match same_refusal(&err, distilled.err()) {
                Ok(()) => refused += 1,
                Err(e) => failures.push(format!("{name}: distill: {e}")),
            }
            continue;
        }
        let d = match distilled {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{name}: kbtf refuses to distill: {e}"));
                continue;
            }
        };
        if Some(d.base.to_bytes()) != ref_file("back", "base")
            || Some(d.split.to_bytes()) != ref_file("back", "split")
        {
            failures.push(format!("{name}: distilled base or split differs"));
            continue;
        }
        same += 1;
        let onto = Arc::new(case.onto);
        for (set, target) in [("back", case.base.clone()), ("onto", onto)] {
            let ours = d.split.relocate(target);
            match (ref_file(set, "reloc"), ref_file(set, "err"), ours) {
                (Some(theirs), _, Ok(ours)) if ours.to_bytes() == theirs => same += 1,
                (Some(_), _, Ok(_)) => failures.push(format!("{name}: relocated ({set}) differs")),
                (Some(_), _, Err(e)) => {
                    failures.push(format!("{name}: kbtf refuses to relocate ({set}): {e}"))
                }
                (None, Some(err), ours) => match same_refusal(&err, ours.err()) {
                    Ok(()) => refused += 1,
                    Err(e) => failures.push(format!("{name}: relocate ({set}): {e}")),
                },
                (None, None, _) => failures.push(format!("{name}: no libbpf reference for {set}")),
            }
        }
    }
    println!(
        "{} hand-made cases, little- and big-endian: {same} results byte-identical to libbpf 1.7, \
         {refused} refused by both",
        cases::all().len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every hand-made case's distilled split relocated onto every case's
/// bases: relocation of a split onto an unrelated base answers (a BTF or
/// an error), never panics, and what it gives parses back over that base.
#[test]
fn relocation_onto_any_base_answers_without_panicking() {
    let all = cases::all();
    let targets: Vec<Arc<Btf>> = all
        .iter()
        .flat_map(|c| [c.base.clone(), Arc::new(c.onto.clone())])
        .collect();
    let (mut relocated, mut refused) = (0, 0);
    for case in &all {
        let Ok(d) = case.split.distill_base() else {
            continue;
        };
        for target in &targets {
            match d.split.relocate(target.clone()) {
                Ok(r) => {
                    Btf::parse_split(&r.to_bytes(), Some(target.clone()))
                        .unwrap_or_else(|e| panic!("{}: relocated split: {e}", case.name));
                    relocated += 1;
                }
                Err(_) => refused += 1,
            }
        }
    }
    println!("{relocated} relocations parse back over their base, {refused} refused");
    assert!(relocated > 0 && refused > 0);
}

/// Splits of the hand-made cases with one byte changed (2,000 each,
/// deterministic): whatever parses, distill and relocation answer without
/// panicking.
#[test]
fn mutated_splits_distill_and_relocate_without_panicking() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    let (mut parsed, mut distilled, mut relocated) = (0, 0, 0);
    for case in cases::all() {
        let blob = case.split.to_bytes();
        let onto = Arc::new(case.onto.clone());
        for _ in 0..2000 {
            let mut m = blob.clone();
            let at = 24 + next() % (m.len() - 24);
            m[at] ^= 1 << (next() % 8);
            let Ok(split) = Btf::parse_split(&m, Some(case.base.clone())) else {
                continue;
            };
            parsed += 1;
            let Ok(d) = split.distill_base() else {
                continue;
            };
            distilled += 1;
            for target in [case.base.clone(), onto.clone()] {
                if d.split.relocate(target).is_ok() {
                    relocated += 1;
                }
            }
        }
    }
    println!("mutated splits: {parsed} parsed, {distilled} distilled, {relocated} relocations");
    assert!(distilled > 0);
}
