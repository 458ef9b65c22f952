//! Asking the running kernel what it thinks of a BTF: `bpf(BPF_BTF_LOAD)`,
//! with the verifier log on refusal. Needs `CAP_BPF` (or root), and loads
//! base BTF only: a split BTF goes as [`Btf::flatten`]ed.

use std::fmt;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::{Btf, Endian};

/// `BPF_BTF_LOAD` in the `bpf(2)` command enum.
const BPF_BTF_LOAD: libc::c_long = 18;
/// `BPF_LOG_LEVEL1`: the log names every type checked, then what failed.
const LOG_LEVEL: u32 = 1;
/// The first log buffer tried; doubled while the kernel says it is too small.
const LOG_START: usize = 1 << 20;
/// The kernel refuses log buffers over `UINT_MAX >> 2`.
const LOG_MAX: usize = (u32::MAX >> 2) as usize;

/// The `BPF_BTF_LOAD` member of `union bpf_attr`. Fields newer than the
/// running kernel are left zero, which every kernel accepts.
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    btf_log_true_size: u32,
    btf_flags: u32,
    btf_token_fd: i32,
}

/// The kernel's refusal: the error number and the verifier log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelReject {
    /// The error number `BPF_BTF_LOAD` returned.
    pub errno: i32,
    /// The verifier log (empty when the kernel wrote none, e.g. for `EPERM`
    /// or a BTF over 16 MiB).
    pub log: String,
}

impl KernelReject {
    /// Whether the refusal says nothing about the BTF: no permission to
    /// load BTF, or no `bpf(2)` at all.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.errno, libc::EPERM | libc::EACCES | libc::ENOSYS)
    }

    /// The log's last line: the kernel's reason.
    pub fn reason(&self) -> &str {
        self.log
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }
}

impl fmt::Display for KernelReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ENOTSUPP (524) is kernel-internal; libc has no name for it.
        if self.errno == 524 {
            write!(f, "the kernel refused the BTF: ENOTSUPP (524)")?;
        } else {
            let err = std::io::Error::from_raw_os_error(self.errno);
            write!(f, "the kernel refused the BTF: {err}")?;
        }
        match self.reason() {
            "" => Ok(()),
            reason => write!(f, ": {}", reason.trim()),
        }
    }
}

impl std::error::Error for KernelReject {}

/// Loads a base BTF blob (in the kernel's byte order) into the running
/// kernel. The returned descriptor holds the kernel's copy; dropping it
/// frees it.
pub fn load_btf(blob: &[u8]) -> Result<OwnedFd, KernelReject> {
    // First without a log: a log of every type of a vmlinux-sized BTF is
    // tens of megabytes, and only a refusal needs one.
    let errno = match btf_load(blob, None) {
        Ok(fd) => return Ok(fd),
        Err(errno) => errno,
    };
    // Refusals before the verifier runs come without a log.
    let too_big = errno == libc::E2BIG && blob.len() > crate::check::MAX_LOAD_SIZE;
    if too_big || matches!(errno, libc::EPERM | libc::EACCES | libc::ENOSYS) {
        return Err(KernelReject {
            errno,
            log: String::new(),
        });
    }
    let mut size = LOG_START;
    loop {
        let mut log = vec![0u8; size];
        let mut true_size = 0;
        let result = btf_load(blob, Some((&mut log, &mut true_size)));
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        let text = String::from_utf8_lossy(&log[..end]).into_owned();
        match result {
            Ok(fd) => return Ok(fd),
            // The log did not fit: try again with room for all of it.
            Err(libc::ENOSPC) if size < LOG_MAX => {
                size = (true_size as usize).max(size * 2).min(LOG_MAX);
            }
            // ENOSPC at the largest buffer hides the real error; keep the first.
            Err(libc::ENOSPC) => return Err(KernelReject { errno, log: text }),
            Err(e) => {
                return Err(KernelReject {
                    errno: e,
                    log: text,
                })
            }
        }
    }
}

/// Loads a BTF, base or split, into the running kernel: a split BTF is
/// folded onto its bases first (see [`Btf::flatten`]).
pub fn load(btf: &Btf) -> Result<OwnedFd, KernelReject> {
    let flat;
    let btf = if btf.base().is_some() {
        flat = btf.flatten();
        &flat
    } else {
        btf
    };
    load_btf(&btf.to_bytes_endian(Endian::NATIVE))
}

/// One `bpf(BPF_BTF_LOAD)` call; the error is its errno.
fn btf_load(blob: &[u8], log: Option<(&mut [u8], &mut u32)>) -> Result<OwnedFd, i32> {
    let mut attr = BtfLoadAttr {
        btf: blob.as_ptr() as u64,
        btf_size: u32::try_from(blob.len()).map_err(|_| libc::E2BIG)?,
        ..BtfLoadAttr::default()
    };
    let true_size = match log {
        Some((buf, true_size)) => {
            attr.btf_log_buf = buf.as_mut_ptr() as u64;
            attr.btf_log_size = buf.len() as u32;
            attr.btf_log_level = LOG_LEVEL;
            Some(true_size)
        }
        None => None,
    };
    // SAFETY: `attr` is a valid BPF_BTF_LOAD attribute of the size passed;
    // the blob and log buffer it points to outlive the call, and the kernel
    // writes at most `btf_log_size` bytes into the log.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_BTF_LOAD,
            &mut attr as *mut BtfLoadAttr,
            std::mem::size_of::<BtfLoadAttr>() as libc::c_uint,
        )
    };
    if let Some(t) = true_size {
        *t = attr.btf_log_true_size;
    }
    if ret < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL));
    }
    // SAFETY: a non-negative return of BPF_BTF_LOAD is a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
}
