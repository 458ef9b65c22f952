//! A process that rewrites a module's `.BTF` again and again is killed
//! (SIGKILL) at seeded random moments; after each kill the module is
//! byte-identical to the old or the new version, and at most the one
//! temporary file of the interrupted write is left, which the next write
//! removes.
//!
//! The child is this test binary itself, run again with `KBTF_CRASH_CHILD`
//! set (hence `harness = false`).

use kbtf_testsupport::corpus;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kbtf_btf::embed::{replace_sections_in_file, set_sections};
use object::{Object, ObjectSection};

const CHILD: &str = "KBTF_CRASH_CHILD";
const KILLS: usize = 30;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("kill_during_rewrite: test");
        return;
    }
    match std::env::var_os(CHILD) {
        Some(dir) => child(Path::new(&dir)),
        None => parent(),
    }
}

fn btf_of(bytes: &[u8]) -> Vec<u8> {
    let file = object::File::parse(bytes).expect("ELF");
    let section = file.section_by_name(".BTF").expect(".BTF");
    section.data().expect(".BTF data").to_vec()
}

/// Flips the module between the two `.BTF` versions until killed,
/// printing a line after each completed write.
fn child(dir: &Path) {
    let module = dir.join("module.ko");
    let a = std::fs::read(dir.join("btf.a")).unwrap();
    let b = std::fs::read(dir.join("btf.b")).unwrap();
    let mut out = std::io::stdout();
    loop {
        let current = btf_of(&std::fs::read(&module).unwrap());
        let next = if current == a { &b } else { &a };
        assert!(replace_sections_in_file(&module, &[(".BTF", next)]).unwrap());
        writeln!(out, "written").unwrap();
        out.flush().unwrap();
    }
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".module.ko.kbtf-")
        })
        .collect()
}

fn parent() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("embed-crash");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let module = dir.join("module.ko");
    let shipped = std::fs::read(corpus.module("sctp.ko")).unwrap();

    // Version b has 8 KiB more BTF: a length change that every alignment
    // in the file divides, so a -> b -> a gives back the shipped file.
    let a = btf_of(&shipped);
    let mut b = a.clone();
    b.extend((0..8192u32).map(|i| (i * 31 % 251) as u8));
    let old = shipped.clone();
    let new = set_sections(&old, &[(".BTF", &b)]).unwrap();
    assert!(set_sections(&new, &[(".BTF", &a)]).unwrap() == old);
    std::fs::write(dir.join("btf.a"), &a).unwrap();
    std::fs::write(dir.join("btf.b"), &b).unwrap();
    std::fs::write(&module, &old).unwrap();

    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut in_flight, mut writes, mut as_old) = (0, 0, 0);
    for kill in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, &dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(random() % 400_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let stdout = child.stdout.take().unwrap();
        writes += std::io::BufReader::new(stdout).lines().count();

        let now = std::fs::read(&module).unwrap();
        assert!(
            now == old || now == new,
            "kill {kill}: the module is neither version ({} bytes)",
            now.len()
        );
        as_old += usize::from(now == old);
        let temps = temp_files(&dir);
        assert!(
            temps.len() <= 1,
            "kill {kill}: temporary files left: {temps:?}"
        );
        in_flight += temps.len();
    }
    // The next write removes what the last kill left.
    let current = btf_of(&std::fs::read(&module).unwrap());
    let next = if current == a { &b } else { &a };
    replace_sections_in_file(&module, &[(".BTF", next)]).unwrap();
    assert_eq!(temp_files(&dir), Vec::<PathBuf>::new());

    println!(
        "{KILLS} kills during {writes} completed rewrites of sctp.ko ({} bytes): \
         {as_old} found the old version, {} the new; {in_flight} interrupted a write",
        old.len(),
        KILLS - as_old
    );
    assert!(writes > 0 && in_flight > 0, "the kills never hit a write");
    std::fs::remove_dir_all(&dir).unwrap();
}
