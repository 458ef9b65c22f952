//! Running the tools a test drives: `kbtf` set up as one suite's kbuild
//! would call it, and any command whose failure fails the test.

use std::process::{Command, Output};

use crate::chroot::Suite;

/// Runs `cmd` and returns its output.
///
/// # Panics
/// If it cannot be started (the message says which command, so a missing
/// binutils or kmod is plain) or exits non-zero (with its stdout and stderr).
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (is it installed?)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `kbtf` binary at `path` (a test's `env!("CARGO_BIN_EXE_kbtf")`) as
/// `suite`'s kbuild runs its BTF step: that suite's pahole version and
/// `PAHOLE_FLAGS`, and neither `MODULE_PAHOLE_FLAGS` nor
/// `RESOLVE_BTFIDS_FLAGS` from the environment the tests run in.
pub fn kbtf_as(path: &str, suite: Suite) -> Command {
    let mut cmd = Command::new(path);
    cmd.env("KBTF_PAHOLE_VERSION", suite.pahole_version())
        .env("PAHOLE_FLAGS", suite.pahole_flags_var())
        .env_remove("MODULE_PAHOLE_FLAGS")
        .env_remove("RESOLVE_BTFIDS_FLAGS");
    cmd
}
