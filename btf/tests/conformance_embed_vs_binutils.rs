//! `embed` against the corpus and binutils: sections set by kbtf read back
//! the same with objcopy, readelf stays silent, modinfo still reads the
//! modules, and nothing else in the file changes.

use kbtf_testsupport::cmd::run;
use kbtf_testsupport::corpus;
use kbtf_testsupport::elf::section;

use std::path::{Path, PathBuf};
use std::process::Command;

use kbtf_btf::embed::{btf_object, set_sections, ElfInfo};
use object::read::elf::{ElfFile64, SectionHeader};
use object::{Endianness, Object, ObjectSection};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("embed-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `objcopy --dump-section` of `name` from the file at `path`.
fn objcopy_dump(path: &Path, name: &str, dir: &Path) -> Vec<u8> {
    let out = dir.join("dumped");
    run(Command::new("objcopy")
        .arg(format!("--dump-section={name}={}", out.display()))
        .arg(path)
        .arg(dir.join("junk")));
    std::fs::read(out).unwrap()
}

/// `readelf -a -W`'s complaints: its stderr, and warning lines on stdout.
fn readelf_complaints(path: &Path) -> String {
    let out = Command::new("readelf")
        .args(["-a", "-W"])
        .arg(path)
        .output()
        .expect("readelf");
    let mut complaints = String::from_utf8_lossy(&out.stderr).into_owned();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.starts_with("readelf:") {
            complaints.push_str(line);
            complaints.push('\n');
        }
    }
    complaints
}

/// `eu-elflint --gnu-ld`'s findings (elfutils), with the file name cut.
fn elflint(path: &Path) -> String {
    let out = Command::new("eu-elflint")
        .arg("--gnu-ld")
        .arg(path)
        .output()
        .expect("eu-elflint (Debian package elfutils)");
    String::from_utf8_lossy(&out.stdout).replace(&*path.to_string_lossy(), "FILE")
}

/// `modinfo`'s fields, without the `filename:` line.
fn modinfo(path: &Path) -> String {
    let out = run(Command::new("modinfo").arg(path));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("filename:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Section headers of an ELF64 file: (name, header) by index.
fn headers(bytes: &[u8]) -> Vec<(Vec<u8>, object::elf::SectionHeader64<Endianness>)> {
    let file = ElfFile64::<Endianness>::parse(bytes).unwrap();
    let endian = file.endian();
    let table = file.elf_section_table();
    table
        .iter()
        .map(|s| (table.section_name(endian, s).unwrap().to_vec(), *s))
        .collect()
}

/// Every section of `old` is in `new` at the same index with the same
/// header (but `sh_offset`) and bytes; returns the sections `new` adds.
fn assert_others_unchanged(old: &[u8], new: &[u8], what: &str) -> usize {
    let e = Endianness::Little;
    let (a, b) = (headers(old), headers(new));
    assert!(b.len() >= a.len(), "{what}: sections were lost");
    for (i, ((na, ha), (nb, hb))) in a.iter().zip(&b).enumerate() {
        assert_eq!(na, nb, "{what}: section [{i}] name");
        let key = |h: &object::elf::SectionHeader64<Endianness>| {
            (
                h.sh_type(e),
                h.sh_flags(e),
                h.sh_addr(e),
                h.sh_link(e),
                h.sh_info(e),
                h.sh_addralign(e),
                h.sh_entsize(e),
            )
        };
        assert_eq!(key(ha), key(hb), "{what}: section [{i}] header");
        if na.as_slice() == b".shstrtab" {
            // Only appended to.
            let (da, db) = (ha.data(e, old).unwrap(), hb.data(e, new).unwrap());
            assert!(db.starts_with(da), "{what}: .shstrtab");
        } else {
            assert_eq!(ha.sh_size(e), hb.sh_size(e), "{what}: section [{i}] size");
            assert!(
                ha.data(e, old).unwrap() == hb.data(e, new).unwrap(),
                "{what}: section [{i}] {} bytes differ",
                String::from_utf8_lossy(na)
            );
        }
        let offset = hb.sh_offset(e);
        let align = hb.sh_addralign(e).max(1);
        assert_eq!(offset % align, 0, "{what}: section [{i}] misaligned");
    }
    b.len() - a.len()
}

/// Removes `.BTF` with objcopy, puts the shipped bytes back with kbtf, and
/// checks the result with binutils and kmod.
fn check_readd(module: &Path, dir: &Path) {
    let what = module.display().to_string();
    let shipped = std::fs::read(module).unwrap();
    let btf = section(&shipped, ".BTF").expect(".BTF");
    let stripped_path = dir.join("nobtf.ko");
    run(Command::new("objcopy")
        .args(["--remove-section", ".BTF"])
        .arg(module)
        .arg(&stripped_path));
    let stripped = std::fs::read(&stripped_path).unwrap();
    assert!(section(&stripped, ".BTF").is_none());

    let ours = set_sections(&stripped, &[(".BTF", &btf)]).unwrap_or_else(|e| panic!("{what}: {e}"));
    let ours_path = dir.join("kbtf.ko");
    std::fs::write(&ours_path, &ours).unwrap();

    assert_eq!(assert_others_unchanged(&stripped, &ours, &what), 1);
    assert!(
        objcopy_dump(&ours_path, ".BTF", dir) == btf,
        "{what}: objcopy reads other .BTF bytes"
    );
    let complaints = readelf_complaints(&ours_path);
    assert!(complaints.is_empty(), "{what}: readelf: {complaints}");
    assert_eq!(modinfo(&ours_path), modinfo(module), "{what}: modinfo");
    assert_eq!(
        elflint(&ours_path),
        elflint(&stripped_path),
        "{what}: eu-elflint"
    );

    // The new header is the one objcopy --add-section makes and the
    // shipped module has (PROGBITS, no flags, alignment 1).
    let objcopy_path = dir.join("objcopy.ko");
    let btf_path = dir.join("btf");
    std::fs::write(&btf_path, &btf).unwrap();
    run(Command::new("objcopy")
        .arg(format!("--add-section=.BTF={}", btf_path.display()))
        .arg(&stripped_path)
        .arg(&objcopy_path));
    let objcopy = std::fs::read(&objcopy_path).unwrap();
    let e = Endianness::Little;
    let attrs = |bytes: &[u8]| {
        let hs = headers(bytes);
        let h = hs.iter().find(|(n, _)| n == b".BTF").unwrap().1;
        (
            h.sh_type(e),
            h.sh_flags(e),
            h.sh_addr(e),
            h.sh_link(e),
            h.sh_info(e),
            h.sh_addralign(e),
            h.sh_entsize(e),
            h.sh_size(e),
        )
    };
    assert_eq!(attrs(&ours), attrs(&objcopy), "{what}: vs objcopy");
    assert_eq!(attrs(&ours), attrs(&shipped), "{what}: vs shipped");
    // Setting the same bytes again leaves the file alone.
    assert!(set_sections(&ours, &[(".BTF", &btf)]).unwrap() == ours);
}

fn readd(modules: &[PathBuf], name: &str) {
    let dir = scratch(name);
    for m in modules {
        check_readd(m, &dir);
    }
    println!(
        "re-added .BTF to {} modules: objcopy reads it back, readelf silent, eu-elflint and modinfo as before",
        modules.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn readd_btf_sample() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let all = corpus.modules();
    let sample: Vec<_> = all
        .iter()
        .step_by(all.len() / 50)
        .take(50)
        .cloned()
        .collect();
    readd(&sample, "sample");
    assert_eq!(sample.len(), 50);
}

#[test]
#[ignore = "runs binutils on all 1138 modules (minutes); cargo test -- --ignored"]
fn readd_btf_all() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let all = corpus.modules();
    readd(&all, "all");
    assert_eq!(all.len(), 1138);
}

/// Writing back the shipped `.BTF` (and `.BTF_ids`) gives the input file.
#[test]
fn same_bytes_give_same_file() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let (mut files, mut with_ids) = (0, 0);
    for path in corpus.modules().iter().chain([&corpus.vmlinux()]) {
        let bytes = std::fs::read(path).unwrap();
        let btf = section(&bytes, ".BTF").unwrap();
        let mut sections: Vec<(&str, &[u8])> = vec![(".BTF", &btf)];
        let ids = section(&bytes, ".BTF_ids");
        if let Some(ids) = &ids {
            sections.push((".BTF_ids", ids));
            with_ids += 1;
        }
        let again = set_sections(&bytes, &sections).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert!(again == bytes, "{}: not identical", path.display());
        files += 1;
    }
    println!("identical after setting .BTF (and .BTF_ids in {with_ids}): {files} files");
    assert_eq!(files, 1139);
}

/// `.BTF_ids` is patched in place, as `resolve_btfids --patch_btfids` does:
/// only its bytes change in the file.
#[test]
fn btf_ids_patched_in_place() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = scratch("ids");
    let mut n = 0;
    for path in corpus.modules() {
        let bytes = std::fs::read(&path).unwrap();
        let Some(ids) = section(&bytes, ".BTF_ids") else {
            continue;
        };
        let patched: Vec<u8> = ids
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ (i as u8 | 1))
            .collect();
        let out = set_sections(&bytes, &[(".BTF_ids", &patched)]).unwrap();
        assert_eq!(out.len(), bytes.len());
        let file = object::File::parse(&*bytes).unwrap();
        let (start, size) = file
            .section_by_name(".BTF_ids")
            .unwrap()
            .file_range()
            .unwrap();
        let changed: Vec<usize> = (0..bytes.len()).filter(|&i| out[i] != bytes[i]).collect();
        assert!(
            changed
                .iter()
                .all(|&i| (start..start + size).contains(&(i as u64))),
            "{}: bytes outside .BTF_ids changed",
            path.display()
        );
        let p = dir.join("patched.ko");
        std::fs::write(&p, &out).unwrap();
        assert!(objcopy_dump(&p, ".BTF_ids", &dir) == patched);
        n += 1;
    }
    println!(".BTF_ids patched in place in {n} modules");
    assert_eq!(n, 7);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// vmlinux: `.BTF` lies inside a loaded segment; it can be rewritten in
/// place but not resized, and a new non-allocated section goes after the
/// segments.
#[test]
fn vmlinux_in_place_and_refusal() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let bytes = std::fs::read(corpus.vmlinux()).unwrap();
    let btf = section(&bytes, ".BTF").unwrap();
    let mut longer = btf.clone();
    longer.extend_from_slice(&[0; 16]);
    let err = set_sections(&bytes, &[(".BTF", &longer)])
        .unwrap_err()
        .to_string();
    assert!(err.contains(".BTF") && err.contains("segment"), "{err}");
    let out = set_sections(&bytes, &[(".kbtf.test", b"hello")]).unwrap();
    assert_eq!(assert_others_unchanged(&bytes, &out, "vmlinux"), 1);
    assert_eq!(section(&out, ".kbtf.test").unwrap(), b"hello");
    println!("vmlinux: resize refused ({err}); added a section after the segments");
}

/// The vmlinux `.btf.o` is what gen-btf.sh's compiler and objcopy steps
/// make, byte for byte, and the linker takes it.
#[test]
fn btf_object_matches_gen_btf_sh() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = scratch("btfo");
    let vmlinux = std::fs::read(corpus.vmlinux()).unwrap();
    let btf = section(&vmlinux, ".BTF").unwrap();
    let ours = btf_object(&btf, &ElfInfo::parse(&vmlinux).unwrap()).unwrap();

    // gen-btf.sh, vmlinux mode.
    let btf_path = dir.join(".tmp_vmlinux1.BTF");
    std::fs::write(&btf_path, &btf).unwrap();
    let obj = dir.join(".tmp_vmlinux1.btf.o");
    run(Command::new("gcc")
        .args(["-fno-lto", "-c", "-x", "c", "/dev/null", "-o"])
        .arg(&obj));
    run(Command::new("objcopy")
        .arg(format!("--add-section=.BTF={}", btf_path.display()))
        .args(["--set-section-flags", ".BTF=alloc,readonly"])
        .arg(&obj));
    run(Command::new("objcopy")
        .args(["--only-section=.BTF", "--strip-all"])
        .arg(&obj));
    let theirs = std::fs::read(&obj).unwrap();
    let first_difference =
        (0..ours.len().max(theirs.len())).find(|&i| ours.get(i) != theirs.get(i));
    assert_eq!(
        first_difference,
        None,
        "btf_object ({} bytes) differs from gen-btf.sh's .btf.o ({} bytes)",
        ours.len(),
        theirs.len()
    );

    let ours_path = dir.join("kbtf.btf.o");
    std::fs::write(&ours_path, &ours).unwrap();
    let complaints = readelf_complaints(&ours_path);
    assert!(complaints.is_empty(), "readelf: {complaints}");
    assert_eq!(elflint(&ours_path), "No errors\n");
    // Linked with another object, the section keeps its bytes.
    let other = dir.join("other.o");
    std::fs::write(dir.join("other.c"), "int kbtf_answer = 42;\n").unwrap();
    run(Command::new("gcc")
        .args(["-c", "-o"])
        .arg(&other)
        .arg(dir.join("other.c")));
    let linked = dir.join("linked.o");
    run(Command::new("ld")
        .arg("-r")
        .arg(&other)
        .arg(&ours_path)
        .arg("-o")
        .arg(&linked));
    assert!(objcopy_dump(&linked, ".BTF", &dir) == btf);
    assert!(objcopy_dump(&ours_path, ".BTF", &dir) == btf);
    println!(
        "btf_object: {} bytes, identical to gen-btf.sh's; ld -r keeps .BTF",
        ours.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
