//! kbtf run as `pahole` with `KBTF_PAHOLE_VERSION=1.30` against Debian
//! trixie's pahole 1.30 (in the chroot `testdata/chroot-trixie.sh` builds),
//! with trixie kbuild's flags, on small C files compiled here with
//! `gcc -g -O2`: types.c; cu_a.c + cu_b.c (same-named static functions whose
//! prototypes differ, .isra/.constprop clones); modern.c (a parameter in an
//! unexpected register, a kfunc set with KF_FASTCALL, a per-CPU variable
//! defined through DW_AT_specification); all of them linked; split BTF over
//! a small base; and the bookworm corpus (gcc 12's DWARF) encoded as 1.30.
//! Skips, saying so, without the chroot or root.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What Debian trixie's kbuild (pahole 1.30) passes after `-J`.
const FLAGS: &[&str] = &[
    "--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs",
    "--btf_features=+reproducible_build",
    "--lang_exclude=rust",
];

fn run(cmd: &mut Command) -> bool {
    cmd.status().is_ok_and(|s| s.success())
}

struct Tools {
    chroot: PathBuf,
    /// A directory inside the chroot, so both tools see the same files.
    dir: tempfile::TempDir,
}

fn tools() -> Option<Tools> {
    let chroot = std::env::var_os("KBTF_TRIXIE_CHROOT")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
            Some(cache.join("kbtf/chroot-trixie"))
        })?;
    let skip = |why: &str| {
        kbtf_testsupport::skip(why);
        None
    };
    if !chroot.join(".complete").exists() {
        return skip(&format!(
            "no trixie chroot at {} (run testdata/chroot-trixie.sh)",
            chroot.display()
        ));
    }
    if !run(Command::new("chroot")
        .arg(&chroot)
        .args(["pahole", "--version"])
        .stdout(std::process::Stdio::null()))
    {
        return skip("cannot run pahole in the trixie chroot (chroot needs root)");
    }
    for tool in ["gcc", "ld"] {
        if !run(Command::new(tool)
            .arg("--version")
            .stdout(std::process::Stdio::null()))
        {
            return skip(&format!("{tool} is not installed"));
        }
    }
    let dir = tempfile::tempdir_in(chroot.join("tmp")).unwrap();
    Some(Tools { chroot, dir })
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

    /// The same file as the chroot sees it.
    fn inside(&self, path: &Path) -> PathBuf {
        Path::new("/").join(path.strip_prefix(&self.chroot).unwrap())
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

    /// pahole 1.30 in the chroot with `--btf_encode_detached`.
    fn theirs(&self, args: &[String], obj: &Path) -> Vec<u8> {
        let out = self.path(&format!(
            "{}.pahole.btf",
            obj.file_name().unwrap().to_string_lossy()
        ));
        let _ = std::fs::remove_file(&out);
        let ok = run(Command::new("chroot")
            .arg(&self.chroot)
            .args(["pahole", "-J"])
            .args(FLAGS)
            .args(args)
            .arg(format!(
                "--btf_encode_detached={}",
                self.inside(&out).display()
            ))
            .arg(self.inside(obj)));
        assert!(ok, "pahole 1.30 {args:?} {} failed", obj.display());
        std::fs::read(&out).unwrap()
    }

    /// kbtf as pahole 1.30, same arguments (paths outside the chroot).
    fn ours(&self, args: &[String], obj: &Path, jobs: &str) -> Vec<u8> {
        let out = self.path(&format!(
            "{}.kbtf.btf",
            obj.file_name().unwrap().to_string_lossy()
        ));
        let _ = std::fs::remove_file(&out);
        let ok = run(Command::new(env!("CARGO_BIN_EXE_kbtf"))
            .env("KBTF_PAHOLE_VERSION", "1.30")
            .args(["pahole", "-J", jobs])
            .args(FLAGS)
            .args(args)
            .arg(format!("--btf_encode_detached={}", out.display()))
            .arg(obj));
        assert!(ok, "kbtf pahole {args:?} {} failed", obj.display());
        std::fs::read(&out).unwrap()
    }

    fn same(&self, ours_args: &[String], theirs_args: &[String], obj: &Path) {
        let theirs = self.theirs(theirs_args, obj);
        for jobs in ["-j1", "-j2", "-j8"] {
            let ours = self.ours(ours_args, obj, jobs);
            assert!(
                ours == theirs,
                "{} {jobs}: kbtf {} bytes, pahole 1.30 {} bytes",
                obj.display(),
                ours.len(),
                theirs.len()
            );
        }
    }
}

#[test]
fn objects_encode_like_pahole_130() {
    let Some(t) = tools() else { return };
    let types = t.compile("types.c");
    let two_units = t.link(&[t.compile("cu_a.c"), t.compile("cu_b.c")], "two_units.o");
    let modern = t.compile("modern.c");
    let all = t.link(
        &[
            t.compile("cu_a.c"),
            t.compile("cu_b.c"),
            t.compile("types.c"),
            t.compile("modern.c"),
        ],
        "all.o",
    );
    for obj in [&types, &two_units, &modern, &all] {
        t.same(&[], &[], obj);
    }
    // What the comparison stands on: make_big dropped (unexpected
    // register), the kfunc tags, the VAR through its specification.
    let dump = Command::new(env!("CARGO_BIN_EXE_kbtf"))
        .arg("dump")
        .arg(t.path("modern.o.kbtf.btf"))
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(!dump.contains("FUNC 'make_big'"), "{dump}");
    assert_eq!(dump.matches("DECL_TAG 'bpf_kfunc'").count(), 2, "{dump}");
    assert_eq!(dump.matches("DECL_TAG 'bpf_fastcall'").count(), 1, "{dump}");
    assert!(dump.contains("VAR 'percpu_conn'"), "{dump}");
    println!("types.o, two units, modern.o and all of them linked: kbtf gives pahole 1.30's bytes at -j1/-j2/-j8");
}

#[test]
fn split_btf_over_a_small_base_encodes_like_pahole_130() {
    let Some(t) = tools() else { return };
    let base_obj = t.compile("base.c");
    let base = t.path("base.btf");
    std::fs::write(&base, t.theirs(&[], &base_obj)).unwrap();
    let ours = [format!("--btf_base={}", base.display())];
    let theirs = [format!("--btf_base={}", t.inside(&base).display())];
    let module = t.link(
        &[
            t.compile("cu_a.c"),
            t.compile("cu_b.c"),
            t.compile("modern.c"),
        ],
        "module.o",
    );
    for obj in [&module, &t.compile("types.c")] {
        t.same(&ours, &theirs, obj);
    }
    println!("split BTF over a small base: kbtf gives pahole 1.30's bytes");
}

/// Another compiler's DWARF through the same pahole 1.30: the bookworm
/// corpus (gcc 12; trixie's kernel is gcc 14's) encoded as 1.30, the
/// vmlinux and every 40th module over it. Hard links put the files where
/// the chroot sees them.
#[test]
fn bookworm_kernel_encodes_like_pahole_130() {
    let Some(t) = tools() else { return };
    let Some(corpus) = kbtf_testsupport::corpus::Corpus::find() else {
        return;
    };
    let link = |from: &Path, name: &str| -> Option<PathBuf> {
        // The corpus's vmlinux and modules are symlinks: link their targets.
        let to = t.path(name);
        let from = std::fs::canonicalize(from).ok()?;
        std::fs::hard_link(from, &to).ok().map(|_| to)
    };
    let Some(vmlinux) = link(&corpus.vmlinux(), "vmlinux") else {
        kbtf_testsupport::skip("the corpus is on another file system than the chroot");
        return;
    };
    let theirs = t.theirs(&["-j2".into()], &vmlinux);
    let ours = t.ours(&[], &vmlinux, "-j2");
    assert!(
        ours == theirs,
        "bookworm vmlinux as 1.30 differs from pahole 1.30"
    );
    let base = t.path("vmlinux.btf");
    std::fs::write(&base, &theirs).unwrap();
    let ours_base = [format!("--btf_base={}", base.display())];
    let theirs_base = [format!("--btf_base={}", t.inside(&base).display())];
    let modules: Vec<PathBuf> = corpus.modules().into_iter().step_by(40).collect();
    for (i, ko) in modules.iter().enumerate() {
        let copy = link(ko, &format!("{i:02}.ko")).unwrap();
        let theirs = t.theirs(&theirs_base, &copy);
        let ours = t.ours(&ours_base, &copy, "-j1");
        assert!(ours == theirs, "{}: differs from pahole 1.30", ko.display());
    }
    println!(
        "bookworm vmlinux and {} modules as pahole 1.30: kbtf gives pahole 1.30's bytes",
        modules.len()
    );
}
