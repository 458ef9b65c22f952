//! Real Linux 7.x kbuild, in Debian sid's chroot with its
//! linux-headers-7.2.*-cloud-amd64: an out-of-tree module (testdata/kmod7:
//! kfuncs with KF_IMPLICIT_ARGS and KF_FASTCALL, a set8 out of id order, a
//! sorted set, an unsorted list) built by gen-btf.sh with sid's pahole 1.32
//! and resolve_btfids 7.2, which gives it `.BTF`, a distilled `.BTF.base`
//! and `.BTF_ids`. kbtf must give the same three sections:
//!
//! - as PAHOLE and RESOLVE_BTFIDS (symlinks of those names, inside the chroot),
//!   gen-btf.sh calling them;
//! - as kbuild's BTF step (`cmd_btf_ko` = `kbtf gen`, docs/kbuild.md);
//! - as `kbtf gen` on the module as linked.
//!
//! Then the idempotency the 7.x flow lacks: `kbtf gen` on its own output and
//! on the module sid's tools processed changes nothing / gives the same
//! bytes, and after the vmlinux changed, `kbtf gen` on the processed module
//! gives what sid's tools give on the freshly linked one over the new vmlinux
//! (in-tree style, without distilling, where every id moves). Last, the
//! module's BTF relocated onto the full BTF of the 7.2.13 vmlinux (the sid
//! corpus) loads (BPF_BTF_LOAD), and so does it relocated onto the running
//! kernel's BTF where that kernel has the types it needs.
//!
//! Skips, saying so, without the chroot or root (a failure under CI).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kbtf_btf::{Btf, Info, Kind, StrOff};
use kbtf_testsupport::chroot::{Chroot, Kbuild, Suite};
use kbtf_testsupport::cmd::{kbtf_as, run};
use kbtf_testsupport::elf::{assert_same_sections, file_section};

const SECTIONS: [&str; 3] = [".BTF", ".BTF.base", ".BTF_ids"];

const KMOD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/kmod7");

fn build(k: &Kbuild, name: &str, vars: &[String]) -> PathBuf {
    let ko = k.build(
        name,
        Path::new(KMOD),
        &["kfuncs7.c", "Kbuild"],
        vars,
        &[("KBTF_PAHOLE_VERSION", "1.32")],
    );
    assert!(ko.exists(), "{name}: no module");
    ko
}

fn same_sections(ko: &Path, reference: &Path, what: &str) {
    assert_same_sections(
        ko,
        reference,
        &SECTIONS,
        what,
        "sid's pahole 1.32 + resolve_btfids 7.2",
    );
}

/// `kbtf gen` as kbuild runs it for an out-of-tree module: Linux 7.2's
/// PAHOLE_FLAGS and RESOLVE_BTFIDS_FLAGS (`--distill_base`) when `distill`.
fn gen(base: &Path, ko: &Path, distill: bool) {
    let mut cmd = kbtf_as(env!("CARGO_BIN_EXE_kbtf"), Suite::Sid);
    if distill {
        cmd.env("RESOLVE_BTFIDS_FLAGS", "--distill_base");
    }
    run(cmd
        .args(["gen", "--no-progress", "--btf_base"])
        .arg(base)
        .arg(ko));
}

/// The vmlinux BTF with a few types put first: every id moves.
fn shifted_base(vmlinux: &Path, out: &Path) {
    let orig = Btf::from_file(vmlinux).unwrap();
    let mut alt = Btf::new();
    alt.replace_strings(orig.own_strings().clone());
    const PAD: u32 = 3;
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

#[test]
fn kbtf_in_7x_kbuild_matches_sid_tools_and_is_idempotent() {
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let Some(k) = chroot.kbuild(env!("CARGO_BIN_EXE_kbtf")) else {
        return;
    };
    let vmlinux = k.vmlinux();

    // sid's own tools: the reference, with a distilled .BTF.base.
    let sid = build(&k, "sid", &[]);
    for name in SECTIONS {
        assert!(
            file_section(&sid, name).is_some(),
            "sid's build has no {name}"
        );
    }

    // kbtf as PAHOLE and RESOLVE_BTFIDS under gen-btf.sh.
    let tools = build(
        &k,
        "tools",
        &[
            format!("PAHOLE={}", k.tool("pahole")),
            format!("RESOLVE_BTFIDS={}", k.tool("resolve_btfids")),
        ],
    );
    same_sections(&tools, &sid, "kbtf as PAHOLE and RESOLVE_BTFIDS");
    // gen-btf.sh removes its temporaries; kbtf's symbol moves go with them.
    let mut moves = tools.into_os_string();
    moves.push(".BTF_ids.moves");
    assert!(!Path::new(&moves).exists(), "{moves:?} was left behind");

    // Makefile.modfinal's BTF step as docs/kbuild.md has it: one kbtf gen.
    let in_kbuild = build(
        &k,
        "gen",
        &[format!(
            "cmd_btf_ko={} gen --btf_base $(objtree)/vmlinux $@",
            k.tool("kbtf")
        )],
    );
    same_sections(&in_kbuild, &sid, "kbtf gen as kbuild's BTF step");

    // The module as linked (kbuild's BTF step does nothing), then kbtf gen.
    let linked = build(&k, "linked", &["cmd_btf_ko=:".into()]);
    assert!(file_section(&linked, ".BTF").is_none());
    let fresh = chroot.path("fresh.ko");
    std::fs::copy(&linked, &fresh).unwrap();
    gen(&vmlinux, &linked, true);
    same_sections(&linked, &sid, "kbtf gen");

    // Idempotent: on its own output, and on the file sid's tools processed.
    let once = std::fs::read(&linked).unwrap();
    gen(&vmlinux, &linked, true);
    assert!(
        std::fs::read(&linked).unwrap() == once,
        "a second gen changed the file"
    );
    let processed = chroot.path("processed.ko");
    std::fs::copy(&sid, &processed).unwrap();
    gen(&vmlinux, &processed, true);
    same_sections(
        &processed,
        &sid,
        "kbtf gen on the module sid's tools processed",
    );
    println!("7.x kbuild, out of tree: kbtf as PAHOLE/RESOLVE_BTFIDS, as cmd_btf_ko and as gen gives sid's .BTF, .BTF.base and .BTF_ids; gen again changes nothing");

    // Only the vmlinux changed, in-tree style (no distilled base, so every
    // id in the module moves): sid's gen-btf.sh steps on the freshly linked
    // module over the new vmlinux, against kbtf gen on the processed one.
    let alt = chroot.path("alt-vmlinux.btf");
    shifted_base(&vmlinux, &alt);
    let intree = chroot.path("intree.ko");
    std::fs::copy(&fresh, &intree).unwrap();
    gen(&vmlinux, &intree, false);
    let before = std::fs::read(&intree).unwrap();
    gen(&alt, &intree, false);
    let upstream = chroot.path("upstream.ko");
    std::fs::copy(&fresh, &upstream).unwrap();
    let kbuild = std::fs::read_to_string(chroot.root.join("kbuild-package")).unwrap();
    let resolve = format!(
        "/usr/lib/{}/tools/bpf/resolve_btfids/resolve_btfids",
        kbuild.trim()
    );
    let (up, btf1, alt_in) = (
        in_chroot(&chroot, &upstream),
        format!("{}.BTF.1", in_chroot(&chroot, &upstream)),
        in_chroot(&chroot, &alt),
    );
    run(k
        .chroot
        .command("pahole")
        .arg("-J")
        .args(Suite::Sid.pahole_flags())
        .args([
            "--btf_base",
            &alt_in,
            &format!("--btf_encode_detached={btf1}"),
            &up,
        ]));
    run(k
        .chroot
        .command(&resolve)
        .args(["--btf_base", &alt_in, "--btf", &btf1, &up]));
    let expect = |suffix: &str| std::fs::read(format!("{}{suffix}", upstream.display())).unwrap();
    assert!(
        file_section(&intree, ".BTF") == Some(expect(".BTF")),
        ".BTF after the vmlinux changed"
    );
    assert!(
        file_section(&intree, ".BTF_ids") == Some(expect(".BTF_ids")),
        ".BTF_ids after the vmlinux changed"
    );
    assert!(
        std::fs::read(&intree).unwrap() != before,
        "the vmlinux change changed nothing"
    );
    println!("7.x, vmlinux changed: kbtf gen on the processed module gives what sid's tools give on the fresh one");

    // BPF_BTF_LOAD: the module's BTF relocated onto the full BTF of the
    // kernel it was built for (the sid corpus), then onto the running
    // kernel's where that kernel has what the module needs.
    let distilled = Arc::new(Btf::parse(&file_section(&linked, ".BTF.base").unwrap()).unwrap());
    let split = Btf::parse_split(&file_section(&linked, ".BTF").unwrap(), Some(distilled)).unwrap();
    if let Some(corpus) = kbtf_testsupport::corpus::Corpus::sid() {
        let full = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
        // An older kernel may refuse 7.2's BTF itself (kinds and flags it
        // predates): then it cannot judge the module, and says so first.
        let verdict_on_vmlinux = kbtf_btf::kernel::load(&full);
        let relocated = split
            .relocate(full)
            .expect("relocation onto the 7.2.13 vmlinux");
        match verdict_on_vmlinux.and_then(|_| kbtf_btf::kernel::load(&relocated)) {
            Ok(_) => {
                println!("relocated onto the sid 7.2.13 vmlinux's BTF: BPF_BTF_LOAD accepts it")
            }
            Err(e) if e.is_unavailable() => {
                kbtf_testsupport::skip(format!("BPF_BTF_LOAD unavailable: {}", e.reason()));
                return;
            }
            Err(e) => {
                if let Err(own) = kbtf_btf::kernel::load(&Btf::from_file(corpus.vmlinux()).unwrap())
                {
                    kbtf_testsupport::skip(format!(
                        "the running kernel refuses the shipped 7.2.13 vmlinux BTF itself ({own}): it cannot judge the module's"
                    ));
                    return;
                }
                panic!("the kernel refuses the relocated module BTF: {e}")
            }
        }
    }
    let Ok(running) = Btf::from_file("/sys/kernel/btf/vmlinux") else {
        println!("no /sys/kernel/btf/vmlinux: relocation onto the running kernel not tried");
        return;
    };
    match split.relocate(Arc::new(running)) {
        Ok(relocated) => {
            kbtf_btf::kernel::load(&relocated).unwrap_or_else(|e| {
                panic!("the running kernel refuses the relocated module BTF: {e}")
            });
            println!("relocated onto the running kernel's BTF: BPF_BTF_LOAD accepts it");
        }
        // Another kernel may lack a type the module needs (libbpf refuses too).
        Err(e) => println!("not relocatable onto the running kernel ({e}): not loaded"),
    }
}

fn in_chroot(chroot: &Chroot, path: &Path) -> String {
    chroot.inside(path).display().to_string()
}
