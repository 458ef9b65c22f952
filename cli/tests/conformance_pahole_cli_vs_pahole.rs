//! kbtf run as `pahole` (a symlink named pahole, as kbuild would call it)
//! against Debian's pahole 1.24 on small C files compiled here with
//! `gcc -g -O2`: base BTF of relocatable objects, split BTF over a small
//! base, `.BTF` written into the object in place, and the same bytes for
//! any `-j`. Sources: testdata/encode/ (types.c covers bitfields, unions,
//! flexible and multi-dimensional arrays, enums of every sign and size,
//! varargs, function pointers, qualifier and typedef chains, per-CPU
//! variables; cu_a.c + cu_b.c, linked with `ld -r`, same-named static
//! functions in two units and .isra/.constprop clones).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> bool {
    cmd.status().is_ok_and(|s| s.success())
}

struct Tools {
    dir: tempfile::TempDir,
    kbtf_pahole: PathBuf,
}

/// Needs gcc, ld, objcopy and pahole; skips with a message where one is
/// missing, except under CI.
fn tools() -> Option<Tools> {
    let have = |tool: &str| {
        run(Command::new(tool)
            .arg("--version")
            .stdout(std::process::Stdio::null()))
    };
    if let Some(tool) = ["gcc", "ld", "objcopy", "pahole"]
        .into_iter()
        .find(|t| !have(t))
    {
        kbtf_testsupport::skip_unless_ci(format!(
            "{tool} is not installed (Debian: gcc, binutils, dwarves)"
        ));
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let kbtf_pahole = dir.path().join("bin/pahole");
    std::fs::create_dir_all(kbtf_pahole.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kbtf"), &kbtf_pahole).unwrap();
    Some(Tools { dir, kbtf_pahole })
}

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/encode")
        .join(name)
}

impl Tools {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn compile(&self, src: &str) -> PathBuf {
        let obj = self.path(&src.replace(".c", ".o"));
        assert!(
            run(Command::new("gcc")
                .args(["-g", "-O2", "-c", "-o"])
                .arg(&obj)
                .arg(source(src))),
            "gcc {src}"
        );
        obj
    }

    fn link(&self, objs: &[PathBuf], out: &str) -> PathBuf {
        let out = self.path(out);
        assert!(
            run(Command::new("ld").arg("-r").args(objs).arg("-o").arg(&out)),
            "ld -r"
        );
        out
    }

    /// Runs one pahole (Debian's or kbtf's) with `--btf_encode_detached`,
    /// deleting the output first (pahole 1.24 does not truncate it).
    fn detached(&self, pahole: &Path, args: &[&str], obj: &Path, tag: &str) -> Vec<u8> {
        let out = self.path(&format!(
            "{}.{tag}.btf",
            obj.file_name().unwrap().to_string_lossy()
        ));
        let _ = std::fs::remove_file(&out);
        // Debian bookworm's pahole is 1.24: kbtf emulates that one.
        let ok = run(Command::new(pahole)
            .env("KBTF_PAHOLE_VERSION", "1.24")
            .arg("-J")
            .args(args)
            .arg(format!("--btf_encode_detached={}", out.display()))
            .arg(obj));
        assert!(ok, "{} {args:?} {} failed", pahole.display(), obj.display());
        std::fs::read(&out).unwrap()
    }

    /// Debian's pahole and kbtf's, same arguments, same bytes.
    fn same(&self, args: &[&str], obj: &Path) -> usize {
        let theirs = self.detached(Path::new("pahole"), args, obj, "pahole");
        let ours = self.detached(&self.kbtf_pahole, args, obj, "kbtf");
        assert!(
            ours == theirs,
            "{args:?} {}: kbtf {} bytes, pahole {} bytes",
            obj.display(),
            ours.len(),
            theirs.len()
        );
        ours.len()
    }
}

const KERNEL_FLAGS: &[&str] = &["--btf_gen_floats", "--lang_exclude=rust"];

#[test]
fn relocatable_objects_encode_like_pahole() {
    let Some(t) = tools() else { return };
    let types = t.compile("types.c");
    let two_units = t.link(&[t.compile("cu_a.c"), t.compile("cu_b.c")], "two_units.o");
    let nm = Command::new("nm").arg(&two_units).output().unwrap();
    let symbols = String::from_utf8_lossy(&nm.stdout);
    assert!(
        symbols.contains(".isra.") && symbols.contains(".constprop."),
        "gcc made no clones:\n{symbols}"
    );
    for obj in [&types, &two_units] {
        t.same(KERNEL_FLAGS, obj);
        t.same(&[], obj);
    }
    println!("types.o and a two-unit object: kbtf as pahole gives pahole 1.24's bytes, with and without floats");
}

#[test]
fn split_btf_over_a_small_base_encodes_like_pahole() {
    let Some(t) = tools() else { return };
    let base_obj = t.compile("base.c");
    // The base is pahole's own encoding of base.o, as vmlinux's .BTF is.
    let base = t.path("base.btf");
    std::fs::write(
        &base,
        t.detached(Path::new("pahole"), KERNEL_FLAGS, &base_obj, "base"),
    )
    .unwrap();
    let base_arg = format!("--btf_base={}", base.display());
    let module = t.link(&[t.compile("cu_a.c"), t.compile("cu_b.c")], "module.o");
    for obj in [&module, &t.compile("types.c")] {
        let mut args = KERNEL_FLAGS.to_vec();
        args.push(&base_arg);
        t.same(&args, obj);
    }
    println!("split BTF over a small base: kbtf as pahole gives pahole 1.24's bytes");
}

#[test]
fn in_place_encoding_writes_the_same_btf_section() {
    let Some(t) = tools() else { return };
    let obj = t.link(&[t.compile("cu_a.c"), t.compile("cu_b.c")], "inplace.o");
    let section = |file: &Path| {
        let out = t.path("section.btf");
        let _ = std::fs::remove_file(&out);
        let scratch = t.path("scratch.o");
        assert!(run(Command::new("objcopy")
            .arg(format!("--dump-section=.BTF={}", out.display()))
            .arg(file)
            .arg(&scratch)));
        std::fs::read(out).unwrap()
    };
    let (theirs, ours) = (t.path("theirs.o"), t.path("ours.o"));
    std::fs::copy(&obj, &theirs).unwrap();
    std::fs::copy(&obj, &ours).unwrap();
    assert!(run(Command::new("pahole")
        .arg("-J")
        .args(KERNEL_FLAGS)
        .arg(&theirs)));
    assert!(run(Command::new(&t.kbtf_pahole)
        .env("KBTF_PAHOLE_VERSION", "1.24")
        .arg("-J")
        .args(KERNEL_FLAGS)
        .arg(&ours)));
    assert!(section(&ours) == section(&theirs), "in-place .BTF differs");
    // Run again on the processed file: the .BTF is replaced, not added twice.
    let before = std::fs::read(&ours).unwrap();
    assert!(run(Command::new(&t.kbtf_pahole)
        .env("KBTF_PAHOLE_VERSION", "1.24")
        .arg("-J")
        .args(KERNEL_FLAGS)
        .arg(&ours)));
    assert!(
        std::fs::read(&ours).unwrap() == before,
        "a second in-place run changed the file"
    );
}

#[test]
fn any_thread_count_gives_the_same_bytes() {
    let Some(t) = tools() else { return };
    let obj = t.link(
        &[
            t.compile("cu_a.c"),
            t.compile("cu_b.c"),
            t.compile("types.c"),
        ],
        "three_units.o",
    );
    let one = t.detached(&t.kbtf_pahole, &["-j1", "--btf_gen_floats"], &obj, "j1");
    for j in ["-j2", "-j8"] {
        assert!(
            t.detached(&t.kbtf_pahole, &[j, "--btf_gen_floats"], &obj, j) == one,
            "{j} differs from -j1"
        );
    }
}
