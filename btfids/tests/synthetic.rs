//! Small ELF files built here, in every class and byte order, for what the
//! corpus cannot show: ELF32 and big-endian files, the refusals (a moving
//! symbol used by a relocation, stale symbols with no BTF to recover them,
//! malformed sets) and upstream's warnings.

use kbtf_btf::{Btf, BtfView, Endian, Info, Kind, StrOff, TypeId};
use kbtf_btfids::{resolve, Error, IdsElf};
use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationEncoding, RelocationFlags, RelocationKind,
    SymbolFlags, SymbolKind, SymbolScope,
};

/// BTF with FUNCs `c`, `a`, `b` (ids 2, 3, 4): name order is not id order.
fn btf() -> Btf {
    let mut btf = Btf::new();
    let proto = btf
        .add_type(StrOff(0), Info::new(Kind::FuncProto, false, 0), 0, &[])
        .unwrap();
    for name in ["c", "a", "b"] {
        let n = btf.add_str(name.as_bytes()).unwrap();
        btf.add_type(n, Info::new(Kind::Func, false, 0), proto.0, &[])
            .unwrap();
    }
    btf
}

const FLAGS: [(&str, u32); 3] = [("a", 1), ("b", 2), ("c", 4)];

struct Spec {
    arch: Architecture,
    endian: Endianness,
    /// `.BTF_ids` contents as words.
    words: Vec<u32>,
    /// (symbol name, offset, size)
    symbols: Vec<(String, u64, u64)>,
    /// A relocation in `.data` against this symbol.
    reloc_to: Option<String>,
}

fn set8_spec(arch: Architecture, endian: Endianness) -> Spec {
    // set8 header {cnt 0, flags 1}, then a, b, c with their flags.
    let mut words = vec![0, 1];
    let mut symbols = vec![("__BTF_ID__set8__s".to_string(), 0, 32)];
    for (i, (name, flags)) in FLAGS.iter().enumerate() {
        words.extend([0, *flags]);
        symbols.push((format!("__BTF_ID__func__{name}__{i}"), 8 + 8 * i as u64, 4));
    }
    Spec {
        arch,
        endian,
        words,
        symbols,
        reloc_to: None,
    }
}

fn build(spec: &Spec) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, spec.arch, spec.endian);
    let ids = obj.add_section(Vec::new(), b".BTF_ids".to_vec(), object::SectionKind::Data);
    let e = if spec.endian == Endianness::Little {
        Endian::Little
    } else {
        Endian::Big
    };
    let bytes: Vec<u8> = spec.words.iter().flat_map(|&w| e.u32_bytes(w)).collect();
    obj.set_section_data(ids, bytes, 4);
    let mut by_name = Vec::new();
    for (name, value, size) in &spec.symbols {
        let id = obj.add_symbol(Symbol {
            name: name.clone().into_bytes(),
            value: *value,
            size: *size,
            kind: SymbolKind::Data,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(ids),
            flags: SymbolFlags::None,
        });
        by_name.push((name.clone(), id));
    }
    if let Some(target) = &spec.reloc_to {
        let data = obj.section_id(StandardSection::Data);
        obj.append_section_data(data, &[0; 8], 4);
        let symbol = by_name.iter().find(|(n, _)| n == target).unwrap().1;
        let flags = RelocationFlags::Generic {
            kind: RelocationKind::Absolute,
            encoding: RelocationEncoding::Generic,
            size: 32,
        };
        obj.add_relocation(
            data,
            Relocation {
                offset: 0,
                symbol,
                addend: 0,
                flags,
            },
        )
        .unwrap();
    }
    obj.write().unwrap()
}

fn run(bytes: &[u8], btf: &Btf) -> Result<Vec<u8>, Error> {
    let elf = IdsElf::parse(bytes)?;
    Ok(resolve(&elf, btf, &[])?.apply(&elf))
}

/// (name, id at its slot, flags at its slot) for each member, and the set's (id, flags) pairs.
type Members = (Vec<(String, u32, u32)>, Vec<(u32, u32)>);

fn members(bytes: &[u8]) -> Members {
    let elf = IdsElf::parse(bytes).unwrap();
    let sec = elf.section_bytes();
    let m = elf
        .symbols
        .iter()
        .filter(|s| !s.kind.is_set())
        .map(|s| {
            (
                s.name_str().into_owned(),
                elf.word_at(sec, s.offset).unwrap(),
                elf.word_at(sec, s.offset + 4).unwrap(),
            )
        })
        .collect();
    let pairs = (0..3)
        .map(|j| {
            (
                elf.word_at(sec, 8 + 8 * j).unwrap(),
                elf.word_at(sec, 12 + 8 * j).unwrap(),
            )
        })
        .collect();
    (m, pairs)
}

fn assert_own_flags(bytes: &[u8], btf: &Btf) {
    let (m, pairs) = members(bytes);
    assert_eq!(
        pairs,
        vec![(2, 4), (3, 1), (4, 2)],
        "sorted by id, flags with their ids"
    );
    for (name, id, flags) in m {
        assert_eq!(
            Some(TypeId(id)),
            btf.find_by_name_kind(name.as_bytes(), Kind::Func),
            "{name}"
        );
        assert_eq!(
            flags,
            FLAGS.iter().find(|f| f.0 == name).unwrap().1,
            "{name}"
        );
    }
}

const TARGETS: [(Architecture, Endianness); 4] = [
    (Architecture::X86_64, Endianness::Little),
    (Architecture::I386, Endianness::Little),
    (Architecture::PowerPc64, Endianness::Big),
    (Architecture::PowerPc, Endianness::Big),
];

#[test]
fn every_class_and_byte_order_is_idempotent() {
    let btf = btf();
    for (arch, endian) in TARGETS {
        let fresh = build(&set8_spec(arch, endian));
        let once = run(&fresh, &btf).unwrap();
        assert_own_flags(&once, &btf);
        let twice = run(&once, &btf).unwrap();
        assert!(twice == once, "{arch:?}: second run changed the file");
        assert_eq!(run(&twice, &btf).unwrap(), twice);
        // Reading names from the blob, in the file's byte order, gives the same.
        let e = if endian == Endianness::Little {
            Endian::Little
        } else {
            Endian::Big
        };
        let blob = btf.to_bytes_endian(e);
        let names = BtfView::parse(&blob).unwrap();
        let elf = IdsElf::parse(&fresh).unwrap();
        assert!(resolve(&elf, &names, &[]).unwrap().apply(&elf) == once);
        // Only the section and the moved symbols' values changed.
        let diff = fresh.iter().zip(&once).filter(|(a, b)| a != b).count();
        assert!(
            diff > 0 && diff <= 3 * 4 + 3 * 8,
            "{arch:?}: {diff} bytes changed"
        );
    }
}

/// The section as upstream leaves it: pairs sorted by id, symbols where they were.
fn upstream_processed(arch: Architecture, endian: Endianness) -> Spec {
    let mut spec = set8_spec(arch, endian);
    spec.words = vec![3, 1, 2, 4, 3, 1, 4, 2];
    spec
}

#[test]
fn stale_symbols_are_repaired_through_the_btf_that_gave_the_ids() {
    let btf = btf();
    for (arch, endian) in TARGETS {
        let stale = build(&upstream_processed(arch, endian));
        let (m, _) = members(&stale);
        assert_eq!(
            m[0],
            ("a".to_string(), 2, 4),
            "the stale symbol of a points at c's entry"
        );
        let fixed = run(&stale, &btf).unwrap();
        assert_own_flags(&fixed, &btf);
        assert_eq!(run(&fixed, &btf).unwrap(), fixed);
    }
}

#[test]
fn stale_symbols_without_their_btf_are_refused() {
    // A BTF whose ids differ (a type put first): it did not give the ids in the file.
    let mut other = Btf::new();
    other
        .add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), 0, &[])
        .unwrap();
    let proto = other
        .add_type(StrOff(0), Info::new(Kind::FuncProto, false, 0), 0, &[])
        .unwrap();
    for name in ["c", "a", "b"] {
        let n = other.add_str(name.as_bytes()).unwrap();
        other
            .add_type(n, Info::new(Kind::Func, false, 0), proto.0, &[])
            .unwrap();
    }
    let stale = build(&upstream_processed(
        Architecture::X86_64,
        Endianness::Little,
    ));
    let err = run(&stale, &other).unwrap_err();
    assert!(matches!(err, Error::Unrecoverable { .. }), "{err}");
    // Given the BTF that produced the ids as an earlier one, it works.
    let elf = IdsElf::parse(&stale).unwrap();
    let orig = btf();
    let out = resolve(&elf, &other, &[&orig]).unwrap().apply(&elf);
    let (m, pairs) = members(&out);
    assert_eq!(pairs, vec![(3, 4), (4, 1), (5, 2)]);
    assert!(m.iter().all(
        |(n, id, f)| other.find_by_name_kind(n.as_bytes(), Kind::Func) == Some(TypeId(*id))
            && FLAGS.iter().any(|x| x.0 == n && x.1 == *f)
    ));
}

#[test]
fn a_relocated_symbol_that_would_move_is_refused() {
    let mut spec = set8_spec(Architecture::X86_64, Endianness::Little);
    spec.reloc_to = Some("__BTF_ID__func__a__0".into());
    let err = run(&build(&spec), &btf()).unwrap_err();
    assert!(matches!(err, Error::RelocatedSymbol { .. }), "{err}");
    assert!(err.to_string().contains("func a"), "{err}");
}

#[test]
fn malformed_sets_and_warnings() {
    let btf = btf();
    let mut spec = set8_spec(Architecture::X86_64, Endianness::Little);
    spec.symbols[0].2 = 30;
    let err = run(&build(&spec), &btf).unwrap_err();
    assert!(matches!(err, Error::MalformedSet { .. }), "{err}");

    let mut spec = set8_spec(Architecture::X86_64, Endianness::Little);
    spec.symbols[1].1 = 12;
    let err = run(&build(&spec), &btf).unwrap_err();
    assert!(err.to_string().contains("not on a slot boundary"), "{err}");

    let mut spec = set8_spec(Architecture::X86_64, Endianness::Little);
    spec.symbols.push(("__BTF_ID__set8__s".into(), 0, 32));
    assert!(run(&build(&spec), &btf).is_err(), "a set defined twice");

    // Two BTF_ID_LIST entries on one slot (found by the btfids fuzz
    // target): refused, unless they are one name twice.
    let mut spec = set8_spec(Architecture::X86_64, Endianness::Little);
    spec.words.push(0);
    spec.symbols.push(("__BTF_ID__func__a__7".into(), 32, 4));
    spec.symbols.push(("__BTF_ID__func__b__8".into(), 32, 4));
    let err = run(&build(&spec), &btf).unwrap_err();
    assert!(err.to_string().contains("overlaps func a"), "{err}");
    spec.symbols[5].0 = "__BTF_ID__func__a__8".into();
    let once = run(&build(&spec), &btf).unwrap();
    assert_eq!(run(&once, &btf).unwrap(), once);
    // Nor over a set's header.
    let mut spec = set8_spec(Architecture::X86_64, Endianness::Little);
    spec.words.insert(0, 0);
    for s in &mut spec.symbols {
        s.1 += 4;
    }
    spec.symbols.push(("__BTF_ID__func__a__7".into(), 2, 4));
    let err = run(&build(&spec), &btf).unwrap_err();
    assert!(err.to_string().contains("overlaps func a"), "{err}");

    let mut spec = set8_spec(Architecture::X86_64, Endianness::Little);
    spec.symbols[2].0 = "__BTF_ID__func__nosuch__1".into();
    let elf_bytes = build(&spec);
    let elf = IdsElf::parse(&elf_bytes).unwrap();
    let out = resolve(&elf, &btf, &[]).unwrap();
    assert_eq!(
        out.warnings,
        vec!["resolve_btfids: unresolved symbol nosuch".to_string()]
    );

    // Like upstream, a later duplicate warns only while some name is still unresolved.
    let mut dup = btf.clone();
    let n = dup.add_str(b"a").unwrap();
    dup.add_type(n, Info::new(Kind::Func, false, 0), 1, &[])
        .unwrap();
    let out = resolve(&elf, &dup, &[]).unwrap();
    assert_eq!(
        out.warnings,
        vec![
            "multiple IDs found for 'a': 3, 5 - using 3".to_string(),
            "resolve_btfids: unresolved symbol nosuch".to_string()
        ]
    );
    let elf_bytes = build(&set8_spec(Architecture::X86_64, Endianness::Little));
    let elf = IdsElf::parse(&elf_bytes).unwrap();
    assert!(resolve(&elf, &dup, &[]).unwrap().warnings.is_empty());
}

/// Found by the `btfids` fuzz target (testdata/FUZZING.md): a set8 with two
/// unresolved kfuncs of different flags. The first run writes id 0 for
/// both; the second used to refuse the set as ambiguous (two id-0 entries,
/// different flags), though each symbol was at its own entry. It must
/// change nothing instead.
#[test]
fn unresolved_members_with_different_flags_are_a_fixed_point() {
    let btf = btf();
    for (arch, endian) in TARGETS {
        let mut spec = set8_spec(arch, endian);
        spec.symbols[1].0 = "__BTF_ID__func__gone__0".into();
        spec.symbols[3].0 = "__BTF_ID__func__lost__2".into();
        let once = run(&build(&spec), &btf).unwrap();
        assert_eq!(run(&once, &btf).unwrap(), once, "{arch:?}");
    }
}

/// The files the `btfids` fuzz target found crashes with (tests/data/fuzz-*.o):
/// `fuzz-unresolved-kfuncs.o`, whose .BTF lost two kfunc names (the case
/// above), and `fuzz-symtab-entsize.o`, whose .symtab has a huge
/// sh_entsize (patching a moved symbol's value overflowed; symbols are now
/// read and patched at the class's entry size, as libelf does), and
/// `fuzz-unused-slot.o`, a set whose unowned slot held a stray 128 that the
/// sort carried along, so the second run could not explain the set (unowned
/// slots are now written as 0, `BTF_ID_UNUSED`). Each
/// resolves against its own .BTF, and a second run changes nothing.
#[test]
fn fuzz_finds_resolve_to_a_fixed_point() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("fuzz-") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let blob = kbtf_btf::input::btf_blob(&bytes).unwrap();
        let names = BtfView::parse(&blob).unwrap();
        let elf = IdsElf::parse(&bytes).unwrap();
        let once = resolve(&elf, &names, &[]).unwrap().apply(&elf);
        let elf = IdsElf::parse(&once).unwrap();
        let twice = resolve(&elf, &names, &[]).unwrap();
        assert!(twice.moves.is_empty(), "{name}");
        assert!(twice.apply(&elf) == once, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// Found by the `btfids` fuzz target: a `.BTF_ids` whose file range covers
/// the section header table, so patching it rewrote `e_shentsize`'s
/// neighbours and the patched file no longer parsed. Such files (and a
/// `.BTF_ids` or `.symtab` sharing bytes with any other section) are refused.
/// The same over the ELF header's last bytes, in an ELF32 file whose
/// e_ehsize claims 42 bytes (of 52).
#[test]
fn a_btf_ids_over_the_headers_is_refused() {
    for name in ["overlap-section-headers.o", "overlap-short-ehsize.o"] {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name);
        let bytes = std::fs::read(file).unwrap();
        let err = IdsElf::parse(&bytes).unwrap_err();
        assert!(err.to_string().contains("overlaps"), "{name}: {err}");
    }
}

/// Found by the `btfids` fuzz target: section 0 (reserved, SHT_NULL) named
/// `.BTF_ids` was taken for the section; `--patch_btfids`, reading through
/// `object` as upstream reads through libelf, starts at section 1.
#[test]
fn section_zero_is_no_btf_ids() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/null-section-named-btf-ids.o");
    let bytes = std::fs::read(file).unwrap();
    let err = IdsElf::parse(&bytes).unwrap_err();
    assert!(matches!(err, Error::NoBtfIdsSection), "{err}");
}

/// Found by the `btfids` fuzz target: a file with two `.BTF_ids` sections.
/// Resolving takes the last (as upstream does); `--patch_btfids`
/// (`patch_section`) took the first, and refused the blob as the wrong size.
/// (The fuzzer's file had the section name table as its second `.BTF_ids`,
/// which is refused now: `tests/data/btf-ids-is-shstrtab.o`.)
#[test]
fn patching_takes_the_btf_ids_section_resolving_took() {
    let btf = btf();
    let spec = set8_spec(Architecture::X86_64, Endianness::Little);
    // A decoy .BTF_ids of another size before the real one.
    let mut obj = Object::new(BinaryFormat::Elf, spec.arch, spec.endian);
    let decoy = obj.add_section(Vec::new(), b".BTF_ids".to_vec(), object::SectionKind::Data);
    obj.set_section_data(decoy, vec![0; 12], 4);
    let ids = obj.add_section(Vec::new(), b".BTF_ids".to_vec(), object::SectionKind::Data);
    let bytes: Vec<u8> = spec.words.iter().flat_map(|w| w.to_le_bytes()).collect();
    obj.set_section_data(ids, bytes, 4);
    for (name, value, size) in &spec.symbols {
        obj.add_symbol(Symbol {
            name: name.clone().into_bytes(),
            value: *value,
            size: *size,
            kind: SymbolKind::Data,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(ids),
            flags: SymbolFlags::None,
        });
    }
    let bytes = obj.write().unwrap();
    let elf = IdsElf::parse(&bytes).unwrap();
    assert_eq!(elf.section.size, 32, "the last .BTF_ids");
    let outcome = resolve(&elf, &btf, &[]).unwrap();
    let mut patched = kbtf_btfids::patch_section(&bytes, &outcome.section).unwrap();
    kbtf_btfids::move_symbols(&elf, &mut patched, &outcome.moves);
    assert!(patched == outcome.apply(&elf));
}

/// Found by the `btfids` fuzz target: the section header string table,
/// named `.BTF_ids` itself, was taken for the section, and patching it
/// renamed the sections. A `.BTF_ids` or `.symtab` that is a string table of
/// names is refused.
#[test]
fn a_btf_ids_that_holds_the_names_is_refused() {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/btf-ids-is-shstrtab.o");
    let bytes = std::fs::read(file).unwrap();
    let err = IdsElf::parse(&bytes).unwrap_err();
    assert!(err.to_string().contains("string table"), "{err}");
}
