//! resolve_btfids 7.x's `--btf` transform ([`kbtf_btfids::btf2btf`]) on
//! small ELF files built here: which set8 decides a kfunc's flags, the
//! `KF_IMPLICIT_ARGS` rewrite, the sort, a second run on the output, and
//! the refusal of a kfunc whose BTF cannot be rewritten; and the same files
//! through resolve_btfids 7.2 in the sid chroot (`testdata/chroot-sid.sh`;
//! skipped, saying so, without it or without root).

use std::path::{Path, PathBuf};
use std::process::Command;

use kbtf_btf::{linkage, Btf, Kind, TypeId};
use kbtf_btfids::btf2btf::btf2btf;
use kbtf_btfids::kfunc::KF_IMPLICIT_ARGS;
use kbtf_btfids::{Error, IdsElf};
use object::write::{Object, Symbol, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};

/// `int k(int a, struct bpf_prog_aux *aux)` and `int plain(int a,
/// struct bpf_prog_aux *aux)`, both tagged `bpf_kfunc`, `k` also `bpf_fastcall`.
fn btf() -> Btf {
    let mut b = Btf::new();
    let int = b.add_int("int", 4, 0).unwrap();
    let aux = b.add_struct("bpf_prog_aux", 8).unwrap();
    let ptr = b.add_ptr(aux).unwrap();
    for name in ["plain", "k"] {
        let proto = b.add_func_proto(int).unwrap();
        b.add_func_param("a", int).unwrap();
        b.add_func_param("aux", ptr).unwrap();
        let f = b.add_func(name, proto, linkage::GLOBAL).unwrap();
        b.add_decl_tag("bpf_kfunc", f, None).unwrap();
        if name == "k" {
            b.add_decl_tag("bpf_fastcall", f, None).unwrap();
        }
    }
    b
}

/// Two set8s, `set_a` then `set_b`, each holding `k` and `plain` with the given flags.
fn elf(flags_a: [u32; 2], flags_b: [u32; 2]) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let ids = obj.add_section(Vec::new(), b".BTF_ids".to_vec(), object::SectionKind::Data);
    let mut words: Vec<u32> = Vec::new();
    let mut symbols: Vec<(String, u64, u64)> = Vec::new();
    for (set, flags) in [("set_a", flags_a), ("set_b", flags_b)] {
        let at = words.len() as u64 * 4;
        symbols.push((format!("__BTF_ID__set8__{set}"), at, 24));
        words.extend([0, 1]);
        for (i, (name, f)) in ["k", "plain"].iter().zip(flags).enumerate() {
            symbols.push((
                format!("__BTF_ID__func__{name}__{}", symbols.len()),
                at + 8 + 8 * i as u64,
                4,
            ));
            words.extend([0, f]);
        }
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    obj.set_section_data(ids, bytes, 4);
    for (name, value, size) in symbols {
        obj.add_symbol(Symbol {
            name: name.into_bytes(),
            value,
            size,
            kind: SymbolKind::Data,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(ids),
            flags: SymbolFlags::None,
        });
    }
    obj.write().unwrap()
}

fn params(btf: &Btf, func: &str) -> usize {
    let f = btf.find_by_name_kind(func.as_bytes(), Kind::Func).unwrap();
    btf.get(btf.get(f).unwrap().type_id()).unwrap().vlen() as usize
}

#[test]
fn the_set8_with_the_greatest_name_decides_the_flags() {
    // set_b says KF_IMPLICIT_ARGS for k: k is rewritten.
    let bytes = elf([0, 0], [KF_IMPLICIT_ARGS, 0]);
    let ids = IdsElf::parse(&bytes).unwrap();
    let out = btf2btf(btf(), Some(&ids), &[]).unwrap();
    assert_eq!(out.rewritten, ["k"]);
    assert_eq!(params(&out.btf, "k"), 1);
    assert_eq!(params(&out.btf, "k_impl"), 2);
    assert_eq!(params(&out.btf, "plain"), 2);
    assert!(out
        .btf
        .find_by_name_kind(b"plain_impl", Kind::Func)
        .is_none());

    // Only set_a says it: set_b, walked first, gives k no flags.
    let bytes = elf([KF_IMPLICIT_ARGS, 0], [0, 0]);
    let ids = IdsElf::parse(&bytes).unwrap();
    let out = btf2btf(btf(), Some(&ids), &[]).unwrap();
    assert!(out.rewritten.is_empty());
    assert_eq!(params(&out.btf, "k"), 2);
}

#[test]
fn output_is_sorted_resolved_and_a_fixed_point() {
    let bytes = elf([KF_IMPLICIT_ARGS, 1], [KF_IMPLICIT_ARGS, 1 << 12]);
    let ids = IdsElf::parse(&bytes).unwrap();
    let out = btf2btf(btf(), Some(&ids), &[]).unwrap();
    let b = &out.btf;
    let names: Vec<String> = b
        .own_types()
        .map(|t| b.name(t.name_off()).into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "types sorted by name");
    // k_impl got k's tags but bpf_kfunc.
    let k_impl = b.find_by_name_kind(b"k_impl", Kind::Func).unwrap();
    let tags: Vec<String> = b
        .own_types()
        .filter(|t| t.kind() == Kind::DeclTag && t.type_id() == k_impl)
        .map(|t| b.name(t.name_off()).into_owned())
        .collect();
    assert_eq!(tags, ["bpf_fastcall"]);
    assert_eq!(kbtf_btf::check::check_blob(&b.to_bytes(), None), vec![]);

    // Each set: count 2, the ids of k and plain in the sorted BTF, by id.
    let outcome = out.btf_ids.as_ref().unwrap();
    let words: Vec<u32> = outcome
        .section
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let id = |n: &str| b.find_by_name_kind(n.as_bytes(), Kind::Func).unwrap().0;
    let (k, plain) = (id("k"), id("plain"));
    let pairs = |f_k: u32, f_plain: u32| {
        let mut p = [(k, f_k), (plain, f_plain)];
        p.sort();
        vec![2, 1, p[0].0, p[0].1, p[1].0, p[1].1]
    };
    assert_eq!(words[..6], pairs(KF_IMPLICIT_ARGS, 1)[..]);
    assert_eq!(words[6..], pairs(KF_IMPLICIT_ARGS, 1 << 12)[..]);

    // The file as processed (kbtf's symbol moves applied) and the BTF it
    // came with: a second run gives the same bytes.
    let processed = outcome.apply(&ids);
    let again_ids = IdsElf::parse(&processed).unwrap();
    let again = btf2btf(btf(), Some(&again_ids), &[&out.btf]).unwrap();
    assert_eq!(again.btf.to_bytes(), out.btf.to_bytes());
    assert_eq!(again.btf_ids.unwrap().section, outcome.section);
    assert_eq!(again.rewritten, ["k"]);
}

#[test]
fn no_btf_ids_only_sorts() {
    let out = btf2btf(btf(), None, &[]).unwrap();
    assert!(out.btf_ids.is_none() && out.rewritten.is_empty());
    assert_eq!(params(&out.btf, "k"), 2);
    assert_eq!(out.btf.get(TypeId(1)).unwrap().kind(), Kind::Ptr);
}

#[test]
fn a_kfunc_without_a_prototype_is_refused() {
    let mut b = btf();
    let k = b.find_by_name_kind(b"k", Kind::Func).unwrap();
    b.record_mut(k).unwrap()[2] = 1; // the INT, not a FUNC_PROTO
    let bytes = elf([0, 0], [KF_IMPLICIT_ARGS, 0]);
    let ids = IdsElf::parse(&bytes).unwrap();
    let err = btf2btf(b, Some(&ids), &[]).unwrap_err();
    assert!(matches!(err, Error::Kfunc { .. }), "{err:?}");
    assert!(
        err.to_string().contains("kfunc k:") && err.to_string().contains("FUNC_PROTO"),
        "{err}"
    );
}

/// The sid chroot (`testdata/chroot-sid.sh`) and its resolve_btfids 7.2, if usable.
fn upstream_7_2() -> Option<(PathBuf, String)> {
    let chroot = std::env::var_os("KBTF_SID_CHROOT")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
            Some(cache.join("kbtf/chroot-sid"))
        })?;
    let Ok(kbuild) = std::fs::read_to_string(chroot.join("kbuild-package")) else {
        kbtf_testsupport::skip(format!(
            "no sid chroot at {} (run testdata/chroot-sid.sh)",
            chroot.display()
        ));
        return None;
    };
    let tool = format!(
        "/usr/lib/{}/tools/bpf/resolve_btfids/resolve_btfids",
        kbuild.trim()
    );
    let runs = Command::new("chroot")
        .arg(&chroot)
        .args([&tool, "-h"])
        .output()
        .is_ok_and(|o| o.status.code() == Some(129));
    if !runs {
        kbtf_testsupport::skip(
            "cannot run resolve_btfids 7.2 in the sid chroot (chroot needs root)",
        );
        return None;
    }
    Some((chroot, tool))
}

/// The cases above, and one whose `k_impl` exists already, against
/// resolve_btfids 7.2 itself: the same `.BTF` and `.BTF_ids` bytes.
#[test]
fn synthetic_files_give_resolve_btfids_7_2_bytes() {
    let Some((chroot, tool)) = upstream_7_2() else {
        return;
    };
    let dir = tempfile::tempdir_in(chroot.join("tmp")).unwrap();
    let inside = Path::new("/").join(dir.path().strip_prefix(&chroot).unwrap());
    let mut with_impl = btf();
    let int = TypeId(1);
    let proto = with_impl.add_func_proto(int).unwrap();
    with_impl
        .add_func("k_impl", proto, linkage::STATIC)
        .unwrap();
    let cases = [
        ("set_b", btf(), elf([0, 0], [KF_IMPLICIT_ARGS, 0])),
        ("set_a", btf(), elf([KF_IMPLICIT_ARGS, 0], [0, 0])),
        (
            "both",
            btf(),
            elf([KF_IMPLICIT_ARGS, 1], [KF_IMPLICIT_ARGS, 1 << 12]),
        ),
        (
            "impl",
            with_impl,
            elf([0, KF_IMPLICIT_ARGS], [KF_IMPLICIT_ARGS, 0]),
        ),
    ];
    for (name, b, bytes) in cases {
        let o = dir.path().join(format!("{name}.o"));
        std::fs::write(&o, &bytes).unwrap();
        std::fs::write(dir.path().join(format!("{name}.BTF.1")), b.to_bytes()).unwrap();
        let st = Command::new("chroot")
            .arg(&chroot)
            .arg(&tool)
            .arg("--btf")
            .arg(inside.join(format!("{name}.BTF.1")))
            .arg(inside.join(format!("{name}.o")))
            .status()
            .unwrap();
        assert!(st.success(), "{name}: resolve_btfids 7.2 failed");
        let ids = IdsElf::parse(&bytes).unwrap();
        let ours = btf2btf(b, Some(&ids), &[]).unwrap();
        let theirs = |s: &str| std::fs::read(dir.path().join(format!("{name}.o{s}"))).unwrap();
        assert!(
            ours.btf.to_bytes() == theirs(".BTF"),
            "{name}: .BTF differs"
        );
        assert!(
            ours.btf_ids.unwrap().section == theirs(".BTF_ids"),
            "{name}: .BTF_ids differs"
        );
    }
    println!("btf2btf: 4 synthetic files give resolve_btfids 7.2's .BTF and .BTF_ids");
}
