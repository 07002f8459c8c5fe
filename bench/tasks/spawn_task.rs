//! The task of the pip-core benchmarks (`pip_spawn`): with no argument it returns at once (to
//! time spawn+wait); `barrier R` waits R times on the barrier the root exported (to time a
//! barrier round between the root and a task).
use pip_rs::pip_core::{self, Barrier};

fn run() -> i32 {
    let args = pip_core::args();
    if args.get(1).map(String::as_str) == Some("barrier") {
        let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        let b: *mut Barrier = pip_core::root_export().unwrap_or(std::ptr::null_mut());
        if b.is_null() {
            return 2;
        }
        // SAFETY: the benchmark exports a Barrier that outlives the task.
        let b = unsafe { &*b };
        for _ in 0..rounds {
            b.wait();
        }
    }
    0
}

pip_rs::task_main!(run);
