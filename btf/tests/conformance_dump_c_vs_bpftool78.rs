//! kbtf's bpftool 7.8 C header (`kbtf dump --format c --bpftool 7.8
//! [--unsorted]`, [`dump::write_c`] with [`dump::BpftoolVersion::V7_8`])
//! equals `bpftool btf dump file F format c [unsorted]` of Debian sid's
//! bpftool 7.8 (libbpf 1.8), run in sid's chroot, byte for byte: sorted and
//! unsorted, for the sid corpus vmlinux (7.2.13) and its modules as split
//! BTF over it, the bookworm corpus vmlinux, the running kernel's BTF (the
//! verdict compares both tools on the same input, so it holds on any
//! kernel), and hand-built BTF with the corners 7.8 changed: kfunc and
//! fastcall tags, enums of 1 and 8 bytes, kind_flag type tags.
//!
//! Skips, saying so, without the corpora, the sid chroot, root or its
//! bpftool (installed there on first use when missing); under CI those
//! are failures.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kbtf_btf::dump::{self, BpftoolVersion, COptions};
use kbtf_btf::{Btf, Info, Kind, StrOff};
use kbtf_testsupport::bpftool::first_difference;
use kbtf_testsupport::chroot::{Chroot, ChrootBpftool, Suite};
use kbtf_testsupport::corpus::Corpus;

/// bpftool processes at once: the machines this runs on have 2 cores.
const WORKERS: usize = 2;
/// Differences shown in a failure.
const SHOWN: usize = 5;
/// Every this many modules is also checked unsorted (all of them sorted).
const UNSORTED_EVERY: usize = 10;

fn kbtf_c(btf: &Btf, unsorted: bool) -> Vec<u8> {
    let opts = COptions {
        bpftool: BpftoolVersion::V7_8,
        unsorted,
        ..COptions::default()
    };
    let mut out = Vec::new();
    dump::write_c(btf, &opts, &mut out).expect("kbtf's C dump");
    out
}

/// What follows bpftool's `format c`.
fn order_opts(unsorted: bool) -> &'static [&'static str] {
    if unsorted {
        &["unsorted"]
    } else {
        &[]
    }
}

/// The sid chroot and its bpftool 7.8.
fn oracle(chroot: &Chroot) -> Option<ChrootBpftool<'_>> {
    chroot.bpftool("v7.8.")
}

/// kbtf's header equals bpftool's for `file` (staged in the chroot, with
/// its staged `base`); returns the header's line count.
fn check(
    bpftool: &ChrootBpftool<'_>,
    btf: &Btf,
    base: Option<&Path>,
    file: &Path,
    unsorted: bool,
    what: &str,
) -> Result<usize, String> {
    let want = bpftool.dump_c(base, file, order_opts(unsorted))?;
    let got = kbtf_c(btf, unsorted);
    let order = if unsorted { "unsorted" } else { "sorted" };
    if got != want {
        return Err(format!(
            "{what} ({order}): C differs from {}'s {}",
            bpftool.version,
            first_difference(&got, &want)
        ));
    }
    Ok(want.split(|&b| b == b'\n').count() - 1)
}

/// A whole vmlinux (ELF or raw BTF), sorted and unsorted.
fn check_vmlinux(chroot: &Chroot, bpftool: &ChrootBpftool<'_>, path: &Path, what: &str) {
    let btf = Btf::from_file(path).unwrap();
    let staged = chroot.stage(path, "vmlinux");
    for unsorted in [false, true] {
        let lines = check(bpftool, &btf, None, &staged, unsorted, what).unwrap();
        let order = if unsorted { "unsorted" } else { "sorted" };
        println!(
            "{what} ({order}): C header equals {}'s ({lines} lines)",
            bpftool.version
        );
    }
}

#[test]
fn sid_vmlinux_c_matches_bpftool78() {
    let Some(sid) = Corpus::sid() else { return };
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let Some(bpftool) = oracle(&chroot) else {
        return;
    };
    check_vmlinux(&chroot, &bpftool, &sid.vmlinux(), "sid 7.2.13 vmlinux");
}

#[test]
fn bookworm_vmlinux_c_matches_bpftool78() {
    let Some(corpus) = Corpus::find() else { return };
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let Some(bpftool) = oracle(&chroot) else {
        return;
    };
    check_vmlinux(&chroot, &bpftool, &corpus.vmlinux(), "bookworm vmlinux");
}

/// Whatever kernel this runs on: both tools read the same copy.
#[test]
fn running_kernel_c_matches_bpftool78() {
    let sysfs = Path::new("/sys/kernel/btf/vmlinux");
    if !sysfs.exists() {
        kbtf_testsupport::skip("no /sys/kernel/btf/vmlinux (kernel without BTF)");
        return;
    }
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let Some(bpftool) = oracle(&chroot) else {
        return;
    };
    check_vmlinux(&chroot, &bpftool, sysfs, "/sys/kernel/btf/vmlinux");
}

#[test]
fn sid_modules_c_match_bpftool78() {
    let Some(sid) = Corpus::sid() else { return };
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let Some(bpftool) = oracle(&chroot) else {
        return;
    };
    let vmlinux = sid.vmlinux();
    let staged_base = chroot.stage(&vmlinux, "base-vmlinux");
    let base = Arc::new(Btf::from_file(&vmlinux).unwrap());
    let modules = sid.modules();
    let next = AtomicUsize::new(0);
    let unsorted_checked = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let check_module = |i: usize, path: &PathBuf, worker: usize| -> Result<(), String> {
        let btf = Btf::from_file_split(path, Some(base.clone())).map_err(|e| e.to_string())?;
        let staged = chroot.stage(path, &format!("module{worker}.ko"));
        let what = path.display().to_string();
        check(&bpftool, &btf, Some(&staged_base), &staged, false, &what)?;
        if i % UNSORTED_EVERY == 0 {
            check(&bpftool, &btf, Some(&staged_base), &staged, true, &what)?;
            unsorted_checked.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let (next, failures, check_module, modules) =
                (&next, &failures, &check_module, &modules);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = modules.get(i) else { break };
                if let Err(e) = check_module(i, path, worker) {
                    failures.lock().unwrap().push(e);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    println!(
        "C header equal to {}'s: {} of {} sid modules sorted (and {} of them also unsorted)",
        bpftool.version,
        modules.len() - failures.len(),
        modules.len(),
        unsorted_checked.into_inner()
    );
    for f in failures.iter().take(SHOWN) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} modules differ",
        failures.len(),
        modules.len()
    );
    assert_eq!(modules.len(), 1018);
}

fn add(b: &mut Btf, name: &[u8], info: Info, word: u32, rest: &[u32]) -> u32 {
    let name = if name.is_empty() {
        StrOff(0)
    } else {
        b.add_str(name).unwrap()
    };
    b.add_type(name, info, word, rest).unwrap().0
}

fn s(b: &mut Btf, name: &[u8]) -> u32 {
    b.add_str(name).unwrap().0
}

fn of(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, false, vlen)
}

fn flagged(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, true, vlen)
}

/// What bpftool 7.8 does differently, in one small BTF: kfuncs (one also
/// fastcall, one tagged twice, two of one name, a tag on a parameter, a
/// tag on a variable), enums of 1 and 8 bytes, enum64s that do and do not
/// need `mode(word)`, a kind_flag type tag next to a plain one, and
/// anonymous enums, typedefs and structs whose sort keys tie on names.
fn corners78() -> Btf {
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    let uchar = add(&mut b, b"unsigned char", of(Kind::Int, 0), 1, &[8]);
    let (a, x, y, z, p, q) = (
        s(&mut b, b"a"),
        s(&mut b, b"X"),
        s(&mut b, b"Y"),
        s(&mut b, b"Z"),
        s(&mut b, b"p"),
        s(&mut b, b"q"),
    );
    // Anonymous enums: the one whose first value sorts first is never a root.
    add(&mut b, b"", of(Kind::Enum, 1), 4, &[y, 1]);
    add(&mut b, b"", of(Kind::Enum, 2), 4, &[x, 0, z, 2]);
    add(&mut b, b"small", of(Kind::Enum, 1), 1, &[x, 1]);
    add(&mut b, b"wide", of(Kind::Enum, 1), 8, &[y, 1]);
    add(&mut b, b"wide64", of(Kind::Enum64, 1), 8, &[z, 5, 0]);
    add(&mut b, b"big64", flagged(Kind::Enum64, 1), 8, &[a, 5, 1]);
    // Type tags on pointers: `address_space(1)` with kind_flag, `user` without.
    let void_as = add(
        &mut b,
        b"address_space(1)",
        flagged(Kind::TypeTag, 0),
        0,
        &[],
    );
    let arena_ptr = add(&mut b, b"", of(Kind::Ptr, 0), void_as, &[]);
    let user = add(&mut b, b"user", of(Kind::TypeTag, 0), int, &[]);
    let user_ptr = add(&mut b, b"", of(Kind::Ptr, 0), user, &[]);
    // struct obj { int a; }; and two structs named `pair` whose members differ.
    let obj = add(&mut b, b"obj", of(Kind::Struct, 1), 4, &[a, int, 0]);
    let obj_ptr = add(&mut b, b"", of(Kind::Ptr, 0), obj, &[]);
    add(
        &mut b,
        b"pair",
        of(Kind::Struct, 2),
        8,
        &[p, int, 0, q, int, 32],
    );
    add(&mut b, b"pair", of(Kind::Struct, 1), 1, &[q, uchar, 0]);
    add(&mut b, b"obj_t", of(Kind::Typedef, 0), obj, &[]);
    add(&mut b, b"int_t", of(Kind::Typedef, 0), int, &[]);
    add(
        &mut b,
        b"holder",
        of(Kind::Struct, 3),
        24,
        &[a, arena_ptr, 0, p, user_ptr, 64, q, obj_ptr, 128],
    );
    // Prototypes: int (struct obj *p, void __arena *q), void (void).
    let proto = add(
        &mut b,
        b"",
        of(Kind::FuncProto, 2),
        int,
        &[p, obj_ptr, q, arena_ptr],
    );
    let void_proto = add(&mut b, b"", of(Kind::FuncProto, 0), 0, &[]);
    let linkage_global = 1;
    let f_alloc = add(
        &mut b,
        b"obj_alloc",
        of(Kind::Func, linkage_global),
        proto,
        &[],
    );
    let f_fast = add(
        &mut b,
        b"cpu_id",
        of(Kind::Func, linkage_global),
        void_proto,
        &[],
    );
    let f_twice = add(
        &mut b,
        b"twice",
        of(Kind::Func, linkage_global),
        void_proto,
        &[],
    );
    let f_dup1 = add(&mut b, b"dup", of(Kind::Func, linkage_global), proto, &[]);
    let f_dup2 = add(
        &mut b,
        b"dup",
        of(Kind::Func, linkage_global),
        void_proto,
        &[],
    );
    let f_plain = add(&mut b, b"plain", of(Kind::Func, linkage_global), proto, &[]);
    let var = add(&mut b, b"counter", of(Kind::Var, 0), int, &[1]);
    let whole = u32::MAX; // component index -1
    for (tag, target, idx) in [
        (&b"bpf_kfunc"[..], f_dup2, whole),
        (b"bpf_kfunc", f_alloc, whole),
        (b"bpf_kfunc", f_fast, whole),
        (b"bpf_fastcall", f_fast, whole),
        (b"bpf_kfunc", f_twice, whole),
        (b"bpf_kfunc", f_twice, whole),
        (b"bpf_kfunc", f_dup1, whole),
        (b"bpf_kfunc", f_plain, 0),
        (b"bpf_fastcall", f_plain, whole),
        (b"bpf_kfunc", var, whole),
        (b"other", f_alloc, whole),
    ] {
        add(&mut b, tag, of(Kind::DeclTag, 0), target, &[idx]);
    }
    b
}

#[test]
fn corners_match_bpftool78() {
    let btf = corners78();
    let (sorted, unsorted) = (kbtf_c(&btf, false), kbtf_c(&btf, true));
    if std::env::var_os("KBTF_SHOW_C").is_some() {
        println!("{}", String::from_utf8_lossy(&sorted));
    }
    let text = String::from_utf8(sorted.clone()).unwrap();
    assert!(text.contains("extern __bpf_fastcall void cpu_id(void) __weak __ksym;\n"));
    assert!(text.contains("} __attribute__((mode(byte)));"));
    assert!(text.contains("void __attribute__((address_space(1))) *a;"));
    // The anonymous enum of X and Z sorts first, so bpftool never dumps it.
    assert!(
        !text.contains("\tZ = 2,"),
        "the first anonymous enum is skipped"
    );
    assert!(text.contains("enum {\n\tY = 1,\n};"));
    let Some(chroot) = Chroot::find(Suite::Sid) else {
        return;
    };
    let Some(bpftool) = oracle(&chroot) else {
        return;
    };
    let file = chroot.path("corners78.btf");
    std::fs::write(&file, btf.to_bytes()).unwrap();
    for (got, unsorted) in [(sorted, false), (unsorted, true)] {
        let want = bpftool.dump_c(None, &file, order_opts(unsorted)).unwrap();
        assert!(
            got == want,
            "unsorted={unsorted}\nkbtf:\n{}\nbpftool:\n{}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
    }
    println!(
        "hand-built corners: C header equals {}'s, sorted and unsorted",
        bpftool.version
    );
}
