//! What kbtf's tests and benches share: where the real-kernel corpus is
//! ([`corpus`]), the upstream tools and C programs used as oracles
//! ([`oracle`], [`bpftool`]), the newer suites' tools in their chroots
//! ([`chroot`]), running them and kbtf ([`cmd`]), reading sections of ELF
//! files ([`elf`]), and how a test that cannot run says so ([`skip`]).
//!
//! A test that finds its corpus or oracle missing returns early; `cargo
//! test` then counts it as passed. [`skip`] records why in the file named
//! by `KBTF_SKIP_LOG`, and `testdata/test.sh` (the README's test command)
//! moves such tests from passed to skipped in its total, with the reasons.
//! Under CI (`CI` set) a missing corpus or oracle is a failure instead.

pub mod bpftool;
pub mod chroot;
pub mod cmd;
pub mod corpus;
pub mod elf;
pub mod oracle;

use std::io::Write;

/// Reports that the calling test cannot run here, and why: on stderr, and
/// as a line `TEST<TAB>REASON` appended to `$KBTF_SKIP_LOG` when set. The
/// test name is libtest's name of the current thread (the test's path).
/// The caller then returns.
pub fn skip(reason: impl std::fmt::Display) {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_owned)
        .unwrap_or_else(|| "(main)".into());
    let binary = std::env::args()
        .next()
        .and_then(|a| {
            let name = std::path::Path::new(&a).file_name()?.to_str()?.to_owned();
            // Cargo names test binaries NAME-HASH.
            Some(
                name.rsplit_once('-')
                    .map_or(name.clone(), |(n, _)| n.to_owned()),
            )
        })
        .unwrap_or_default();
    eprintln!("skipped: {binary}::{test}: {reason}");
    if let Some(log) = std::env::var_os("KBTF_SKIP_LOG") {
        // One write per line: appends from parallel tests do not interleave.
        let line = format!("{binary}::{test}\t{reason}\n");
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
    }
}

/// Fails under CI, where every oracle and the corpus must be present;
/// elsewhere reports the skip (see [`skip`]).
pub fn skip_unless_ci(reason: impl std::fmt::Display) {
    if std::env::var_os("CI").is_some() {
        panic!("{reason} (CI must have it)");
    }
    skip(reason);
}

/// The `kbtf` binary at `path` (a test's `env!("CARGO_BIN_EXE_kbtf")`) as a
/// command emulating pahole 1.24, the version of the Debian bookworm corpus
/// and oracles, whatever kbtf's default (the newest). A test may still set
/// `KBTF_PAHOLE_VERSION` on it.
pub fn kbtf_as_1_24(path: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(path);
    cmd.env("KBTF_PAHOLE_VERSION", "1.24");
    cmd
}
