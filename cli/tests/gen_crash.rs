//! `kbtf gen` killed (SIGKILL) at seeded random moments while it processes
//! a module: the file is always the old module or the new one, never a
//! mix, and at most the killed run's temporary file is left beside it.
//!
//! The module is nf_conntrack.ko (it has a kfunc set) from the corpus
//! without its `.BTF`, so each run rewrites it (new `.BTF`, resolved
//! `.BTF_ids`, moved symbols); the kills fall over the whole run, weighted
//! towards its end, where the file is written.

use kbtf_testsupport::corpus;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const KBTF: &str = env!("CARGO_BIN_EXE_kbtf");
const KILLS: usize = 40;

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(".module.ko.") && name.ends_with(".tmp")
        })
        .collect()
}

fn gen(vmlinux: &Path, ko: &Path) -> Command {
    let mut cmd = kbtf_testsupport::kbtf_as_1_24(KBTF);
    cmd.args(["gen", "--btf_base"]).arg(vmlinux).arg(ko);
    cmd
}

#[test]
fn a_killed_gen_leaves_the_old_module_or_the_new_one() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("module.ko");
    let status = Command::new("objcopy")
        .args(["--remove-section", ".BTF"])
        .arg(corpus.module("nf_conntrack.ko"))
        .arg(&module)
        .status()
        .expect("objcopy (binutils)");
    assert!(status.success());
    let old = std::fs::read(&module).unwrap();

    // One whole run: the new version, and how long a run takes.
    let start = Instant::now();
    assert!(gen(&vmlinux, &module).status().unwrap().success());
    let run_time = start.elapsed();
    let new = std::fs::read(&module).unwrap();
    assert!(new != old);

    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let span = run_time.as_micros() as u64 * 12 / 10;
    let (mut as_old, mut as_new, mut left) = (0, 0, 0);
    for kill in 0..KILLS {
        std::fs::write(&module, &old).unwrap();
        let mut child = gen(&vmlinux, &module).spawn().unwrap();
        // Half the kills anywhere in the run, half in its last third.
        let at = if kill % 2 == 0 {
            random() % span
        } else {
            span * 2 / 3 + random() % (span / 3)
        };
        std::thread::sleep(Duration::from_micros(at));
        child.kill().unwrap(); // SIGKILL, or nothing if it has finished
        child.wait().unwrap();

        let now = std::fs::read(&module).unwrap();
        assert!(
            now == old || now == new,
            "kill {kill} after {at} µs: the module is neither version ({} bytes)",
            now.len()
        );
        as_old += usize::from(now == old);
        as_new += usize::from(now == new);
        let temps = temp_files(dir.path());
        assert!(
            temps.len() <= 1,
            "kill {kill}: temporary files left: {temps:?}"
        );
        left += temps.len();
    }
    // A later run removes what a killed one left, and finishes the job.
    std::fs::write(&module, &old).unwrap();
    assert!(gen(&vmlinux, &module).status().unwrap().success());
    assert!(std::fs::read(&module).unwrap() == new);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());

    println!(
        "{KILLS} kills of kbtf gen on nf_conntrack.ko (a run takes {run_time:?}): \
         {as_old} left the old module, {as_new} the new one, \
         {left} interrupted a write (temporary file left)"
    );
    assert!(as_old > 0 && as_new > 0, "the kills missed the run");
    assert!(left > 0, "no kill hit a write");
}
