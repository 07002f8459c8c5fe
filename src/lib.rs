//! # pip-rs: Process-in-Process for Rust
//!
//! Many *tasks* (ranks) run in one address space, each with its own private copy of its
//! program's statics, as RIKEN's PiP does; messages between them need no kernel and at most one
//! copy. A job runs on one machine: every task is a thread (or a process) of one process on one
//! node.
//!
//! This crate is the entry point: it re-exports the two libraries a program uses, so one
//! dependency (`pip-rs`) is enough. The workspace holds these crates:
//!
//! | crate | what it is | start with |
//! |---|---|---|
//! | [`pip_core`] (re-exported) | the runtime: load programs as tasks, spawn, wait, kill, export/import addresses, barriers | [`task_main!`] for a task, [`pip_core::Root`] for a root |
//! | [`pip_comm`] (re-exported) | MPI-style messaging: communicators, point-to-point, collectives, as PiP tasks or as threads | [`pip_comm::world`] in a task, [`pip_comm::run`] for thread ranks |
//! | `pip-tools` | the command-line tools: `pip-exec` (run jobs), `pips` (see and signal tasks), `pip-check`, `pip-mode` | `pip-exec --help` |
//! | `pip-capi` | `libpip.so`, the PiP v2.0 C API, with `include/pip/pip.h` and the `pipcc` compiler wrapper | `pip-capi/README.md`, `docs/c-api.md` |
//! | `bench` | OSU-style benchmarks (latency, bandwidth, collectives), as tasks and as threads | `BENCHMARKS.md` |
//!
//! Where to start: the README's five-minute tutorial (a task in twenty lines), then
//! `docs/architecture.md` (the loader, the root/task ABI, the rules for ending tasks and for
//! signals) and the README's "Limits (read these)".
//!
//! ## A task
//!
//! A task is a `cdylib` whose entry is marked with [`task_main!`]; run it with
//! `pip-exec -n 4 target/debug/libmytask.so`:
//!
//! ```no_run
//! use pip_rs::pip_comm::prelude::*;
//!
//! fn run() -> pip_rs::pip_comm::Result<()> {
//!     let world = pip_rs::pip_comm::world()?;
//!     let next = (world.rank() + 1) % world.size();
//!     world.process_at_rank(next).send(&(world.rank() as u64))?;
//!     let (from, _status) = world.any_process().receive::<u64>()?;
//!     println!("rank {} got {from}", world.rank());
//!     Ok(())
//! }
//! pip_rs::task_main!(run);
//! ```
//!
//! ## A root
//!
//! `pip-exec` is a root; a Rust program becomes one with [`pip_core::Root`]:
//!
//! ```no_run
//! use pip_rs::pip_core::{Root, Spawn};
//! let mut root = Root::init(2)?;
//! for _ in 0..2 {
//!     root.spawn(Spawn::program("target/debug/libmytask.so"))?;
//! }
//! while let Ok((pipid, status)) = root.wait_any() {
//!     println!("task {pipid} {status}");
//! }
//! root.fin()?;
//! # Ok::<(), pip_rs::pip_core::Error>(())
//! ```
#![warn(missing_docs)]

pub use pip_comm;
pub use pip_core;
pub use pip_core::task_main;

/// The README's code blocks, compiled (and the runnable ones run) as doc tests, so that the
/// README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
