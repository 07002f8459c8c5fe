//! `hello`: each task prints its pipid, the task count, and the address and value of a static.
//!
//! Every task has its own copy of the program's statics: the addresses differ from task to task,
//! and each task sees only its own write.
//!
//! ```text
//! cargo build --examples
//! cargo run -p pip-tools --bin pip-exec -- -n 4 target/debug/examples/libhello.so
//! ```
use std::sync::atomic::{AtomicUsize, Ordering};

/// One per task: each task's copy of the program has its own.
static MY_PIPID: AtomicUsize = AtomicUsize::new(usize::MAX);

fn hello() -> i32 {
    let pip_rs::pip_core::PipId::Task(me) =
        pip_rs::pip_core::pipid().expect("run me with pip-exec")
    else {
        return 1;
    };
    let n = pip_rs::pip_core::ntasks().unwrap();
    MY_PIPID.store(me, Ordering::SeqCst);
    println!(
        "Hello from task {me} of {n}: static MY_PIPID at {:p} holds {}",
        &MY_PIPID,
        MY_PIPID.load(Ordering::SeqCst)
    );
    0
}

pip_rs::task_main!(hello);
