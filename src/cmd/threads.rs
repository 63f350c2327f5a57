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
