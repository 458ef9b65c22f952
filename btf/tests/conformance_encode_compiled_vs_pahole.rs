//! DWARF 4 and 5 from gcc at several optimisation levels: kbtf's encoding,
//! deduplicated by libbpf, equals what pahole 1.24 writes for the same
//! object file (`pahole -J --btf_gen_floats --btf_encode_detached`).
//! Covers what the kernel corpus (gcc, DWARF 5) does not: DWARF 4
//! bitfields, negative and 64-bit enums, floats, ET_REL per-CPU variables,
//! clang's btf_type_tag / btf_decl_tag annotations, each of pahole's
//! `--skip_encoding_btf_*` options, clang LTO (merged units), and other
//! architectures' relocations and byte order.

#![cfg(feature = "dwarf")]

use std::path::Path;
use std::process::Command;

use kbtf_btf::encode::{encode_file, EncodeOptions};

fn run(cmd: &mut Command) -> bool {
    cmd.status().is_ok_and(|s| s.success())
}

/// Reports the skip when a tool is missing; under CI that fails.
fn missing(what: &str) {
    kbtf_testsupport::skip_unless_ci(format!(
        "{what} is not available (Debian: gcc, dwarves, libbpf-dev)"
    ));
}

#[test]
fn gcc_objects_encode_like_pahole() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let src = root.join("testdata/encode/types.c");
    let dir = std::env::temp_dir().join(format!("kbtf-encode-cc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dedup = dir.join("btf_dedup");
    if !run(Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&dedup)
        .arg(root.join("testdata/oracle/btf_dedup.c"))
        .arg("-lbpf"))
    {
        return missing("cc with libbpf-dev");
    }
    let variants: &[&[&str]] = &[
        &["-gdwarf-4", "-O2"],
        &["-gdwarf-5", "-O2"],
        &["-gdwarf-4", "-O0"],
        &["-gdwarf-5", "-Os"],
        &["-gdwarf-4", "-gstrict-dwarf", "-O1"],
        &["-gdwarf-5", "-O2", "-fno-eliminate-unused-debug-types"],
        // Type units in comdat groups, which libdw (and kbtf) leave aside.
        &["-gdwarf-4", "-O2", "-fdebug-types-section"],
        &["-gdwarf-5", "-O2", "-fdebug-types-section"],
    ];
    for (i, flags) in variants.iter().enumerate() {
        let obj = dir.join(format!("t{i}.o"));
        if !run(Command::new("cc")
            .arg("-c")
            .arg("-g")
            .args(*flags)
            .arg("-o")
            .arg(&obj)
            .arg(&src))
        {
            return missing("cc");
        }
        // With and without --btf_gen_floats (without: floats become INTs).
        for (floats, opts) in [
            (true, EncodeOptions::kernel()),
            (false, EncodeOptions::default()),
        ] {
            let theirs = dir.join(format!("t{i}.pahole"));
            let _ = std::fs::remove_file(&theirs);
            let mut pahole = Command::new("pahole");
            pahole.arg("-J");
            if floats {
                pahole.arg("--btf_gen_floats");
            }
            let detached = format!("--btf_encode_detached={}", theirs.display());
            if !run(pahole.arg(detached).arg(&obj)) {
                return missing("pahole");
            }
            let pre = dir.join(format!("t{i}.pre"));
            let ours = dir.join(format!("t{i}.kbtf"));
            let btf = encode_file(&obj, None, &opts).unwrap();
            std::fs::write(&pre, btf.to_bytes()).unwrap();
            assert!(
                run(Command::new(&dedup).arg(&pre).arg(&ours)),
                "{flags:?}: dedup failed"
            );
            let (a, b) = (
                std::fs::read(&ours).unwrap(),
                std::fs::read(&theirs).unwrap(),
            );
            assert!(
                a == b,
                "{flags:?} floats={floats}: kbtf {} bytes, pahole {} bytes",
                a.len(),
                b.len()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{} gcc builds of testdata/encode/types.c, with and without floats, encode like pahole 1.24",
        variants.len()
    );
}

/// Encodes `obj` with kbtf (then libbpf dedup) and with pahole given
/// `pahole_args`; panics if they differ. False if pahole is missing.
fn same_as_pahole(
    dir: &Path,
    dedup: &Path,
    obj: &Path,
    pahole_args: &[&str],
    opts: &EncodeOptions,
) -> bool {
    let theirs = dir.join("pahole.btf");
    let _ = std::fs::remove_file(&theirs);
    let detached = format!("--btf_encode_detached={}", theirs.display());
    if !run(Command::new("pahole")
        .arg("-J")
        .args(pahole_args)
        .arg(detached)
        .arg(obj))
    {
        return false;
    }
    let pre = dir.join("kbtf.pre");
    let ours = dir.join("kbtf.btf");
    let btf = encode_file(obj, None, opts).unwrap();
    std::fs::write(&pre, btf.to_bytes()).unwrap();
    assert!(
        run(Command::new(dedup).arg(&pre).arg(&ours)),
        "{pahole_args:?}: dedup failed"
    );
    let (a, b) = (
        std::fs::read(&ours).unwrap(),
        std::fs::read(&theirs).unwrap(),
    );
    assert!(
        a == b,
        "{} {pahole_args:?}: kbtf {} bytes, pahole {} bytes",
        obj.display(),
        a.len(),
        b.len()
    );
    true
}

#[test]
fn clang_annotations_and_skip_options_like_pahole() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("kbtf-encode-clang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dedup = dir.join("btf_dedup");
    if !run(Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&dedup)
        .arg(root.join("testdata/oracle/btf_dedup.c"))
        .arg("-lbpf"))
    {
        return missing("cc with libbpf-dev");
    }
    let mut objects = Vec::new();
    for (i, (cc, src, dwarf)) in [
        ("clang", "tags.c", "-gdwarf-4"),
        ("clang", "tags.c", "-gdwarf-5"),
        ("clang", "types.c", "-gdwarf-5"),
        ("cc", "types.c", "-gdwarf-5"),
    ]
    .into_iter()
    .enumerate()
    {
        let obj = dir.join(format!("o{i}.o"));
        let mut cmd = Command::new(cc);
        if cc == "clang" {
            cmd.args(["-target", "x86_64-linux-gnu"]);
        }
        let src = root.join("testdata/encode").join(src);
        if !run(cmd
            .args(["-c", "-g", "-O2", dwarf, "-o"])
            .arg(&obj)
            .arg(src))
        {
            return missing(cc);
        }
        objects.push(obj);
    }
    // clang LTO: one executable whose units refer to each other, which
    // pahole (and kbtf) encode as one merged unit.
    let lto = dir.join("lto");
    let srcs = ["lto_a.c", "lto_b.c"].map(|s| root.join("testdata/encode").join(s));
    if !run(Command::new("clang")
        .args(["-flto", "-g", "-O2", "-o"])
        .arg(&lto)
        .args(srcs))
    {
        return missing("clang -flto");
    }
    objects.push(lto);
    let default = EncodeOptions::default;
    let cases: [(&[&str], EncodeOptions); 5] = [
        (&[], default()),
        (
            &["--skip_encoding_btf_decl_tag"],
            EncodeOptions {
                skip_decl_tags: true,
                ..default()
            },
        ),
        (
            &["--skip_encoding_btf_type_tag"],
            EncodeOptions {
                skip_type_tags: true,
                ..default()
            },
        ),
        (
            &["--skip_encoding_btf_vars"],
            EncodeOptions {
                skip_vars: true,
                ..default()
            },
        ),
        (
            &["--skip_encoding_btf_enum64"],
            EncodeOptions {
                skip_enum64: true,
                ..default()
            },
        ),
    ];
    for obj in &objects {
        for (args, opts) in &cases {
            if !same_as_pahole(&dir, &dedup, obj, args, opts) {
                return missing("pahole");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{} objects x {} option sets (annotations, skip options) encode like pahole 1.24",
        objects.len(),
        cases.len()
    );
}

/// Objects for other architectures: their relocation types (RISC-V's
/// label differences, REL vs RELA) and big-endian DWARF and BTF.
#[test]
fn other_architectures_encode_like_pahole() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("kbtf-encode-arch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dedup = dir.join("btf_dedup");
    if !run(Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&dedup)
        .arg(root.join("testdata/oracle/btf_dedup.c"))
        .arg("-lbpf"))
    {
        return missing("cc with libbpf-dev");
    }
    let targets = [
        "aarch64-linux-gnu",
        "powerpc64-linux-gnu",
        "s390x-linux-gnu",
        "riscv64-linux-gnu",
    ];
    for target in targets {
        for dwarf in ["-gdwarf-4", "-gdwarf-5"] {
            let obj = dir.join(format!("{target}{dwarf}.o"));
            if !run(Command::new("clang")
                .args(["-target", target, "-c", "-g", "-O2", dwarf, "-o"])
                .arg(&obj)
                .arg(root.join("testdata/encode/types.c")))
            {
                return missing("clang");
            }
            let opts = EncodeOptions::kernel();
            if !same_as_pahole(&dir, &dedup, &obj, &["--btf_gen_floats"], &opts) {
                return missing("pahole");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{} architectures x DWARF 4 and 5 encode like pahole 1.24",
        targets.len()
    );
}

/// A per-CPU symbol with a name BTF cannot hold: pahole refuses to write
/// BTF unless forced, then leaves the symbol out; so does kbtf.
#[test]
fn invalid_percpu_names_need_force_like_pahole() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("kbtf-encode-force-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dedup = dir.join("btf_dedup");
    if !run(Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&dedup)
        .arg(root.join("testdata/oracle/btf_dedup.c"))
        .arg("-lbpf"))
    {
        return missing("cc with libbpf-dev");
    }
    let obj = dir.join("bad.o");
    let src = root.join("testdata/encode/bad_percpu.c");
    assert!(run(Command::new("cc")
        .args(["-c", "-g", "-O2", "-o"])
        .arg(&obj)
        .arg(src)));
    let err = encode_file(&obj, None, &EncodeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("bad$sym"), "{err}");
    let theirs = dir.join("pahole.btf");
    let detached = format!("--btf_encode_detached={}", theirs.display());
    if !run(Command::new("pahole").arg("-J").arg(&detached).arg(&obj)) {
        return missing("pahole");
    }
    assert!(
        !theirs.exists(),
        "pahole wrote BTF without --btf_encode_force"
    );
    let forced = EncodeOptions {
        force: true,
        ..EncodeOptions::default()
    };
    assert!(same_as_pahole(
        &dir,
        &dedup,
        &obj,
        &["--btf_encode_force"],
        &forced
    ));
    let _ = std::fs::remove_dir_all(&dir);
    println!("invalid per-CPU name: error without force, pahole's BTF with it");
}
