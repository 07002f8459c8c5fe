//! Shared by the integration tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Aborts the whole test process if the test holding it has not finished within `limit`, so a
/// deadlock fails loudly instead of hanging the suite. No timing is asserted: the limit is
/// orders of magnitude above the normal run time.
#[must_use = "the watchdog stops when dropped"]
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    /// Starts a watchdog for the test `name`.
    pub fn start(name: &'static str, limit: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !flag.load(Ordering::SeqCst) {
                if start.elapsed() > limit {
                    eprintln!("watchdog: {name} made no progress for {limit:?}; aborting");
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

/// A watchdog with the suite's usual limit (two minutes).
pub fn watchdog(name: &'static str) -> Watchdog {
    Watchdog::start(name, Duration::from_secs(120))
}
