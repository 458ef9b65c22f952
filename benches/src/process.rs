//! Running child processes and measuring them: one at a time, with wall time
//! and peak RSS from `wait4` ([`run`]); or several at once as `make -jN`
//! runs them, with the peak of the memory they use together ([`run_concurrently`]).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What one process, or a loop of processes, cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// Wall time; for a loop, the sum over its processes.
    pub wall: Duration,
    /// Peak resident set size in KiB (`ru_maxrss`, which covers the reaped
    /// descendants too, e.g. the objcopy pahole starts); for a loop, the max;
    /// for processes run at once, the peak of their summed PSS.
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

/// Runs `cmds`, at most `jobs` at a time (as `make -jN` would), all with
/// their output appended to `log`, and fails like [`run`] when one fails.
/// The wall time is the whole run's. The peak is of the memory all the
/// running processes and their children use together: the sum of their
/// proportional set sizes (PSS, so that pages they share, such as a mapped
/// vmlinux, count once), sampled every 5 ms from /proc.
pub fn run_concurrently(cmds: Vec<Command>, jobs: usize, log: &Path) -> Result<Sample> {
    let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let done = AtomicBool::new(false);
    let peak = AtomicU64::new(0);
    let processes = cmds.len() as u32;
    let start = Instant::now();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(descendants_pss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let result = spawn_and_reap(cmds, jobs.max(1), &out, log);
        done.store(true, Ordering::Relaxed);
        result
    });
    result?;
    Ok(Sample {
        wall: start.elapsed(),
        max_rss_kib: peak.load(Ordering::Relaxed),
        processes,
        floor_kib: 0,
    })
}

/// Keeps up to `jobs` of `cmds` running until all have exited; the first
/// failure is the error, once every started process has been reaped.
fn spawn_and_reap(cmds: Vec<Command>, jobs: usize, out: &File, log: &Path) -> Result<()> {
    let mut pending = cmds.into_iter();
    let mut running: HashMap<libc::pid_t, String> = HashMap::new();
    let mut failure = None;
    loop {
        while failure.is_none() && running.len() < jobs {
            let Some(mut cmd) = pending.next() else { break };
            cmd.stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out.try_clone()?);
            let child = cmd
                .spawn()
                .with_context(|| format!("starting {:?}", cmd.get_program()))?;
            running.insert(libc::pid_t::try_from(child.id())?, format!("{cmd:?}"));
        }
        if running.is_empty() {
            break;
        }
        let Some((pid, status)) = reap_one_of(running.keys().copied())? else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        let what = running.remove(&pid).unwrap_or_default();
        if failure.is_none() && (!libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0) {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            failure = Some(anyhow::anyhow!("{what} failed:\n{}", tail.join("\n")));
        }
    }
    failure.map_or(Ok(()), Err)
}

/// The summed PSS in KiB of every process below this one (0 for those gone
/// or unreadable meanwhile).
fn descendants_pss_kib() -> u64 {
    let me = std::process::id() as i64;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let parents: HashMap<i64, i64> = entries
        .filter_map(|e| {
            let pid: i64 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces; the fields after it do not.
            let rest = &stat[stat.rfind(')')? + 1..];
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let below_me = |mut pid: i64| {
        // A bounded walk: a pid table read over time may hold a cycle.
        for _ in 0..64 {
            match parents.get(&pid) {
                Some(&p) if p == me => return true,
                Some(&p) if p > 1 => pid = p,
                _ => return false,
            }
        }
        false
    };
    parents
        .keys()
        .filter(|&&pid| below_me(pid))
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
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

/// Reaps the first of `pids` that has exited, without waiting: its pid and
/// status, or `None` while all run. (Only these pids: the harness's tests
/// run side by side in one process, each with its own children.)
fn reap_one_of(
    pids: impl Iterator<Item = libc::pid_t>,
) -> Result<Option<(libc::pid_t, libc::c_int)>> {
    for pid in pids {
        let mut status: libc::c_int = 0;
        // SAFETY: the pointer is to a live, writable local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Ok(Some((pid, status)));
        }
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e).context("waitpid");
            }
        }
    }
    Ok(None)
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

    #[test]
    fn concurrent_processes_count_together() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        // Two processes each holding 64 MiB for a while, both at once.
        let hold = || {
            let mut py = Command::new("python3");
            py.args(["-c", "import time; b = b'x' * (64 << 20); time.sleep(0.3)"]);
            py
        };
        let both = run_concurrently(vec![hold(), hold()], 2, &log).unwrap();
        assert_eq!(both.processes, 2);
        assert!(both.max_rss_kib >= 100 * 1024, "{both:?}");
        let failing = run_concurrently(vec![hold(), Command::new("false")], 2, &log);
        assert!(failing.is_err());
    }
}
