//! A real kbuild module (testdata/kmod) built against Debian's
//! linux-headers-6.12.117+deb12-cloud-amd64, whose kfunc set is not in BTF
//! id order and whose kfuncs carry different KF_* flags. Every function must
//! keep its own flags (checked by name, against the BTF_ID_FLAGS lines of the
//! source and bpftool's ids):
//! - built with kbtf as RESOLVE_BTFIDS, then after 1, 2 and 3 more runs,
//!   then after pahole re-encodes its BTF against a base whose ids differ;
//! - built with upstream's resolve_btfids (linux-kbuild-6.12.117+deb12),
//!   whose second run gets it wrong, and whose output kbtf repairs.
//!
//! And kbtf in kbuild's place (as PAHOLE and RESOLVE_BTFIDS, as the
//! `cmd_btf_ko` of Makefile.modfinal, and `kbtf gen` on the linked module)
//! gives the sections Debian's tools give.
//!
//! Needs: linux-headers-6.12.117+deb12-cloud-amd64, make, gcc, dwarves (pahole), bpftool.

use std::collections::HashMap;

use std::path::{Path, PathBuf};
use std::process::Command;

use kbtf_btf::{Btf, Info, Kind, StrOff};
use kbtf_btfids::kfunc::KF_FLAGS;
use kbtf_testsupport::cmd::run;
use kbtf_testsupport::elf::file_section;
use object::{Object, ObjectSection, ObjectSymbol};

const KDIR: &str = "/usr/src/linux-headers-6.12.117+deb12-cloud-amd64";
const UPSTREAM: &str =
    "/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids";
const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/kmod");

/// (function, flags) in set order, from the source's BTF_ID_FLAGS lines.
fn source_flags() -> Vec<(String, u32)> {
    let src = std::fs::read_to_string(Path::new(SRC).join("btfids_kmod.c")).unwrap();
    src.lines()
        .filter_map(|l| l.trim().strip_prefix("BTF_ID_FLAGS(func, "))
        .map(|rest| {
            let inner = rest.trim_end_matches(')');
            let (name, flags) = inner.split_once(',').unwrap_or((inner, ""));
            let bits = flags
                .split('|')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| {
                    KF_FLAGS
                        .iter()
                        .find(|(n, _)| *n == f)
                        .unwrap_or_else(|| panic!("{f}"))
                        .1
                })
                .fold(0, |a, b| a | b);
            (name.trim().to_string(), bits)
        })
        .collect()
}

/// Function ids of the module's BTF, as bpftool reads them.
fn func_ids(ko: &Path, base: &Path) -> HashMap<String, u32> {
    let out = Command::new("bpftool")
        .arg("-B")
        .arg(base)
        .args(["btf", "dump", "file"])
        .arg(ko)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("] FUNC '"))
        .map(|l| {
            let id = l[1..l.find(']').unwrap()].parse().unwrap();
            let name = l.split('\'').nth(1).unwrap().to_string();
            (name, id)
        })
        .collect()
}

/// A set8's (id, flags) pairs and each member symbol's (name, slot).
type Set8 = (Vec<(u32, u32)>, Vec<(String, usize)>);

/// The set8 of `.BTF_ids`.
fn set8(ko: &Path) -> Set8 {
    let bytes = std::fs::read(ko).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let sec = file.section_by_name(".BTF_ids").unwrap();
    let data = sec.data().unwrap();
    let w = |o: u64| u32::from_le_bytes(data[o as usize..o as usize + 4].try_into().unwrap());
    let syms: Vec<_> = file
        .symbols()
        .filter(|s| s.section_index() == Some(sec.index()))
        .collect();
    let set = syms
        .iter()
        .find(|s| s.name().unwrap().starts_with("__BTF_ID__set8__"))
        .unwrap();
    let pairs = (0..set.size() / 8 - 1)
        .map(|j| (w(set.address() + 8 + 8 * j), w(set.address() + 12 + 8 * j)))
        .collect();
    let members = syms
        .iter()
        .filter_map(|s| {
            let rest = s.name().unwrap().strip_prefix("__BTF_ID__func__")?;
            Some((
                rest[..rest.rfind("__").unwrap()].to_string(),
                ((s.address() - set.address() - 8) / 8) as usize,
            ))
        })
        .collect();
    (pairs, members)
}

/// Every function's entry has its flags; with `symbols`, its symbol points at that entry too.
fn check(ko: &Path, base: &Path, symbols: bool) -> Result<(), String> {
    let ids = func_ids(ko, base);
    let (pairs, members) = set8(ko);
    for (name, flags) in source_flags() {
        let id = ids[&name];
        let Some(&(_, got)) = pairs.iter().find(|p| p.0 == id) else {
            return Err(format!("{name} (id {id}) is not in the set"));
        };
        if got != flags {
            return Err(format!("{name} has flags {got:#x}, its own are {flags:#x}"));
        }
        let slot = members.iter().find(|m| m.0 == name).unwrap().1;
        if symbols && pairs[slot].0 != id {
            return Err(format!("symbol of {name} points at id {}", pairs[slot].0));
        }
    }
    Ok(())
}

fn build(dir: &Path, resolve_btfids: Option<&Path>) -> PathBuf {
    let vars: Vec<_> = resolve_btfids
        .map(|r| format!("RESOLVE_BTFIDS={}", r.display()))
        .into_iter()
        .collect();
    build_with(dir, &vars)
}

/// Builds the module with `make VAR=VALUE...` (PAHOLE, RESOLVE_BTFIDS).
fn build_with(dir: &Path, vars: &[String]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for f in ["btfids_kmod.c", "Kbuild"] {
        std::fs::copy(Path::new(SRC).join(f), dir.join(f)).unwrap();
    }
    let mut make = Command::new("make");
    // Debian's 6.12 was built with pahole 1.24: kbtf answers that version.
    make.env("KBTF_PAHOLE_VERSION", "1.24");
    make.arg("-C").arg(KDIR).arg(format!("M={}", dir.display()));
    make.args(vars);
    let out = run(&mut make);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("BTF [M]"),
        "no BTF step"
    );
    dir.join("btfids_kmod.ko")
}

/// The headers' vmlinux BTF with a few types put first: every id moves.
fn shifted_base(out: &Path) {
    let orig = Btf::from_file(Path::new(KDIR).join("vmlinux")).unwrap();
    let mut alt = Btf::new();
    alt.replace_strings(orig.own_strings().clone());
    const PAD: u32 = 5;
    for _ in 0..PAD {
        alt.add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), 0, &[])
            .unwrap();
    }
    for t in orig.own_types() {
        let mut words = t.words().to_vec();
        for slot in t.info().type_id_slots() {
            if words[slot] != 0 {
                words[slot] += PAD;
            }
        }
        alt.add_record(&words).unwrap();
    }
    std::fs::write(out, alt.to_bytes()).unwrap();
}

fn reencode(ko: &Path, base: &Path) {
    run(Command::new("pahole")
        .env("LLVM_OBJCOPY", "objcopy")
        .args(["-J", "--btf_gen_floats", "--btf_base"])
        .arg(base)
        .arg(ko));
}

/// Whether the kernel headers are there (under CI they must be).
fn have_headers() -> bool {
    if Path::new(KDIR).join("Makefile").exists() {
        return true;
    }
    kbtf_testsupport::skip_unless_ci(format!(
        "{KDIR} is missing (install linux-headers-6.12.117+deb12-cloud-amd64)"
    ));
    false
}

#[test]
fn kfunc_flags_survive_reruns_and_reencoding() {
    if !have_headers() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let vmlinux = Path::new(KDIR).join("vmlinux");
    let kbtf_as = tmp.path().join("resolve_btfids");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kbtf"), &kbtf_as).unwrap();
    let kbtf = |base: &Path, ko: &Path| run(Command::new(&kbtf_as).arg("-b").arg(base).arg(ko));

    // kbtf as kbuild's resolve_btfids.
    let ko = build(&tmp.path().join("kbtf"), Some(&kbtf_as));
    let ids = func_ids(&ko, &vmlinux);
    let in_source_order: Vec<u32> = source_flags().iter().map(|(n, _)| ids[n]).collect();
    assert!(
        in_source_order.windows(2).any(|w| w[0] > w[1]),
        "the set is in id order: nothing to test"
    );
    check(&ko, &vmlinux, true).unwrap();
    let mut last = std::fs::read(&ko).unwrap();
    for run in 1..=3 {
        kbtf(&vmlinux, &ko);
        check(&ko, &vmlinux, true).unwrap_or_else(|e| panic!("run {run}: {e}"));
        let now = std::fs::read(&ko).unwrap();
        assert!(now == last, "run {run} changed the file");
        last = now;
    }
    let alt = tmp.path().join("alt-base.btf");
    shifted_base(&alt);
    reencode(&ko, &alt);
    kbtf(&alt, &ko);
    assert_ne!(
        func_ids(&ko, &alt),
        ids,
        "the new base did not change the ids"
    );
    check(&ko, &alt, true).expect("after re-encoding");
    let before = std::fs::read(&ko).unwrap();
    kbtf(&alt, &ko);
    assert!(
        std::fs::read(&ko).unwrap() == before,
        "a run after re-encoding changed the file"
    );

    // Upstream's resolve_btfids: right once, wrong on the second run.
    let up = build(&tmp.path().join("upstream"), None);
    check(&up, &vmlinux, false).expect("upstream's first run");
    assert!(
        check(&up, &vmlinux, true).is_err(),
        "upstream left its symbols stale"
    );
    let repaired = tmp.path().join("repaired.ko");
    std::fs::copy(&up, &repaired).unwrap();
    let stale = tmp.path().join("stale.ko");
    std::fs::copy(&up, &stale).unwrap();
    run(Command::new(UPSTREAM).arg("-b").arg(&vmlinux).arg(&up));
    let err = check(&up, &vmlinux, false).expect_err("upstream's second run keeps the flags");
    eprintln!("upstream resolve_btfids, second run: {err}");

    // kbtf on upstream's output repairs the symbols and keeps the flags.
    kbtf(&vmlinux, &repaired);
    check(&repaired, &vmlinux, true).expect("kbtf on upstream's output");
    // Upstream's output re-encoded: the BTF that gave its ids is gone and
    // its symbols are stale, so nothing tells who owns which flags: kbtf refuses.
    reencode(&stale, &alt);
    let out = Command::new(&kbtf_as)
        .arg("-b")
        .arg(&alt)
        .arg(&stale)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("cannot tell which entry belongs to which symbol"),
        "{msg}"
    );
}

/// `.BTF` and `.BTF_ids` of `ko` are those of `reference`.
fn same_sections(ko: &Path, reference: &Path, what: &str) {
    for name in [".BTF", ".BTF_ids"] {
        let got = file_section(ko, name);
        assert!(got.is_some(), "{what}: no {name}");
        assert!(
            got == file_section(reference, name),
            "{what}: {name} differs from Debian's pahole + resolve_btfids"
        );
    }
}

fn gen(base: &Path, ko: &Path) {
    run(kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"))
        .args(["gen", "--btf_base"])
        .arg(base)
        .arg(ko));
}

/// kbtf in kbuild's place: as PAHOLE and RESOLVE_BTFIDS (through symlinks
/// of those names), as kbuild's BTF step (`cmd_btf_ko` set on make's command
/// line to `kbtf gen`), and as `kbtf gen` on the module kbuild linked, give the
/// `.BTF` and `.BTF_ids` that Debian's pahole 1.24 and resolve_btfids give.
/// `kbtf gen` again changes no byte, and after the base changed, it gives
/// what it gives on the freshly linked module with that base.
#[test]
fn kbtf_in_kbuild_matches_debian_tools() {
    if !have_headers() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let vmlinux = Path::new(KDIR).join("vmlinux");
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for name in ["pahole", "resolve_btfids"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kbtf"), bin.join(name)).unwrap();
    }
    let var = |name: &str, path: &Path| format!("{name}={}", path.display());

    // kbuild passes pahole -j, with which pahole 1.24 encodes the module's
    // two units in whichever order its threads finish: the reference is
    // built without it (kbtf's order is the single-threaded one, whatever -j).
    let debian = build_with(
        &tmp.path().join("debian"),
        &["PAHOLE_FLAGS=--btf_gen_floats --lang_exclude=rust".into()],
    );
    let kbtf = build_with(
        &tmp.path().join("kbtf"),
        &[
            var("PAHOLE", &bin.join("pahole")),
            var("RESOLVE_BTFIDS", &bin.join("resolve_btfids")),
        ],
    );
    same_sections(&kbtf, &debian, "kbtf as PAHOLE and RESOLVE_BTFIDS");

    // Makefile.modfinal's BTF step as docs/kbuild.md has it: one kbtf gen.
    let in_kbuild = build_with(
        &tmp.path().join("gen"),
        &[format!(
            "cmd_btf_ko={} gen --btf_base vmlinux $@",
            env!("CARGO_BIN_EXE_kbtf")
        )],
    );
    same_sections(&in_kbuild, &debian, "kbtf gen as kbuild's BTF step");

    // The module as linked: kbuild's BTF step does nothing.
    let truth = Path::new("/bin/true");
    let linked = build_with(
        &tmp.path().join("linked"),
        &[var("PAHOLE", truth), var("RESOLVE_BTFIDS", truth)],
    );
    assert!(file_section(&linked, ".BTF").is_none());
    let fresh = tmp.path().join("fresh.ko");
    std::fs::copy(&linked, &fresh).unwrap();
    gen(&vmlinux, &linked);
    same_sections(&linked, &debian, "kbtf gen");
    run(Command::new("modinfo").arg(&linked));
    let once = std::fs::read(&linked).unwrap();
    gen(&vmlinux, &linked);
    assert!(
        std::fs::read(&linked).unwrap() == once,
        "a second gen changed the file"
    );

    // Only the base changed: gen on the processed module is gen on the fresh one.
    let alt = tmp.path().join("alt-base.btf");
    shifted_base(&alt);
    gen(&alt, &linked);
    gen(&alt, &fresh);
    assert!(
        std::fs::read(&linked).unwrap() == std::fs::read(&fresh).unwrap(),
        "gen after a base change differs from gen on the freshly linked module"
    );
    assert!(
        std::fs::read(&linked).unwrap() != once,
        "the base change changed nothing"
    );
    check(&linked, &alt, true).expect("kfunc flags after the base change");
}
