//! What a signal must not leave behind, and what it must say.
//!
//! Two registries of fixed size, written by the library and read from a
//! signal handler (so they hold no heap data and take no locks):
//! * the temporary files of atomic writes in flight ([`crate::atomic`]):
//!   SIGINT, SIGTERM and SIGHUP (Ctrl-C under make) remove them, then the
//!   signal is raised again with its default action, so the parent sees the
//!   process die of it as before;
//! * the mapped input files ([`crate::input::FileBytes`]): a file truncated
//!   while kbtf reads its map raises SIGBUS on the first page past the new
//!   end. The handler names the file whose map holds the faulting address,
//!   removes the temporary files and exits with status 1, as for any other
//!   bad input.
//!
//! The handlers are process-wide, so the library never installs them on its
//! own: a program calls [`install`] once (the `kbtf` binary does). Without
//! it the registries cost two atomic operations per file and do nothing.

use std::cell::UnsafeCell;
use std::path::Path;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// Slots for files registered at once: more than the threads of any batch.
const SLOTS: usize = 64;
/// The longest path kept (Linux's `PATH_MAX`); longer ones are not registered.
const PATH_MAX: usize = 4096;

const FREE: u8 = 0;
const BUSY: u8 = 1;
const TEMP: u8 = 2;
const MAP: u8 = 3;

struct Slot {
    state: AtomicU8,
    start: AtomicUsize,
    len: AtomicUsize,
    path_len: AtomicUsize,
    /// NUL-terminated; written only while the slot is BUSY and owned.
    path: UnsafeCell<[u8; PATH_MAX]>,
}

// SAFETY: `path` is written only by the thread that moved `state` from FREE
// to BUSY, and read only after `state` was seen TEMP or MAP (Acquire after
// the owner's Release), before the owner moves it back through BUSY.
unsafe impl Sync for Slot {}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    state: AtomicU8::new(FREE),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    path_len: AtomicUsize::new(0),
    path: UnsafeCell::new([0; PATH_MAX]),
};

static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];

/// A registered file; dropping it unregisters the file.
#[derive(Debug)]
pub(crate) struct Registration(Option<usize>);

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            REGISTRY[i].state.store(FREE, Ordering::Release);
        }
    }
}

fn register(state: u8, path: &Path, start: usize, len: usize) -> Registration {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= PATH_MAX {
        return Registration(None);
    }
    for (i, slot) in REGISTRY.iter().enumerate() {
        if slot
            .state
            .compare_exchange(FREE, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            // SAFETY: this thread owns the slot (it is BUSY), see `Slot`.
            let buf = unsafe { &mut *slot.path.get() };
            buf[..bytes.len()].copy_from_slice(bytes);
            buf[bytes.len()] = 0;
            slot.path_len.store(bytes.len(), Ordering::Relaxed);
            slot.start.store(start, Ordering::Relaxed);
            slot.len.store(len, Ordering::Relaxed);
            slot.state.store(state, Ordering::Release);
            return Registration(Some(i));
        }
    }
    // Full: the file goes unregistered, which only loses the cleanup.
    Registration(None)
}

/// Registers a temporary file to remove if the process is interrupted.
pub(crate) fn register_temp(path: &Path) -> Registration {
    register(TEMP, path, 0, 0)
}

/// Registers the map of an input file, to name it if reading it faults.
pub(crate) fn register_map(path: &Path, bytes: &[u8]) -> Registration {
    register(MAP, path, bytes.as_ptr() as usize, bytes.len())
}

/// Installs the handlers for SIGINT, SIGTERM, SIGHUP and SIGBUS. A signal
/// that was ignored when the process started (`nohup`) stays ignored.
#[cfg(target_os = "linux")]
pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGBUS] {
        // SAFETY: plain sigaction calls with a zeroed, then filled struct;
        // the handler only calls async-signal-safe functions.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
                && sig != libc::SIGBUS
            {
                continue;
            }
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = handler as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

/// Elsewhere there are no handlers to install.
#[cfg(not(target_os = "linux"))]
pub fn install() {}

#[cfg(target_os = "linux")]
extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    remove_temp_files();
    if sig == libc::SIGBUS {
        // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO.
        let addr = unsafe { (*info).si_addr() } as usize;
        report_fault(addr);
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(1) };
    }
    // SAFETY: resetting to the default action and raising again are
    // async-signal-safe; the process then dies of the signal.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

#[cfg(target_os = "linux")]
fn remove_temp_files() {
    for slot in &REGISTRY {
        if slot.state.load(Ordering::Acquire) == TEMP {
            // SAFETY: the slot holds a NUL-terminated path (see `Slot`).
            unsafe { libc::unlink(slot.path.get().cast::<libc::c_char>()) };
        }
    }
}

#[cfg(target_os = "linux")]
fn report_fault(addr: usize) {
    let write = |bytes: &[u8]| {
        // SAFETY: write(2) on stderr with a valid buffer.
        unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
    };
    write(b"kbtf: ");
    let mapped = REGISTRY.iter().find(|slot| {
        let start = slot.start.load(Ordering::Relaxed);
        slot.state.load(Ordering::Acquire) == MAP
            && addr >= start
            && addr - start < slot.len.load(Ordering::Relaxed)
    });
    match mapped {
        Some(slot) => {
            let len = slot.path_len.load(Ordering::Relaxed);
            // SAFETY: the slot holds `len` path bytes (see `Slot`).
            write(unsafe { &(&*slot.path.get())[..len] });
            write(b": the file was truncated or became unreadable while kbtf read it (SIGBUS)\n");
        }
        None => write(b"bus error (SIGBUS) outside any mapped input file\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_holds_its_slot_until_dropped() {
        let reg = register_map(Path::new("/tmp/kbtf-signals-test"), b"abc");
        let i = reg.0.expect("a free slot");
        assert_eq!(REGISTRY[i].state.load(Ordering::Acquire), MAP);
        assert_eq!(REGISTRY[i].len.load(Ordering::Relaxed), 3);
        assert_eq!(REGISTRY[i].path_len.load(Ordering::Relaxed), 22);
        // (After the drop another test's write may take the slot at once.)
    }

    /// A child interrupted with a temporary file registered: the file is
    /// gone and the child died of SIGINT, as make expects.
    #[cfg(target_os = "linux")]
    #[test]
    fn an_interrupt_removes_temporary_files_and_still_kills() {
        let tmp = std::env::temp_dir().join(format!(".m.ko.kbtf-{}-0.tmp", std::process::id()));
        std::fs::write(&tmp, b"partial").unwrap();
        // SAFETY: the child only installs handlers, fills a slot (no
        // allocation) and raises a signal before it ends.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            install();
            let _reg = register_temp(&tmp);
            unsafe {
                libc::raise(libc::SIGINT);
                libc::_exit(0);
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGINT);
        assert!(!tmp.exists(), "the temporary file is still there");
    }
}
