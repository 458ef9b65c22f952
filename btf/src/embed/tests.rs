//! `set_sections` on objects of every class and byte order (written by the
//! object crate's writer, read back by its reader and by binutils), and on
//! truncated or corrupted files.

use std::process::Command;

use object::write::{Object as WObject, Relocation, StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, Object, ObjectSection, ObjectSymbol,
    RelocationEncoding, RelocationFlags, RelocationKind, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

use super::*;

const TARGETS: &[(Architecture, Endianness)] = &[
    (Architecture::X86_64, Endianness::Little),
    (Architecture::I386, Endianness::Little),
    (Architecture::Aarch64, Endianness::Little),
    (Architecture::PowerPc64, Endianness::Big),
    (Architecture::S390x, Endianness::Big),
    (Architecture::Mips, Endianness::Big),
];

/// A relocatable object with code, data, bss, a symbol and a relocation.
fn object_file(arch: Architecture, endian: Endianness, extra_sections: usize) -> Vec<u8> {
    let mut obj = WObject::new(BinaryFormat::Elf, arch, endian);
    let text = obj.section_id(StandardSection::Text);
    obj.append_section_data(text, &[0x90; 24], 16);
    let data = obj.section_id(StandardSection::Data);
    let value = obj.append_section_data(data, b"kbtf data bytes\0", 8);
    let bss = obj.section_id(StandardSection::UninitializedData);
    obj.append_section_bss(bss, 64, 32);
    let sym = obj.add_symbol(Symbol {
        name: b"kbtf_sym".to_vec(),
        value,
        size: 16,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(data),
        flags: SymbolFlags::None,
    });
    let bits = arch.address_size().unwrap().bytes() * 8;
    obj.add_relocation(
        text,
        Relocation {
            offset: 8,
            symbol: sym,
            addend: 0,
            flags: RelocationFlags::Generic {
                kind: RelocationKind::Absolute,
                encoding: RelocationEncoding::Generic,
                size: bits,
            },
        },
    )
    .unwrap();
    for i in 0..extra_sections {
        let s = obj.add_section(vec![], format!(".x{i}").into_bytes(), SectionKind::Metadata);
        obj.append_section_data(s, &[i as u8], 1);
    }
    obj.write().unwrap()
}

/// Sections (name, kind, data) and symbols (name, section index, value).
type Summary = (
    Vec<(String, Vec<u8>)>,
    Vec<(String, Option<usize>, u64)>,
    usize,
);

fn summary(bytes: &[u8]) -> Summary {
    let file = object::File::parse(bytes).unwrap();
    let sections = file
        .sections()
        .map(|s| {
            let data = if s.kind() == SectionKind::UninitializedData {
                vec![]
            } else {
                s.data().unwrap().to_vec()
            };
            (s.name().unwrap().to_string(), data)
        })
        .collect();
    let symbols = file
        .symbols()
        .map(|s| {
            (
                s.name().unwrap().to_string(),
                s.section_index().map(|i| i.0),
                s.address(),
            )
        })
        .collect();
    let relocations = file.sections().map(|s| s.relocations().count()).sum();
    (sections, symbols, relocations)
}

/// `new` has `old`'s sections first, with their bytes; `.shstrtab` only
/// grows at its end.
fn assert_same_sections(old: &[(String, Vec<u8>)], new: &[(String, Vec<u8>)], tag: &str) {
    assert!(new.len() >= old.len(), "{tag}: sections lost");
    for ((na, da), (nb, db)) in old.iter().zip(new) {
        assert_eq!(na, nb, "{tag}");
        if na == ".shstrtab" {
            assert!(db.starts_with(da), "{tag}: .shstrtab");
        } else {
            assert!(da == db, "{tag}: {na} bytes differ");
        }
    }
}

fn data_of(bytes: &[u8], name: &str) -> Vec<u8> {
    let file = object::File::parse(bytes).unwrap();
    let section = file.section_by_name(name).unwrap();
    section.data().unwrap().to_vec()
}

/// binutils' view: readelf silent, objcopy dumps `name` as `expect`.
fn check_with_binutils(bytes: &[u8], name: &str, expect: &[u8], tag: &str) {
    let dir = std::env::temp_dir().join(format!("kbtf-embed-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.o");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("readelf")
        .args(["-a", "-W"])
        .arg(&path)
        .output()
        .expect("readelf (binutils)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{tag}: readelf: {stderr}"
    );
    let dump = dir.join("dump");
    // BFD's generic ELF targets: binutils built for x86 knows no other machine.
    let info = ElfInfo::parse(bytes).unwrap();
    let target = format!(
        "elf{}-{}",
        if info.is_64 { 64 } else { 32 },
        if info.endian == Endianness::Little {
            "little"
        } else {
            "big"
        }
    );
    let out = Command::new("objcopy")
        .args(["-I", &target])
        .arg(format!("--dump-section={name}={}", dump.display()))
        .arg(&path)
        .arg(dir.join("junk"))
        .output()
        .expect("objcopy (binutils)");
    assert!(
        out.status.success(),
        "{tag}: objcopy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&dump).unwrap(), expect, "{tag}: objcopy dump");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_class_and_byte_order() {
    for &(arch, endian) in TARGETS {
        let tag = format!("{arch:?}");
        let original = object_file(arch, endian, 0);
        let (sections, symbols, relocations) = summary(&original);
        assert!(relocations > 0);

        // Added, then grown, shrunk and emptied.
        let mut file = original.clone();
        for len in [37usize, 1000, 3, 0, 4096 + 5] {
            let btf: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            file = set_sections(&file, &[(".BTF", &btf)]).unwrap_or_else(|e| panic!("{tag}: {e}"));
            let (s, y, r) = summary(&file);
            assert_same_sections(&sections, &s, &tag);
            assert_eq!(s.len(), sections.len() + 1, "{tag}");
            assert_eq!((y, r), (symbols.clone(), relocations), "{tag}: symbols");
            assert_eq!(data_of(&file, ".BTF"), btf, "{tag}");
            if len > 0 {
                check_with_binutils(&file, ".BTF", &btf, &format!("{tag}-{len}"));
            }
            assert!(set_sections(&file, &[(".BTF", &btf)]).unwrap() == file);
        }
        // Two new sections at once, and an existing one replaced.
        let ids = [1u8, 0, 0, 0, 2, 0, 0, 0];
        let both = set_sections(&file, &[(".BTF_ids", &ids), (".data", b"other data")]).unwrap();
        assert_eq!(data_of(&both, ".BTF_ids"), ids);
        assert_eq!(data_of(&both, ".data"), b"other data");
        let (_, y, _) = summary(&both);
        assert_eq!(y, symbols, "{tag}: symbols after replacing .data");
        check_with_binutils(&both, ".data", b"other data", &format!("{tag}-data"));
    }
}

#[test]
fn extended_section_numbering() {
    // Past 0xff00 sections e_shnum is 0 and the count in section 0; adding
    // crosses that line, then goes on from a file written by object that
    // also has e_shstrndx = SHN_XINDEX.
    for extra in [0xff00 - 9, 0xff00] {
        let original = object_file(Architecture::X86_64, Endianness::Little, extra);
        let headers = elf::Layout::parse(&original).unwrap().sections.len();
        let mut file = original.clone();
        for i in 0..4 {
            let name = format!(".BTF{i}");
            file = set_sections(&file, &[(name.as_str(), b"btf")]).unwrap();
            let layout = elf::Layout::parse(&file).unwrap();
            assert_eq!(layout.sections.len(), headers + i + 1);
            assert_eq!(data_of(&file, &name), b"btf");
        }
        assert!(headers + 4 > 0xff00, "{headers}");
        assert_same_sections(&summary(&original).0, &summary(&file).0, "xnum");
        check_with_binutils(&file, ".BTF3", b"btf", "xnum");
    }
}

#[test]
fn bad_requests_are_refused() {
    let file = object_file(Architecture::X86_64, Endianness::Little, 0);
    for (sections, expect) in [
        (vec![(".bss", &b"x"[..])], "SHT_NOBITS"),
        (vec![(".shstrtab", &b"x"[..])], "section name table"),
        (vec![("", &b"x"[..])], "bad section name"),
        (
            vec![(".BTF", &b"x"[..]), (".BTF", &b"y"[..])],
            "given twice",
        ),
    ] {
        let err = set_sections(&file, &sections).unwrap_err().to_string();
        assert!(err.contains(expect), "{err}");
    }
}

/// Every prefix of a valid object is refused with a message, never a panic.
#[test]
fn truncated_files_are_refused() {
    for &(arch, endian) in TARGETS {
        let file = object_file(arch, endian, 2);
        for len in 0..file.len() {
            let err = set_sections(&file[..len], &[(".BTF", b"btf")]).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains("truncated")
                    || msg.contains("past the end")
                    || msg.contains("outside the file"),
                "{arch:?} cut at {len}: {msg}"
            );
        }
    }
}

fn put(file: &mut [u8], at: usize, v: &[u8]) {
    file[at..at + v.len()].copy_from_slice(v);
}

/// A change to a good file.
type Corruption = Box<dyn Fn(&mut Vec<u8>)>;

#[test]
fn corrupted_headers_are_refused() {
    let good = object_file(Architecture::X86_64, Endianness::Little, 0);
    let info = ElfInfo::parse(&good).unwrap();
    assert!(info.is_64);
    let layout = elf::Layout::parse(&good).unwrap();
    let shoff = layout.shoff as usize;
    let data_index = (1..layout.sections.len())
        .find(|&i| layout.section_name(&good, i).unwrap() == b".data")
        .unwrap();
    let data_hdr = shoff + data_index * 64;
    let cases: Vec<(Corruption, &str)> = vec![
        (Box::new(|f| put(f, 0, b"\x7fELG")), "not an ELF file"),
        (Box::new(|f| f[4] = 3), "unknown ELF class 3"),
        (Box::new(|f| f[5] = 0), "unknown ELF data encoding 0"),
        (
            Box::new(|f| put(f, 40, &0u64.to_le_bytes())),
            "no section header table",
        ),
        (
            Box::new(|f| put(f, 40, &(1u64 << 40).to_le_bytes())),
            "outside the file",
        ),
        (
            Box::new(|f| put(f, 58, &40u16.to_le_bytes())),
            "entry size is 40",
        ),
        (
            Box::new(|f| put(f, 60, &5000u16.to_le_bytes())),
            "section header table",
        ),
        (
            Box::new(|f| put(f, 62, &900u16.to_le_bytes())),
            "index 900 is out of range",
        ),
        (
            Box::new(|f| put(f, 62, &0u16.to_le_bytes())),
            "no section name table",
        ),
        (
            Box::new(move |f| put(f, data_hdr + 24, &(1u64 << 33).to_le_bytes())),
            "extends past the end of the file",
        ),
        (
            Box::new(move |f| put(f, data_hdr + 32, &u64::MAX.to_le_bytes())),
            "extends past the end of the file",
        ),
        (
            Box::new(move |f| put(f, data_hdr, &0x7fff_0000u32.to_le_bytes())),
            "no NUL-terminated string",
        ),
    ];
    for (corrupt, expect) in cases {
        let mut file = good.clone();
        corrupt(&mut file);
        let err = set_sections(&file, &[(".BTF", b"btf")])
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "expected {expect:?}, got {err}");
    }
    // Two sections sharing bytes: replacing one would cut into the other.
    let mut file = good.clone();
    let text_index = (1..layout.sections.len())
        .find(|&i| layout.section_name(&good, i).unwrap() == b".text")
        .unwrap();
    let text_off = layout.sections[text_index].offset;
    put(&mut file, data_hdr + 24, &text_off.to_le_bytes());
    let err = set_sections(&file, &[(".text", b"new code")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlaps section .data"), "{err}");
}

/// Arbitrary byte changes in the headers give Ok or a message, never a panic.
#[test]
fn scrambled_headers_never_panic() {
    let good = object_file(Architecture::PowerPc64, Endianness::Big, 1);
    let layout = elf::Layout::parse(&good).unwrap();
    let table = layout.shoff as usize..good.len();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let mut file = good.clone();
        for _ in 0..1 + next() % 3 {
            let at = if next() % 2 == 0 {
                (next() % 64) as usize
            } else {
                table.start + (next() as usize) % table.len()
            };
            file[at] = next() as u8;
        }
        match set_sections(&file, &[(".BTF", b"some btf"), (".text", b"code")]) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                refused += 1;
            }
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
}

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("kbtf-embed-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.ko");
    std::fs::write(&path, b"\x7fELF\x02\x01\x01").unwrap();
    let err = replace_sections_in_file(&path, &[(".BTF", b"btf")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("broken.ko") && err.contains("truncated"),
        "{err}"
    );
    let missing = dir.join("missing.ko");
    let err = replace_sections_in_file(&missing, &[(".BTF", b"btf")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.ko"), "{err}");

    let good = object_file(Architecture::X86_64, Endianness::Little, 0);
    std::fs::write(&path, &good).unwrap();
    assert!(replace_sections_in_file(&path, &[(".BTF", b"btf")]).unwrap());
    assert!(!replace_sections_in_file(&path, &[(".BTF", b"btf")]).unwrap());
    assert_eq!(data_of(&std::fs::read(&path).unwrap(), ".BTF"), b"btf");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn btf_object_for_every_class_and_byte_order() {
    for &(arch, endian) in TARGETS {
        let like = ElfInfo::parse(&object_file(arch, endian, 0)).unwrap();
        let btf: Vec<u8> = (0..999u32).map(|i| (i % 251) as u8).collect();
        let obj = btf_object(&btf, &like).unwrap();
        assert_eq!(ElfInfo::parse(&obj).unwrap(), like);
        let file = object::File::parse(&*obj).unwrap();
        assert_eq!(file.architecture(), arch);
        let section = file.section_by_name(".BTF").unwrap();
        assert_eq!(
            section.kind(),
            SectionKind::ReadOnlyData,
            "{arch:?}: alloc, not write"
        );
        assert_eq!(section.align(), 1);
        check_with_binutils(&obj, ".BTF", &btf, &format!("{arch:?}-btf.o"));
    }
}

/// A section header table before the section data (as some tools write
/// it): growing it moves the sections after it, aligned.
#[test]
fn section_header_table_before_the_data() {
    let good = object_file(Architecture::Aarch64, Endianness::Little, 3);
    let layout = elf::Layout::parse(&good).unwrap();
    let ehsize = 64;
    let table_len = layout.sections.len() * 64;
    let shoff = layout.shoff as usize;
    assert_eq!(shoff + table_len, good.len(), "object puts the table last");
    let moved = table_len.next_multiple_of(64);
    let mut file = good[..ehsize].to_vec();
    file[40..48].copy_from_slice(&(ehsize as u64).to_le_bytes());
    let mut w = elf::Writer {
        out: &mut file,
        info: layout.info,
    };
    for (i, s) in layout.sections.iter().enumerate() {
        let mut s = s.clone();
        if i > 0 {
            s.offset += moved as u64;
        }
        w.shdr(&s);
    }
    file.resize(ehsize + moved, 0);
    file.extend_from_slice(&good[ehsize..shoff]);
    let sections = summary(&good).0;
    assert_eq!(
        summary(&file).0,
        sections,
        "the rearranged file reads the same"
    );

    let btf = vec![0xeb; 300];
    let out = set_sections(&file, &[(".BTF", &btf), (".BTF.base", b"base")]).unwrap();
    assert_same_sections(&sections, &summary(&out).0, "table first");
    assert_eq!(data_of(&out, ".BTF"), btf);
    assert_eq!(data_of(&out, ".BTF.base"), b"base");
    let out_layout = elf::Layout::parse(&out).unwrap();
    // The new data and the table stay in front of the old sections.
    let table_end = out_layout.shoff + (out_layout.sections.len() * 64) as u64;
    assert!(out_layout.sections[1..layout.sections.len()]
        .iter()
        .all(|s| s.offset >= table_end));
    for s in &out_layout.sections {
        assert_eq!(s.offset % s.addralign.max(1), 0, "{s:?} misaligned");
    }
    check_with_binutils(&out, ".BTF", &btf, "table-first");
}

/// Linked programs (ET_EXEC, ET_DYN): a section added after the segments
/// leaves them runnable; resizing a loaded section is refused.
#[test]
fn linked_programs_still_run() {
    let dir = std::env::temp_dir().join(format!("kbtf-embed-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("hello.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint main(void) { puts(\"kbtf hello\"); return 0; }\n",
    )
    .unwrap();
    for pie in ["-no-pie", "-pie"] {
        let exe = dir.join(format!("hello{pie}"));
        let status = Command::new("gcc")
            .arg(pie)
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .status()
            .expect("gcc");
        assert!(status.success());
        let bytes = std::fs::read(&exe).unwrap();
        let btf = vec![0x9f; 1234];
        let out = set_sections(&bytes, &[(".BTF", &btf), (".comment", b"kbtf")]).unwrap();
        let without_comment = |bytes: &[u8]| {
            let mut s = summary(bytes).0;
            s.retain(|(name, _)| name != ".comment");
            s
        };
        assert_same_sections(&without_comment(&bytes), &without_comment(&out), pie);
        assert_eq!(data_of(&out, ".comment"), b"kbtf");
        std::fs::write(&exe, &out).unwrap();
        let run = Command::new(&exe).output().unwrap();
        assert_eq!(run.stdout, b"kbtf hello\n", "{pie}");
        check_with_binutils(&out, ".BTF", &btf, pie);
        let err = set_sections(&out, &[(".text", &[0x90; 3])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("segment"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
