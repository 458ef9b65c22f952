//! The global allocator: mimalloc, with memory returned to the system a
//! little later than it would by default.

/// Encoding frees many per-unit allocations on another thread than the one
/// that made them; mimalloc's thread-local heaps take that far better than
/// glibc's arenas (vmlinux at -j2: 3.3 s -> 2.0 s of encoding).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (the same in its v2 and v3): how
/// many milliseconds freed memory waits before it is given back.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Its default in the mimalloc v3 that libmimalloc-sys builds (options.c;
/// the header still says 10, v2's), to recognise the option.
const PURGE_DELAY_DEFAULT: std::ffi::c_long = 1000;

/// Gives freed memory back after 100 ms instead of 1 s: encoding frees
/// each batch of units as the next is decoded, and a second is long enough
/// for those pages to pile up. Peak RSS on a vmlinux at -j2 (2 cores):
/// 461-477 MB by default, 420-429 MB at 100 ms (never purging: 625 MB);
/// `kbtf gen` over 59 modules: 300-320 MB -> 250-255 MB. Left alone when the
/// option does not hold that default: set by MIMALLOC_PURGE_DELAY, or a
/// mimalloc with other numbering.
pub fn tune() {
    // SAFETY: mimalloc's option calls take any option number and value;
    // they only read and write its option table.
    unsafe {
        if libmimalloc_sys::mi_option_get(PURGE_DELAY) == PURGE_DELAY_DEFAULT {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 100);
        }
    }
}

/// Asks the kernel for no transparent huge pages in this process from now
/// on: for work over a base BTF (a module), whose heap is a few tens of MB.
///
/// mimalloc marks its 1 GiB arena `MADV_HUGEPAGE`, so the first touch of
/// any 2 MiB of it faults in a whole huge page: zeroed in full and, with
/// the kernel's default `defrag=madvise`, compacted for synchronously.
/// On a small module over the sid 7.2 vmlinux that zeroing was 60% of the
/// samples, and peak RSS 74 MB against 33 MB with 4 KiB pages. A vmlinux
/// encode (hundreds of MB, long lived) keeps them. Failing (not Linux, or
/// a kernel without `PR_SET_THP_DISABLE`) only leaves them on.
pub fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes an integer flag and touches no memory
    // of this process; it only sets a flag of the process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
