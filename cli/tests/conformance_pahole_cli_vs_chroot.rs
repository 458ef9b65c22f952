//! kbtf run as `pahole` with `KBTF_PAHOLE_VERSION=1.30` and `1.32` against
//! Debian trixie's pahole 1.30 and sid's pahole 1.32 themselves (in the
//! chroots `testdata/chroot-debian.sh` builds), each with its kbuild's
//! flags, on small C files compiled here with gcc and with clang at `-O2`:
//!
//! - types.c: every kind of type;
//! - cu_a.c + cu_b.c: same-named static functions whose prototypes differ,
//!   `.isra` and `.constprop` clones;
//! - clones.c: `.cold` and `.part` clones;
//! - modern.c: a parameter in an unexpected register, a kfunc set with
//!   KF_FASTCALL, a per-CPU variable defined through DW_AT_specification;
//! - arrays_arena.c: 2- and 3-dimensional arrays, arena kfuncs;
//! - stack_args.c: parameters passed on the stack (a 7th and 8th argument,
//!   a struct by value, a packed struct by value);
//! - all of them linked; split BTF over a small base; and the bookworm
//!   corpus (gcc 12's DWARF) encoded as each version.
//!
//! Every output must be byte-identical at -j1, -j2 and -j8. Skips, saying
//! so, without the chroots or root (a failure under CI, whose setup builds
//! them).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kbtf_testsupport::chroot::{Chroot, Suite};

fn run(cmd: &mut Command) -> bool {
    cmd.status().is_ok_and(|s| s.success())
}

/// The chroot, once the host compiler and linker are known to be there.
fn setup(suite: Suite, cc: &'static str) -> Option<Lab> {
    for tool in [cc, "ld"] {
        if !run(Command::new(tool).arg("--version").stdout(Stdio::null())) {
            kbtf_testsupport::skip_unless_ci(format!("{tool} is not installed"));
            return None;
        }
    }
    Some(Lab {
        chroot: Chroot::find(suite)?,
        cc,
    })
}

struct Lab {
    chroot: Chroot,
    cc: &'static str,
}

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/encode")
        .join(name)
}

impl Lab {
    fn version(&self) -> &'static str {
        self.chroot.suite.pahole_version()
    }

    fn compile(&self, src: &str) -> PathBuf {
        let obj = self.chroot.path(&src.replace(".c", ".o"));
        assert!(
            run(Command::new(self.cc)
                .args(["-g", "-O2", "-c", "-o"])
                .arg(&obj)
                .arg(source(src))),
            "{} {src}",
            self.cc
        );
        obj
    }

    fn link(&self, objs: &[PathBuf], out: &str) -> PathBuf {
        let out = self.chroot.path(out);
        assert!(
            run(Command::new("ld").arg("-r").args(objs).arg("-o").arg(&out)),
            "ld -r"
        );
        out
    }

    /// kbtf as this pahole version, same flags (paths outside the chroot).
    fn ours(&self, extra: &[String], obj: &Path, jobs: &str) -> Vec<u8> {
        let name = obj.file_name().unwrap().to_string_lossy();
        let out = self.chroot.path(&format!("{name}.kbtf.btf"));
        let _ = std::fs::remove_file(&out);
        let ok = run(Command::new(env!("CARGO_BIN_EXE_kbtf"))
            .env("KBTF_PAHOLE_VERSION", self.version())
            .args(["pahole", "-J", jobs])
            .args(self.chroot.suite.pahole_flags())
            .args(extra)
            .arg(format!("--btf_encode_detached={}", out.display()))
            .arg(obj));
        assert!(ok, "kbtf pahole {extra:?} {} failed", obj.display());
        std::fs::read(&out).unwrap()
    }

    /// pahole's bytes equal kbtf's at every thread count; the bytes.
    fn same(&self, ours_extra: &[String], theirs_extra: &[String], obj: &Path) -> Vec<u8> {
        let theirs = self.chroot.pahole(theirs_extra, obj);
        for jobs in ["-j1", "-j2", "-j8"] {
            let ours = self.ours(ours_extra, obj, jobs);
            assert!(
                ours == theirs,
                "{} ({}) {jobs}: kbtf {} bytes, pahole {} {} bytes",
                obj.display(),
                self.cc,
                ours.len(),
                self.version(),
                theirs.len()
            );
        }
        theirs
    }

    fn dump(&self, btf: &[u8], name: &str) -> String {
        let path = self.chroot.path(name);
        std::fs::write(&path, btf).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kbtf"))
            .arg("dump")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "kbtf dump {name}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Each object alone and all of them linked; then checks on what the
/// comparison stands on, so that an empty or trivial output cannot pass.
fn objects(suite: Suite, cc: &'static str) {
    let Some(lab) = setup(suite, cc) else { return };
    let sources = [
        "types.c",
        "cu_a.c",
        "cu_b.c",
        "clones.c",
        "modern.c",
        "arrays_arena.c",
        "stack_args.c",
    ];
    let objs: Vec<PathBuf> = sources.iter().map(|s| lab.compile(s)).collect();
    for obj in &objs {
        lab.same(&[], &[], obj);
    }
    let all = lab.link(&objs, "all.o");
    let btf = lab.same(&[], &[], &all);
    let dump = lab.dump(&btf, "all.btf");

    assert!(dump.contains("FUNC 'check_conn'"), "{dump}");
    assert_eq!(dump.matches("DECL_TAG 'bpf_kfunc'").count(), 5, "{dump}");
    assert_eq!(dump.matches("DECL_TAG 'bpf_fastcall'").count(), 1, "{dump}");
    assert!(dump.contains("VAR 'percpu_conn'"), "{dump}");
    // ARRAY lines: `[N] ARRAY '(anon)' type_id=T index_type_id=I nr_elems=E`.
    let arrays = dump.lines().filter(|l| l.contains("] ARRAY ")).count();
    assert!(arrays > 5, "{dump}");
    let arena_tags = dump.matches("TYPE_TAG 'address_space(1)'").count();
    match suite {
        Suite::Trixie => assert_eq!(arena_tags, 0, "1.30 has no attributes: {dump}"),
        // Four arena pointers (KF_ARENA_RET/ARG1/ARG2), all `void *`: one
        // tag and one pointer to it after dedup.
        Suite::Sid => assert_eq!(arena_tags, 1, "{dump}"),
    }
    if cc == "gcc" {
        // gcc's clones, under their DWARF names (optimized_func).
        let syms = Command::new("nm").arg(&all).output().unwrap();
        let syms = String::from_utf8_lossy(&syms.stdout);
        for clone in [".isra.", ".constprop.", ".part.", ".cold"] {
            assert!(syms.contains(clone), "gcc made no {clone} clone: {syms}");
        }
        // 1.30 encodes the .part clone under its DWARF name; 1.32 (as
        // measured in its chroot) leaves that function out.
        assert_eq!(
            dump.contains("FUNC 'walk_conns'"),
            suite == Suite::Trixie,
            "{dump}"
        );
        // make_big's `seed` is not where the ABI puts it: dropped.
        assert!(!dump.contains("FUNC 'make_big'"), "{dump}");
    }
    println!(
        "{cc}: {} objects and all of them linked: kbtf gives pahole {}'s bytes at -j1/-j2/-j8",
        sources.len(),
        lab.version()
    );
}

fn split_over_small_base(suite: Suite, cc: &'static str) {
    let Some(lab) = setup(suite, cc) else { return };
    let base_obj = lab.compile("base.c");
    let base = lab.chroot.path("base.btf");
    std::fs::write(&base, lab.chroot.pahole(&[], &base_obj)).unwrap();
    let ours = [format!("--btf_base={}", base.display())];
    let theirs = [format!("--btf_base={}", lab.chroot.inside(&base).display())];
    let objs: Vec<PathBuf> = ["cu_a.c", "cu_b.c", "modern.c", "arrays_arena.c"]
        .iter()
        .map(|s| lab.compile(s))
        .collect();
    let module = lab.link(&objs, "module.o");
    for obj in [&module, &lab.compile("types.c")] {
        lab.same(&ours, &theirs, obj);
    }
    println!(
        "{cc}: split BTF over a small base: kbtf gives pahole {}'s bytes",
        lab.version()
    );
}

/// Another compiler's DWARF through the same pahole: the bookworm corpus
/// (gcc 12) encoded as this version, the vmlinux and every 40th module
/// over it. Hard links put the files where the chroot sees them.
fn bookworm_kernel(suite: Suite) {
    let Some(lab) = setup(suite, "gcc") else {
        return;
    };
    let Some(corpus) = kbtf_testsupport::corpus::Corpus::find() else {
        return;
    };
    let link = |from: &Path, name: &str| -> Option<PathBuf> {
        // The corpus's vmlinux and modules are symlinks: link their targets.
        let to = lab.chroot.path(name);
        let from = std::fs::canonicalize(from).ok()?;
        std::fs::hard_link(from, &to).ok().map(|_| to)
    };
    let Some(vmlinux) = link(&corpus.vmlinux(), "vmlinux") else {
        kbtf_testsupport::skip("the corpus is on another file system than the chroot");
        return;
    };
    let theirs = lab.chroot.pahole(&["-j2".into()], &vmlinux);
    let ours = lab.ours(&[], &vmlinux, "-j2");
    assert!(
        ours == theirs,
        "bookworm vmlinux as {} differs from pahole",
        lab.version()
    );
    let base = lab.chroot.path("vmlinux.btf");
    std::fs::write(&base, &theirs).unwrap();
    let ours_base = [format!("--btf_base={}", base.display())];
    let theirs_base = [format!("--btf_base={}", lab.chroot.inside(&base).display())];
    let modules: Vec<PathBuf> = corpus.modules().into_iter().step_by(40).collect();
    for (i, ko) in modules.iter().enumerate() {
        let copy = link(ko, &format!("{i:02}.ko")).unwrap();
        let theirs = lab.chroot.pahole(&theirs_base, &copy);
        let ours = lab.ours(&ours_base, &copy, "-j1");
        assert!(
            ours == theirs,
            "{}: differs from pahole {}",
            ko.display(),
            lab.version()
        );
    }
    println!(
        "bookworm vmlinux and {} modules as pahole {}: kbtf gives pahole's bytes",
        modules.len(),
        lab.version()
    );
}

#[test]
fn gcc_objects_encode_like_pahole_130() {
    objects(Suite::Trixie, "gcc");
}

#[test]
fn clang_objects_encode_like_pahole_130() {
    objects(Suite::Trixie, "clang");
}

#[test]
fn gcc_objects_encode_like_pahole_132() {
    objects(Suite::Sid, "gcc");
}

#[test]
fn clang_objects_encode_like_pahole_132() {
    objects(Suite::Sid, "clang");
}

#[test]
fn split_btf_over_a_small_base_encodes_like_pahole_130() {
    split_over_small_base(Suite::Trixie, "gcc");
    split_over_small_base(Suite::Trixie, "clang");
}

#[test]
fn split_btf_over_a_small_base_encodes_like_pahole_132() {
    split_over_small_base(Suite::Sid, "gcc");
    split_over_small_base(Suite::Sid, "clang");
}

#[test]
fn bookworm_kernel_encodes_like_pahole_130() {
    bookworm_kernel(Suite::Trixie);
}

#[test]
fn bookworm_kernel_encodes_like_pahole_132() {
    bookworm_kernel(Suite::Sid);
}
