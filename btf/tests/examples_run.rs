//! Runs the examples of the five everyday tasks (see README's library
//! section) on the corpus kernel, not the host's, and checks what each
//! prints against the library called directly. `cargo test` builds the
//! examples before the tests; run by hand, each defaults to
//! /sys/kernel/btf/vmlinux.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::dump::{write_c, COptions};
use kbtf_btf::{Btf, Kind};
use kbtf_testsupport::corpus::Corpus;

/// The built example: target/PROFILE/examples/NAME, beside this test's deps/.
fn example(name: &str) -> PathBuf {
    let me = std::env::current_exe().unwrap();
    let profile_dir = me.parent().and_then(Path::parent).unwrap();
    let exe = profile_dir.join("examples").join(name);
    assert!(
        exe.exists(),
        "{} is not built: `cargo test -p kbtf-btf` builds the examples, `--test examples_run` alone does not",
        exe.display()
    );
    exe
}

/// Runs example `name` with `args`; its stdout, which it must exit 0 with.
fn run(name: &str, args: &[&Path]) -> String {
    let out = Command::new(example(name)).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn vmlinux(corpus: &Corpus) -> (PathBuf, Btf) {
    let path = corpus.vmlinux();
    let btf = Btf::from_file(&path).unwrap();
    (path, btf)
}

#[test]
fn core_lookup_finds_task_struct_pid() {
    let Some(corpus) = Corpus::find() else { return };
    let (path, btf) = vmlinux(&corpus);
    let task = btf.find_by_name_kind(b"task_struct", Kind::Struct).unwrap();
    let pid = btf.find_member(task, "pid").unwrap().unwrap();
    assert_eq!(
        run("core_lookup", &[&path]),
        format!(
            "{}: task_struct is {} bytes; pid: type [{}] ({} bytes) at byte {}\n",
            path.display(),
            btf.resolve_size(task).unwrap(),
            pid.ty,
            btf.resolve_size(pid.ty).unwrap(),
            pid.bit_offset / 8
        )
    );
}

#[test]
fn module_btf_reads_a_module_over_vmlinux() {
    let Some(corpus) = Corpus::find() else { return };
    let (path, btf) = vmlinux(&corpus);
    let module = corpus.module("nf_conntrack.ko");
    let split = Btf::from_file_split(&module, Some(Arc::new(btf))).unwrap();
    let mut want = format!(
        "{}: {} types of its own over {}\n",
        module.display(),
        split.own_ids().len(),
        path.display()
    );
    for t in split.own_types().take(5) {
        want += &format!("{}\n", t.display(&split));
    }
    assert_eq!(run("module_btf", &[&module, &path]), want);
}

#[test]
fn build_and_dedup_merges_the_second_copy() {
    let out = run("build_and_dedup", &[]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("12 types, 5 after dedup"));
    let map: Vec<&str> = lines.by_ref().take(12).collect();
    assert_eq!(map[0], "  [1] -> [1]");
    assert_eq!(map[6], "  [7] -> [1]", "the second int is the first");
    assert_eq!(map[1], "  [2] -> [3]", "the FWD resolves to its struct");
    assert_eq!(map[11], "  [12] -> [5]", "the second func is the first");
    assert!(lines.next().unwrap().ends_with(" bytes of BTF"));
}

#[test]
fn dedup_id_map_folds_a_doubled_vmlinux() {
    let Some(corpus) = Corpus::find() else { return };
    let (path, btf) = vmlinux(&corpus);
    let n = btf.own_ids().len() as u32;
    let task = btf.find_by_name_kind(b"task_struct", Kind::Struct).unwrap();
    let mut two = btf.clone();
    two.add_btf(&btf).unwrap();
    let stats = dedup(&mut two, &DedupOptions::default()).unwrap();
    let copy = task.0 + n;
    let merged = stats.id_map[copy as usize - 1];
    assert_eq!(
        merged,
        stats.id_map[task.0 as usize - 1],
        "both copies merge"
    );
    assert_eq!(
        run("dedup_id_map", &[&path]),
        format!(
            "{}: {} types, {} after dedup\n\
             task_struct: [{task}] and its copy [{copy}] are now [{merged}]\n\
             {}\n",
            path.display(),
            2 * n,
            stats.types_after,
            two.get(merged).unwrap().display(&two)
        )
    );
}

#[test]
fn vmlinux_h_is_the_c_dump() {
    let Some(corpus) = Corpus::find() else { return };
    let (path, btf) = vmlinux(&corpus);
    let mut want = Vec::new();
    write_c(&btf, &COptions::default(), &mut want).unwrap();
    let out = Command::new(example("vmlinux_h"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"#ifndef __VMLINUX_H__"));
    assert!(out.stdout == want, "vmlinux_h differs from write_c");
}

#[test]
fn view_mapped_reads_in_place_as_btf_does() {
    let Some(corpus) = Corpus::find() else { return };
    let (path, btf) = vmlinux(&corpus);
    let structs = btf
        .all_ids()
        .filter(|&id| btf.get(id).unwrap().kind() == Kind::Struct)
        .count();
    let mut want = format!(
        "{}: {} types, {structs} structs\n",
        path.display(),
        btf.type_count() - 1
    );
    for id in btf.find_all_by_name("task_struct") {
        let t = btf.get(id).unwrap();
        want += &format!(
            "[{id}] {} task_struct: {} words\n",
            t.kind(),
            t.words().len()
        );
    }
    assert_eq!(run("view_mapped", &[&path]), want);
}
