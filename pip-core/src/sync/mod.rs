//! The synchronisation layer: the few mechanisms every waiting or lock-free protocol of pip-rs
//! is built from, one file each, so that pip-core, pip-comm and libpip share one
//! implementation and the loom models check the code that runs.
//!
//! | module | what it is |
//! |---|---|
//! | [`atomic`] | the atomics protocol code uses: std's, or loom's under `--cfg loom` |
//! | [`futex`] | wait and wake on one 32-bit word, behind the [`Futex`](futex::Futex) trait that loom can replace |
//! | [`backoff`] | how a thread waits: spin, then yield, then sleep; one set of tunables ([`WaitPolicy`](backoff::WaitPolicy)) |
//! | [`ticket`] | a 64-bit word holding a ticket and a count, updated as one ([`AtomicTicket`](ticket::AtomicTicket)) |
//! | [`seqlock`] | a sequence lock: one writer per slot, readers that retry, also across processes |
//!
//! Each module starts with its protocol; the code's `// SYNC(...)` comments point to those
//! sections.
//!
//! # Model checking
//!
//! Built with `RUSTFLAGS="--cfg loom"`, [`atomic`] hands out loom's atomics and
//! `futex::Model` replaces the system call, and the `loom_*` tests explore every
//! interleaving of the ticket word, the sequence lock and a futex sleep protocol:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p pip-core --lib --release loom_
//! ```

pub mod atomic;
pub mod backoff;
pub mod futex;
pub mod seqlock;
pub mod ticket;
