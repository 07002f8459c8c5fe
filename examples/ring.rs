//! `ring`: a token travels around the ring of tasks, using nothing but export/import and the
//! root's barrier.
//!
//! Each task exports the address of its own mailbox under the name "mailbox". A task writes
//! the token into its right neighbour's mailbox, and everyone meets at the barrier the root
//! exported, once per hop. After `ntasks` hops the token, incremented by every task, is back at
//! task 0.
//!
//! ```text
//! cargo build --examples
//! cargo run -p pip-tools --bin pip-exec -- -n 4 target/debug/examples/libring.so
//! ```
use pip_rs::pip_core::{self, Barrier, PipId};
use std::sync::atomic::{AtomicU64, Ordering};

/// This task's mailbox (private to each task's copy of the program).
static MAILBOX: AtomicU64 = AtomicU64::new(0);

fn ring() -> Result<(), pip_core::Error> {
    let PipId::Task(me) = pip_core::pipid()? else {
        unreachable!("tasks only")
    };
    let n = pip_core::ntasks()?;
    let barrier: *mut Barrier = pip_core::root_export()?;
    if barrier.is_null() {
        eprintln!("ring: the root exported no barrier (run me with pip-exec)");
        return Err(pip_core::Error::NotInitialized);
    }
    // SAFETY: the root exports a Barrier that lives until every task has ended.
    let barrier = unsafe { &*barrier };
    pip_core::named_export("mailbox", &MAILBOX as *const AtomicU64 as *mut AtomicU64)?;
    let right: *mut AtomicU64 = pip_core::named_import(PipId::Task((me + 1) % n), "mailbox")?;
    // SAFETY: the neighbour's mailbox is a static of its image, which is never unloaded.
    let right = unsafe { &*right };

    if me == 0 {
        MAILBOX.store(1, Ordering::SeqCst);
    }
    for hop in 0..n {
        if me == hop % n {
            let token = MAILBOX.load(Ordering::SeqCst);
            println!("task {me}: token {token} -> task {}", (me + 1) % n);
            right.store(token + 1, Ordering::SeqCst);
        }
        barrier.wait();
    }
    if me == 0 {
        let token = MAILBOX.load(Ordering::SeqCst);
        println!("task 0: token came back as {token} after {n} hops");
        assert_eq!(token, n as u64 + 1);
    }
    Ok(())
}

pip_rs::task_main!(ring);
