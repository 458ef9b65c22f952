//! Running one child process and measuring it: wall time and peak RSS from `wait4`.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What one process, or a loop of processes, cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// Wall time; for a loop, the sum over its processes.
    pub wall: Duration,
    /// Peak resident set size in KiB (`ru_maxrss`, which covers the reaped
    /// descendants too, e.g. the objcopy pahole starts); for a loop, the max.
    pub max_rss_kib: u64,
    /// How many processes ran.
    pub processes: u32,
    /// The harness's own RSS when it started them (KiB, the max over a loop):
    /// a child's `ru_maxrss` can't be below it, see [`run`].
    pub floor_kib: u64,
}

impl Sample {
    /// Adds one more process of a loop: wall times add up, RSS takes the max.
    pub fn add(&mut self, other: Sample) {
        self.wall += other.wall;
        self.max_rss_kib = self.max_rss_kib.max(other.max_rss_kib);
        self.processes += other.processes;
        self.floor_kib = self.floor_kib.max(other.floor_kib);
    }
}

/// Runs `cmd` to completion with stdout and stderr sent to `log`, and fails
/// (quoting the end of the log) unless it exits with status 0.
///
/// On exec, Linux carries the peak RSS of the memory the child leaves (the
/// harness's own, as std spawns with `CLONE_VM`) into the child's
/// `ru_maxrss`. So the harness resets its own peak to its current RSS
/// (`/proc/self/clear_refs`) first, and records that RSS as the floor.
pub fn run(cmd: &mut Command, log: &Path) -> Result<Sample> {
    let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    // Best effort: without it the floor is the harness's peak instead.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let floor_kib = own_rss_kib();
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let (status, usage) = wait4(child.id())?;
    let wall = start.elapsed();
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let how = if libc::WIFEXITED(status) {
            format!("exit status {}", libc::WEXITSTATUS(status))
        } else {
            format!("signal {}", libc::WTERMSIG(status))
        };
        bail!("{cmd:?} failed ({how}):\n{}", tail.join("\n"));
    }
    Ok(Sample {
        wall,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        processes: 1,
        floor_kib,
    })
}

/// The harness's current RSS in KiB (`VmRSS` of /proc/self/status), 0 if unknown.
fn own_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Reaps `pid` with `wait4`, which std's `Child::wait` does not expose, to get its rusage.
fn wait4(pid: u32) -> Result<(libc::c_int, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid)?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the right type.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("wait4");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_the_childs_own() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        // dd touches its whole 64 MiB buffer when it reads into it.
        let mut dd = Command::new("dd");
        dd.args(["if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]);
        let big = run(&mut dd, &log).unwrap();
        assert!(big.max_rss_kib >= 64 * 1024, "{big:?}");
        let small = run(&mut Command::new("true"), &log).unwrap();
        assert!(small.max_rss_kib < 16 * 1024, "{small:?}");
        assert!(small.floor_kib > 0 && small.floor_kib <= big.max_rss_kib);
        assert_eq!(small.processes, 1);
    }

    #[test]
    fn a_failing_child_is_an_error_quoting_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo no such file >&2; exit 3"]);
        let err = run(&mut sh, &dir.path().join("log")).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("no such file") && msg.contains("exit status 3"),
            "{msg}"
        );
    }
}
