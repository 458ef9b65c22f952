//! kbtf's C header (`kbtf dump --format c`, [`dump::write_c`]) equals
//! `bpftool btf dump file F format c` (Debian's bpftool 7.1) byte for byte:
//! for the corpus vmlinux, for every corpus module read as split BTF over it
//! (whose header, as bpftool's, holds the base's types too), and for the
//! running kernel's BTF. The header compiles for BPF with clang in a
//! program that reads `task_struct->pid` through CO-RE; so does bpftool
//! 7.8's header (see `conformance_dump_c_vs_bpftool78`) of the sid kernel
//! in one that calls kfuncs through its prototypes.

use kbtf_testsupport::bpftool::{first_difference, Bpftool};
use kbtf_testsupport::corpus::Corpus;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kbtf_btf::{dump, Btf};

/// bpftool processes at once: the machines this runs on have 2 cores.
const WORKERS: usize = 2;
/// Differences shown in a failure.
const SHOWN: usize = 5;

fn kbtf_c(btf: &Btf) -> Vec<u8> {
    let mut out = Vec::new();
    dump::write_c(btf, &dump::COptions::default(), &mut out).expect("kbtf's C dump");
    out
}

fn check(bpftool: &Bpftool, btf: &Btf, base: Option<&Path>, file: &Path) -> Result<(), String> {
    let want = bpftool.dump_c(base, file)?;
    let got = kbtf_c(btf);
    if got != want {
        return Err(format!(
            "{}: C differs from bpftool's {}",
            file.display(),
            first_difference(&got, &want)
        ));
    }
    Ok(())
}

#[test]
fn corpus_vmlinux_c_matches_bpftool() {
    let Some(corpus) = Corpus::find() else {
        return;
    };
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let btf = Btf::from_file(&vmlinux).unwrap();
    check(&bpftool, &btf, None, &vmlinux).unwrap();
    println!("{}: C header equals bpftool's", vmlinux.display());
}

#[test]
fn corpus_modules_c_match_bpftool() {
    let Some(corpus) = Corpus::find() else {
        return;
    };
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let base = Arc::new(Btf::from_file(&vmlinux).unwrap());
    let modules = corpus.modules();
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let check_module = |path: &PathBuf| -> Result<(), String> {
        let btf = Btf::from_file_split(path, Some(base.clone())).map_err(|e| e.to_string())?;
        check(&bpftool, &btf, Some(&vmlinux), path)
    };
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = modules.get(i) else { break };
                if let Err(e) = check_module(path) {
                    failures.lock().unwrap().push(e);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    println!(
        "C header equal to bpftool's: {} of {} modules",
        modules.len() - failures.len(),
        modules.len()
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
    assert_eq!(modules.len(), 1138);
}

/// Another kernel built by another pahole (trixie's 6.12, pahole 1.30): a
/// fixture, not the host's BTF, so the verdict holds on any machine.
#[test]
fn other_kernel_c_matches_bpftool() {
    let (Some(trixie), Some(bpftool)) = (Corpus::trixie(), Bpftool::find()) else {
        return;
    };
    let path = trixie.vmlinux();
    let btf = Btf::from_file(&path).unwrap();
    check(&bpftool, &btf, None, &path).unwrap();
    println!("{}: C header equals bpftool's", path.display());
}

/// The running kernel's BTF, whatever kernel this is: the verdict compares
/// kbtf with bpftool on the same file. A kernel whose BTF bpftool 7.1
/// cannot read (kinds newer than it) is reported as a skip.
#[test]
fn running_kernel_c_matches_bpftool() {
    let sysfs = Path::new("/sys/kernel/btf/vmlinux");
    let Ok(btf) = Btf::from_file(sysfs) else {
        kbtf_testsupport::skip("no readable /sys/kernel/btf/vmlinux (a kernel without BTF)");
        return;
    };
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let want = match bpftool.dump_c(None, sysfs) {
        Ok(want) => want,
        Err(e) => {
            kbtf_testsupport::skip(format!("bpftool 7.1 cannot read this kernel's BTF: {e}"));
            return;
        }
    };
    let got = kbtf_c(&btf);
    assert!(
        got == want,
        "{}: C differs from bpftool's {}",
        sysfs.display(),
        first_difference(&got, &want)
    );
    println!(
        "{}: C header equals bpftool's ({} lines)",
        sysfs.display(),
        want.iter().filter(|&&b| b == b'\n').count()
    );
}

/// A BPF program using CO-RE on `task_struct`, as libbpf-tools write them.
const CORE_PROGRAM: &str = r#"#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

int seen_pid;

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int pid = BPF_CORE_READ(task, pid);
	int tgid = __builtin_preserve_access_index(task->tgid);

	seen_pid = pid + tgid;
	return 0;
}
"#;

/// A BPF program calling kfuncs through bpftool 7.8's prototypes, with
/// no declarations of its own.
const KFUNC_PROGRAM: &str = r#"#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

int seen_pid;

SEC("tp_btf/sys_enter")
int on_enter(void *ctx)
{
	struct task_struct *task = bpf_task_from_pid(1);

	if (!task)
		return 0;
	bpf_rcu_read_lock();
	seen_pid = BPF_CORE_READ(task, pid);
	bpf_rcu_read_unlock();
	bpf_task_release(task);
	return 0;
}
"#;

/// Compiles `program` with `header` as its vmlinux.h for BPF; the object's
/// bytes, or `None` (a skip) without clang or libbpf's headers.
fn compile_for_bpf(header: &[u8], program: &str, extra: &[&str]) -> Option<Vec<u8>> {
    let clang = Command::new("clang").arg("--version").output();
    if !clang.is_ok_and(|o| o.status.success()) {
        kbtf_testsupport::skip("clang not found");
        return None;
    }
    if !Path::new("/usr/include/bpf/bpf_core_read.h").exists() {
        kbtf_testsupport::skip("libbpf's headers not found (Debian package libbpf-dev)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vmlinux.h"), header).unwrap();
    std::fs::write(dir.path().join("prog.bpf.c"), program).unwrap();
    let obj = dir.path().join("prog.bpf.o");
    let out = Command::new("clang")
        .args(["-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86", "-c"])
        .args(extra)
        .arg(dir.path().join("prog.bpf.c"))
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "clang failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(&obj).unwrap())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn header_compiles_for_bpf_with_core() {
    let Some(corpus) = Corpus::find() else {
        return;
    };
    let btf = Btf::from_file(corpus.vmlinux()).unwrap();
    let Some(elf) = compile_for_bpf(&kbtf_c(&btf), CORE_PROGRAM, &[]) else {
        return;
    };
    // The CO-RE relocations made it into the object.
    assert!(contains(&elf, b".BTF.ext"), "no .BTF.ext in the object");
    assert!(
        contains(&elf, b"task_struct"),
        "task_struct is not in the object's BTF"
    );
}

/// bpftool 7.8's header of the sid kernel declares its kfuncs: a program
/// calls them with nothing but the header, and they end up as `.ksyms`
/// externs. Linux 7.x declares some members as anonymous named structs
/// (`struct foo;` inside a union), which C reads as members only with
/// Microsoft extensions, as the kernel itself is built.
#[test]
fn header78_with_kfuncs_compiles_for_bpf() {
    let Some(sid) = Corpus::sid() else {
        return;
    };
    let btf = Btf::from_file(sid.vmlinux()).unwrap();
    let opts = dump::COptions {
        bpftool: dump::BpftoolVersion::V7_8,
        ..dump::COptions::default()
    };
    let mut header = Vec::new();
    dump::write_c(&btf, &opts, &mut header).unwrap();
    assert!(contains(
        &header,
        b"extern struct task_struct *bpf_task_from_pid(s32 pid) __weak __ksym;\n"
    ));
    let extra = ["-fms-extensions", "-Wno-microsoft-anon-tag"];
    let Some(elf) = compile_for_bpf(&header, KFUNC_PROGRAM, &extra) else {
        return;
    };
    assert!(
        contains(&elf, b".ksyms"),
        "no .ksyms externs in the object's BTF"
    );
    for kfunc in [
        "bpf_task_from_pid",
        "bpf_rcu_read_lock",
        "bpf_rcu_read_unlock",
        "bpf_task_release",
    ] {
        assert!(
            contains(&elf, kfunc.as_bytes()),
            "{kfunc} is not in the object"
        );
    }
    println!("bpftool 7.8 header of the sid vmlinux: a program calling 4 kfuncs compiles for BPF");
}
