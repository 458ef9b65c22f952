//! The running kernel as the checker's oracle (included by the tests that
//! compare `kbtf_btf::check` with `BPF_BTF_LOAD`).

#![allow(dead_code)]

use kbtf_btf::kernel::{self, KernelReject};

/// The kernel's verdict, or `None` (reported as the calling test's skip)
/// when this process may not ask.
pub fn kernel_verdict(blob: &[u8]) -> Option<Result<(), KernelReject>> {
    match kernel::load_btf(blob) {
        Ok(_fd) => Some(Ok(())),
        Err(r) if r.is_unavailable() => {
            let err = std::io::Error::from_raw_os_error(r.errno);
            kbtf_testsupport::skip(format!("BPF_BTF_LOAD is not available here ({err})"));
            None
        }
        Err(r) => Some(Err(r)),
    }
}

/// The line of the kernel's log that says what failed, and the type id it
/// names: its own `[id]`, or for a member or DATASEC entry (a line starting
/// with a tab) the type logged just before it.
pub fn kernel_failure(log: &str) -> (Option<u32>, &str) {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let Some(&last) = lines.last() else {
        return (None, "");
    };
    let id_of = |l: &str| -> Option<u32> { l.strip_prefix('[')?.split(']').next()?.parse().ok() };
    let id = if last.starts_with('[') {
        id_of(last)
    } else if last.starts_with('\t') {
        lines.iter().rev().find_map(|l| id_of(l))
    } else {
        None
    };
    (id, last)
}

/// xorshift64*, seeded: the same mutants on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (which must not be 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `choices`.
    pub fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.below(choices.len())]
    }
}
