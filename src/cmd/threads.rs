//! `--threads`: the size of the global rayon pool, checked before a command writes anything.

/// The largest `--threads` accepted. More workers than this only cost memory (each one has
/// its own stack), and a typo such as `--threads 30000` should be an error, not an
/// out-of-memory kill.
pub const MAX_THREADS: usize = 1024;

/// Why `--threads` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ThreadsError {
    #[error(
        "--threads {n} is out of range; give a number from 1 to {MAX_THREADS}, or leave it out to use every core"
    )]
    OutOfRange { n: usize },
    #[error(
        "--threads {n}: cannot start {n} worker threads ({source}); pass a smaller --threads, or leave it out"
    )]
    Pool {
        n: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    #[error(
        "--threads {n}: cannot start {n} worker threads: their stacks need about {need_mb} MB of \
         address space and the process limit (ulimit -v) leaves {free_mb} MB; pass a smaller \
         --threads, or leave it out"
    )]
    AddressSpace {
        n: usize,
        need_mb: u64,
        free_mb: u64,
    },
}

/// Address space one worker takes: rayon's 2 MiB stack (std's default for spawned threads),
/// its guard page and signal stack, and headroom for the thread's malloc arena bookkeeping.
const BYTES_PER_WORKER: u64 = (2 << 20) + (256 << 10);

/// `(limit, in use)` of the process's address space when `ulimit -v` bounds it (Linux).
/// A thread that cannot map its signal stack aborts the whole process instead of failing
/// `build`, so a pool that cannot fit is refused before any thread starts.
fn address_space() -> Option<(u64, u64)> {
    #[cfg(target_os = "linux")]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `rlimit` through a valid pointer.
        if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } != 0
            || limit.rlim_cur == libc::RLIM_INFINITY
        {
            return None;
        }
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmSize:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some((limit.rlim_cur, kb * 1024))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Checks `--threads` without starting anything.
pub fn check_threads(threads: Option<usize>) -> Result<(), ThreadsError> {
    match threads {
        Some(n) if !(1..=MAX_THREADS).contains(&n) => Err(ThreadsError::OutOfRange { n }),
        _ => Ok(()),
    }
}

/// Checks `--threads` and sizes the global rayon pool with it (nothing to do without it: rayon
/// then uses every core). Call it once, before any parallel work.
///
/// A failed `build_global` leaves rayon without a global pool for the rest of the process
/// (its next parallel call panics), so the pool is first built locally: if that fails, the
/// global pool is untouched and the error is returned.
pub fn init_threads(threads: Option<usize>) -> Result<(), ThreadsError> {
    check_threads(threads)?;
    let Some(n) = threads else {
        return Ok(());
    };
    if let Some((limit, used)) = address_space() {
        let need = n as u64 * BYTES_PER_WORKER;
        let free = limit.saturating_sub(used);
        // Keep half of what is left for the work itself.
        if need > free / 2 {
            return Err(ThreadsError::AddressSpace {
                n,
                need_mb: need >> 20,
                free_mb: free >> 20,
            });
        }
    }
    let pool_error = |source| ThreadsError::Pool { n, source };
    drop(
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(pool_error)?,
    );
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(pool_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_outside_one_to_max_are_refused_with_the_range() {
        for n in [0, MAX_THREADS + 1, usize::MAX] {
            let err = check_threads(Some(n)).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "--threads {n} is out of range; give a number from 1 to 1024, or leave it out to use every core"
                )
            );
        }
        for ok in [None, Some(1), Some(MAX_THREADS)] {
            assert!(check_threads(ok).is_ok());
        }
    }
}
