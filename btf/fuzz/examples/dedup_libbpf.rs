//! kbtf's dedup against libbpf 1.1.2's on the BTF the `dedup` target
//! generates from a corpus: for each input, the generated BTF (and its
//! base) is written out, deduplicated by the oracle
//! (`testdata/oracle/btf_dedup.c`, built with `cc -O2 ... -lbpf`) and by
//! kbtf, and the bytes compared. Prints the counts; writes each input that
//! differs to OUT_DIR (if given) for a closer look.
//!
//! `cargo run --release --example dedup_libbpf -- ORACLE corpus/dedup [OUT_DIR]`
use std::path::{Path, PathBuf};
use std::process::Command;

use kbtf_btf::dedup::{dedup, DedupOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (oracle, corpus) = match &args[..] {
        [_, o, c, ..] => (PathBuf::from(o), PathBuf::from(c)),
        _ => panic!("usage: dedup_libbpf ORACLE CORPUS_DIR [OUT_DIR]"),
    };
    let out_dir = args.get(3).map(PathBuf::from);
    let tmp = std::env::temp_dir().join(format!("kbtf-dedup-libbpf-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("a scratch directory");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("a readable corpus directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    paths.sort();
    let (mut same, mut both_refuse, mut libbpf_crash, mut differ) = (0, 0, 0, 0);
    for path in &paths {
        let data = std::fs::read(path).expect("readable");
        let Some(g) = kbtf_fuzz::gen::generate(&data) else {
            continue;
        };
        let (input, base, output) = (
            tmp.join("in.btf"),
            tmp.join("base.btf"),
            tmp.join("out.btf"),
        );
        std::fs::write(&input, g.btf.to_bytes()).expect("writable");
        let _ = std::fs::remove_file(&output);
        let mut cmd = Command::new(&oracle);
        if let Some(b) = &g.base {
            std::fs::write(&base, b.to_bytes()).expect("writable");
            cmd.arg("-b").arg(&base);
        }
        let status = cmd
            .arg(&input)
            .arg(&output)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the oracle runs");
        let mut ours = g.btf.clone();
        let ours = dedup(&mut ours, &DedupOptions::default()).map(|_| ours.to_bytes());
        let verdict = match (status.code(), ours) {
            (None, _) => {
                libbpf_crash += 1;
                "libbpf crashed"
            }
            (Some(0), Ok(bytes)) if std::fs::read(&output).is_ok_and(|o| o == *bytes) => {
                same += 1;
                continue;
            }
            (Some(code), Err(_)) if code != 0 => {
                both_refuse += 1;
                continue;
            }
            _ => {
                differ += 1;
                "differ"
            }
        };
        println!("{}: {verdict}", path.display());
        if let Some(dir) = &out_dir {
            save(
                dir,
                path,
                &input,
                g.base.is_some().then_some(base.as_path()),
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "{} inputs: {same} deduplicated alike, {both_refuse} refused by both, \
         {libbpf_crash} crashed libbpf, {differ} differ",
        paths.len()
    );
    if differ > 0 {
        std::process::exit(1);
    }
}

fn save(dir: &Path, recipe: &Path, input: &Path, base: Option<&Path>) {
    std::fs::create_dir_all(dir).expect("writable");
    let name = recipe.file_name().expect("a file").to_string_lossy();
    std::fs::copy(input, dir.join(format!("{name}.btf"))).expect("copied");
    if let Some(b) = base {
        std::fs::copy(b, dir.join(format!("{name}.base.btf"))).expect("copied");
    }
}
