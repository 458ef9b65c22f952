//! Real Linux 6.12 kbuild with pahole 1.30, in Debian trixie's chroot with
//! its linux-headers-6.12.*+deb13-cloud-amd64: an out-of-tree module
//! (testdata/kmod: a kfunc set out of id order, each kfunc with its own
//! flags) built by Makefile.modfinal with trixie's pahole 1.30, which is
//! asked for `distilled_base` (`MODULE_PAHOLE_FLAGS`) and so writes `.BTF`
//! over a distilled `.BTF.base`, and trixie's resolve_btfids, which resolves
//! `.BTF_ids` against that. kbtf must give the same three sections:
//!
//! - as PAHOLE and RESOLVE_BTFIDS (symlinks of those names, inside the chroot);
//! - as kbuild's BTF step (`cmd_btf_ko` = `kbtf gen`, docs/kbuild.md);
//! - as `kbtf gen` on the module as linked;
//!
//! and `kbtf gen` on its own output and on the module trixie's tools
//! processed gives the same bytes again. Skips, saying so, without the
//! chroot or root (a failure under CI).

use std::path::{Path, PathBuf};

use kbtf_testsupport::chroot::{Chroot, Kbuild, Suite};
use kbtf_testsupport::cmd::{kbtf_as, run};
use kbtf_testsupport::elf::{assert_same_sections, file_section};

const SECTIONS: [&str; 3] = [".BTF", ".BTF.base", ".BTF_ids"];
const KMOD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/kmod");

fn build(k: &Kbuild, name: &str, vars: &[String]) -> PathBuf {
    k.build(
        name,
        Path::new(KMOD),
        &["btfids_kmod.c", "Kbuild"],
        vars,
        &[("KBTF_PAHOLE_VERSION", "1.30")],
    )
}

fn same_sections(ko: &Path, reference: &Path, what: &str) {
    assert_same_sections(
        ko,
        reference,
        &SECTIONS,
        what,
        "trixie's pahole 1.30 + resolve_btfids",
    );
}

/// `kbtf gen` with what trixie's Makefile.btf exports for an out-of-tree module.
fn gen(base: &Path, ko: &Path) {
    run(kbtf_as(env!("CARGO_BIN_EXE_kbtf"), Suite::Trixie)
        .env("MODULE_PAHOLE_FLAGS", "--btf_features=distilled_base")
        .args(["gen", "--no-progress", "--btf_base"])
        .arg(base)
        .arg(ko));
}

#[test]
fn kbtf_in_trixie_kbuild_distills_like_pahole_130() {
    let Some(chroot) = Chroot::find(Suite::Trixie) else {
        return;
    };
    let Some(k) = chroot.kbuild(env!("CARGO_BIN_EXE_kbtf")) else {
        return;
    };
    let vmlinux = k.vmlinux();

    let trixie = build(&k, "trixie", &[]);
    for name in SECTIONS {
        assert!(
            file_section(&trixie, name).is_some(),
            "trixie's build has no {name}"
        );
    }
    let tools = build(
        &k,
        "tools",
        &[
            format!("PAHOLE={}", k.tool("pahole")),
            format!("RESOLVE_BTFIDS={}", k.tool("resolve_btfids")),
        ],
    );
    same_sections(&tools, &trixie, "kbtf as PAHOLE and RESOLVE_BTFIDS");
    let in_kbuild = build(
        &k,
        "gen",
        &[format!(
            "cmd_btf_ko={} gen --btf_base vmlinux $@",
            k.tool("kbtf")
        )],
    );
    same_sections(&in_kbuild, &trixie, "kbtf gen as kbuild's BTF step");

    let linked = build(&k, "linked", &["cmd_btf_ko=:".into()]);
    assert!(file_section(&linked, ".BTF").is_none());
    gen(&vmlinux, &linked);
    same_sections(&linked, &trixie, "kbtf gen");
    let once = std::fs::read(&linked).unwrap();
    gen(&vmlinux, &linked);
    assert!(
        std::fs::read(&linked).unwrap() == once,
        "a second gen changed the file"
    );
    let processed = chroot.path("processed.ko");
    std::fs::copy(&trixie, &processed).unwrap();
    gen(&vmlinux, &processed);
    same_sections(
        &processed,
        &trixie,
        "kbtf gen on the module trixie's tools processed",
    );
    println!(
        "6.12 kbuild with pahole 1.30, out of tree: kbtf as PAHOLE/RESOLVE_BTFIDS, as cmd_btf_ko \
         and as gen gives trixie's .BTF, .BTF.base and .BTF_ids; gen again changes nothing"
    );
}
