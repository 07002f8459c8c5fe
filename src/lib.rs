//! # pip-rs
//!
//! Process-in-Process for Rust. This facade re-exports the two libraries:
//!
//! * [`pip_core`]: load programs as *tasks* into one address space, each
//!   with private statics; spawn, wait, kill, export/import addresses, barriers.
//! * [`pip_comm`]: the MPI-style messaging layer on top.
//!
//! Start with the README's tutorial, then `docs/architecture.md`.
pub use pip_comm;
pub use pip_core;
pub use pip_core::task_main;
