//! # libpip.so: the PiP v2.0 C API over pip-core
//!
//! This crate builds `libpip.so`, which implements the functions of `include/pip/pip.h` (RIKEN
//! PiP's v2.0 API: `pip_init`, `pip_spawn`, `pip_wait`, `pip_named_export`, ...) on top of
//! pip-core, so that existing PiP programs build with `pipcc` and run unchanged. Every `int`
//! function returns 0 or an `errno` value, as PiP's do. What differs from RIKEN's PiP is in
//! `docs/c-api.md`.
//!
//! ## Who is calling
//!
//! In pip-core's default `shared-libc` isolation, a C task linked with `libpip.so` shares *one*
//! copy of the library with the root (only the task's own program is copied per task), so the
//! library's statics cannot say which task calls. In `namespace` isolation every task has its
//! own copy, and under a Rust root (pip-exec) the root's pip-core is not this library's at all.
//! So every call first asks the *root's* copy of pip-core who the calling thread is, through
//! pip-core's C bridge ([`pip_core::bridge`]): the root sets a thread-local on each task's main
//! thread. See [`whoami`].
//!
//! Threads that a task creates belong to that task: `libpip.so` wraps `pthread_create` to
//! record the creating task in the new thread ([`threads`]). This needs `libpip.so` ahead of
//! libc in the lookup order, which a root built with pipcc gives (and namespace isolation); under
//! pip-exec in shared-libc isolation, threads a task creates answer as the root (`pip_get_pipid`
//! gives `PIP_PIPID_ROOT`).
//!
//! ## Layout
//!
//! * [`whoami`]: finding the root's pip-core and the caller's identity.
//! * [`job`]: the root side (`pip_init`, `pip_task_spawn`, `pip_wait`, `pip_fin`, ...).
//! * [`exports`]: `pip_export`, `pip_import`, the named exports, the aux pointer.
//! * [`query`]: `pip_get_pipid` and the other questions.
//! * [`signals`]: `pip_exit`, `pip_kill`, `pip_abort`, `pip_sigmask`, `pip_signal_wait`.
//! * [`barrier`]: `pip_barrier_*` and `pip_yield`.
//! * [`dl`]: PiP's loader lock (`pip_glibc_lock`) and the locked `pip_dl*` calls.
//! * [`threads`]: `pthread_create`, so that threads a task creates belong to it.
//! * [`info`]: the runnable library (`./libpip.so --version`) and the semi-public helpers
//!   (`pip_gettid`, `pip_is_debug_build`, `pip_debug_info`, ...).
//!
//! The printf-style functions (`pip_named_export(exp, fmt, ...)` and the messages) are
//! `static inline` in `pip.h`: they format the name and call the `*_name` functions of
//! [`exports`] (stable Rust cannot define C variadic functions).
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod barrier;
pub mod consts;
pub mod dl;
pub mod exports;
pub mod info;
pub mod job;
pub mod query;
pub mod signals;
pub mod spawn;
pub mod threads;
pub mod wait;
pub mod whoami;
