//! Bad input to the encoder gives an error naming the file, never a panic.

#![cfg(feature = "dwarf")]

use kbtf_testsupport::corpus;

use kbtf_btf::encode::{encode_elf, encode_file, EncodeOptions};
use object::{Object, ObjectSection};

#[test]
fn not_elf_is_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("kbtf-encode-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("garbage.ko");
    std::fs::write(&path, b"this is not an ELF file").unwrap();
    let err = encode_file(&path, None, &EncodeOptions::kernel()).unwrap_err();
    assert!(err.to_string().contains("garbage.ko"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_dwarf_is_an_error_not_a_panic() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let bytes = std::fs::read(corpus.module("crc7.ko")).unwrap();
    let (start, len) = {
        let elf = object::File::parse(&*bytes).unwrap();
        let s = elf.section_by_name(".debug_info").unwrap();
        let (start, len) = s.file_range().unwrap();
        (start as usize, len as usize)
    };
    let (mut variants, mut errors) = (0, 0);
    // Overwrite a window of .debug_info at several places with junk.
    for (i, at) in (0..len).step_by(len / 16 + 1).enumerate() {
        let mut damaged = bytes.clone();
        let end = (at + 64).min(len);
        for (j, b) in damaged[start + at..start + end].iter_mut().enumerate() {
            *b = (i * 31 + j * 7) as u8 | 0x80;
        }
        variants += 1;
        match encode_elf(&damaged, None, &EncodeOptions::kernel()) {
            // A DWARF error says where in .debug_info; a type error which type.
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("DWARF at .debug_info offset 0x") || msg.starts_with("type ["),
                    "variant {i}: {msg}"
                );
                errors += 1;
            }
            // Junk that still decodes must still give BTF the kernel takes.
            Ok(btf) => {
                let findings = kbtf_btf::check::check_blob(&btf.to_bytes(), None);
                assert!(findings.is_empty(), "variant {i}: {findings:?}");
            }
        }
    }
    // Windows of junk with their high bits set break most DIEs they hit.
    assert!(
        errors * 2 > variants,
        "only {errors} of {variants} rejected"
    );
    // Cutting the unit short must be reported.
    let mut cut = bytes.clone();
    cut[start..start + len].fill(0xff);
    let err = encode_elf(&cut, None, &EncodeOptions::kernel())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("DWARF at .debug_info offset 0x"), "{err}");
    println!("damaged .debug_info: {errors} of {variants} variants rejected; all-0xff: {err}");
}

/// Found by the `encode` fuzz target (testdata/FUZZING.md): an ET_REL file
/// whose SHF_ALLOC section sizes and alignments go past 2^64 made the section layout
/// overflow (a panic in debug builds). kbtf may encode it or refuse it,
/// but must not panic.
#[test]
fn section_sizes_past_u64_do_not_panic() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz-encode-huge-section.o");
    let bytes = std::fs::read(file).unwrap();
    let result =
        kbtf_btf::encode::encode_elf(&bytes, None, &kbtf_btf::encode::EncodeOptions::kernel());
    match result {
        // It has no DWARF: no types at all (the kernel would say "No type
        // found" of such a blob; kbtf writes no file for it), or BTF the
        // kernel takes.
        Ok(btf) if btf.own_ids().len() == 0 => {}
        Ok(btf) => {
            let findings = kbtf_btf::check::check_blob(&btf.to_bytes(), None);
            assert!(findings.is_empty(), "{findings:?}");
        }
        Err(e) => assert!(e.to_string().contains("section"), "{e}"),
    }
}

/// Found by the `encode` fuzz target after 3 M executions: damaged DWARF (a
/// DW_TAG_unspecified_type with children, stray tags after the unit) left
/// a type referring to one the encoder skipped. pahole 1.24 builds the
/// same dangling reference and fails in libbpf's dedup; kbtf's encoder
/// refuses to return such BTF at all.
#[test]
fn a_dangling_type_reference_is_an_error_as_in_pahole() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz-encode-dangling-type.o");
    let err = encode_file(&file, None, &EncodeOptions::kernel()).unwrap_err();
    assert!(err.to_string().contains("refers to type id"), "{err}");
    let out = std::env::temp_dir().join(format!("kbtf-dangling-{}.btf", std::process::id()));
    let pahole = std::process::Command::new("pahole")
        .args(["-J", "--btf_gen_floats", "--lang_exclude=rust"])
        .arg(format!("--btf_encode_detached={}", out.display()))
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&out);
    match pahole {
        Ok(o) => assert!(!o.status.success(), "pahole 1.24 encodes what kbtf refuses"),
        Err(e) => println!("pahole not run ({e}): kbtf's verdict only"),
    }
}
