//! Thread pools for `-j N`: the one place that turns a job count into threads.

use crate::Error;

/// More threads than this many per CPU buy nothing (the output does not
/// depend on the count) and cost a stack each: `-j 100000` would spend
/// minutes and most of a gigabyte starting threads.
const THREADS_PER_CPU: usize = 4;

/// The threads `-j jobs` gets: all CPUs by default, at most
/// [`THREADS_PER_CPU`] per CPU (and at least 8, so that tests of
/// determinism across thread counts run on small machines).
pub fn thread_count(jobs: Option<usize>) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    jobs.unwrap_or(cpus)
        .clamp(1, (cpus * THREADS_PER_CPU).max(8))
}

/// Runs `f` on a pool of [`thread_count`] threads.
pub fn with_threads<T: Send>(
    jobs: Option<usize>,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    let threads = thread_count(jobs);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Other(format!("cannot start {threads} threads: {e}")))?
        .install(f)
}
