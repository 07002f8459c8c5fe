//! # pip-core: Process-in-Process for Rust
//!
//! Many *tasks* in one address space, each with private copies of its program's statics, as
//! RIKEN's PiP does. A task is a shared object with an exported entry point: a Rust `cdylib`
//! marked with [`task_main!`] (or [`task_function!`]), or a C program built `-shared -fPIC` (or
//! as a PIE linked `-rdynamic`) that exports `main`. The *root* loads one private copy of the
//! program per task and runs each task on a thread of its own.
//!
//! The data flow: [`Root::init`] -> [`Root::spawn`] (load a private image, start the task's
//! thread) -> the task's entry (which can call [`pipid`], [`named_export`], [`named_import`],
//! [`Barrier::wait`], ...) -> [`Root::wait`] (exit code or signal) -> [`Root::fin`].
//!
//! Two isolation levels ([`Isolation`]): `shared-libc` (default: private program image, shared
//! libc and malloc, hundreds of tasks) and `namespace` (private libc per task through
//! `dlmopen`, at most 11 or 15 tasks). See `docs/architecture.md` for the loader, the root/task
//! ABI ([`abi`]) and the signal handling ([`signals`]).
//!
//! A job runs on one machine: its tasks share one process's address space.
//!
//! The task side, a `cdylib` (`[lib] crate-type = ["cdylib"]`) run with
//! `pip-exec -n 4 target/debug/libmytask.so`, or spawned by a root as below:
//!
//! ```no_run
//! use pip_core::PipId;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! static MINE: AtomicUsize = AtomicUsize::new(0); // one copy per task
//!
//! fn run() -> pip_core::Result<()> {
//!     let PipId::Task(me) = pip_core::pipid()? else { unreachable!("a task has a pipid") };
//!     MINE.store(me, Ordering::SeqCst);
//!     // Publish my static's address; task 0 reads everyone's once they exist.
//!     pip_core::named_export("mine", &MINE as *const AtomicUsize as *mut AtomicUsize)?;
//!     if me == 0 {
//!         for peer in 0..pip_core::ntasks()? {
//!             let theirs: *mut AtomicUsize = pip_core::named_import(PipId::Task(peer), "mine")?;
//!             // SAFETY: a task's statics live as long as the process (images are never
//!             // unloaded), and the value is atomic.
//!             println!("task {peer} holds {}", unsafe { &*theirs }.load(Ordering::SeqCst));
//!         }
//!     }
//!     Ok(())
//! }
//! pip_core::task_main!(run); // exports `main`; an `Err` is printed and gives exit code 1
//! ```
//!
//! ```no_run
//! // The root side (a program that links pip-core and exports `exit`):
//! use pip_core::{Root, Spawn};
//! let mut root = Root::init(4)?;
//! for _ in 0..4 {
//!     root.spawn(Spawn::program("target/debug/examples/libhello.so").arg("hi"))?;
//! }
//! for pipid in 0..4 {
//!     println!("task {pipid}: {}", root.wait(pipid)?);
//! }
//! root.fin()?;
//! # Ok::<(), pip_core::Error>(())
//! ```
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
mod barrier;
pub mod direct_run;
pub mod elf;
mod error;
pub mod launcher;
/// The futex calls; they live in [`sync::futex`], this is their older path.
pub mod futex {
    pub use crate::sync::futex::{wait, wait_bitset, wait_timeout, wake, wake_bitset, ALL_BITS};
}
mod root;
pub mod settings;
mod signal_names;
mod spawn;
mod status;
pub mod sync;
mod sys;
pub mod task;
pub mod waits;

pub use barrier::Barrier;
pub use error::{Error, Result};
pub use root::bridge;
pub use root::loader::reexec_with_more_namespaces_if_needed;
pub use root::{alloc_guard, signals};
pub use root::{current_pipid, exit_is_exported, Root, RootBuilder, MAX_TASKS};
pub use signal_names::{parse_signal, signal_name, signal_short_name};
pub use spawn::Spawn;
pub use status::ExitStatus;
pub use task::code as task_code;
pub use task::{
    args, args_os, aux, env_var, env_var_os, exit, export, import, is_root, is_task, isolation,
    mode, named_export, named_import, ntasks, pipid, root_export, set_aux, try_named_import,
    yield_now, TaskResult,
};

use std::fmt;

/// Who someone is in a PiP job: the root, or the task with that pipid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PipId {
    /// The root.
    Root,
    /// A task, numbered from 0.
    Task(usize),
}

impl From<usize> for PipId {
    fn from(p: usize) -> PipId {
        PipId::Task(p)
    }
}

impl fmt::Display for PipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipId::Root => f.write_str("the root"),
            PipId::Task(n) => write!(f, "task {n}"),
        }
    }
}

/// How much of the process a task shares with the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
pub enum Isolation {
    /// A private copy of the program image per task; libc (and so malloc, stdio, `environ`)
    /// shared by all. No task limit; cross-task `free` and `Vec` ownership transfer are safe.
    #[default]
    SharedLibc = 0,
    /// A private libc per task (`dlmopen`): own `environ`, stdio, malloc. At most 11 tasks per
    /// process with stock glibc, 15 with `GLIBC_TUNABLES=glibc.rtld.nns=16`. Never free memory
    /// another task allocated.
    Namespace = 1,
}

impl Isolation {
    /// The name used on command lines: `shared-libc` or `namespace`.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::SharedLibc => "shared-libc",
            Isolation::Namespace => "namespace",
        }
    }
}

impl std::str::FromStr for Isolation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Isolation> {
        match s {
            "shared-libc" | "shared" => Ok(Isolation::SharedLibc),
            "namespace" | "ns" => Ok(Isolation::Namespace),
            _ => Err(Error::InvalidArgument(format!(
                "unknown isolation `{s}` (expected shared-libc or namespace)"
            ))),
        }
    }
}

/// How tasks execute (PiP's execution modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
pub enum Mode {
    /// A task is a thread of the root's process (PiP's `pthread` mode): pid, signal
    /// dispositions and (unless the task asks for a private one) the fd table are shared.
    #[default]
    Thread = 0,
    /// A task is a process of its own that shares the root's address space: its own pid (its
    /// parent is the root), fd table, cwd, signal dispositions and mask. A *host* thread of the
    /// root lends its thread control block to a `clone(CLONE_VM | CLONE_SETTLS)` child, so glibc
    /// works in the task. See `docs/architecture.md` for what this means for `pthread_self()`.
    Process = 1,
}

impl Mode {
    /// PiP's name for the mode, as `pip_get_mode_str` gives it: `pthread` or `process`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Thread => "pthread",
            Mode::Process => "process",
        }
    }

    /// The mode requested by the `PIP_MODE` environment variable (unset or empty means thread).
    pub fn from_env() -> Result<Mode> {
        match settings::text("PIP_MODE")? {
            None => Ok(Mode::Thread),
            Some(m) => m.trim().parse(),
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = Error;
    /// `thread`/`pthread`, or `process`. PiP's `process:preload`, `process:pipclone` and
    /// `process:got` need its patched glibc or an older one; they are refused with that reason.
    fn from_str(m: &str) -> Result<Mode> {
        match m {
            "" | "thread" | "pthread" => Ok(Mode::Thread),
            "process" => Ok(Mode::Process),
            m if m.starts_with("process:") => Err(Error::InvalidArgument(format!(
                "PIP_MODE={m}: PiP's {m} mode needs PiP's patched glibc (glibc 2.34 and later have no hook for it); use `process`, which works on stock glibc"
            ))),
            m => Err(Error::InvalidArgument(format!("PIP_MODE={m}: unknown mode (expected thread, pthread or process)"))),
        }
    }
}

/// Parses a size such as `8388608`, `8192k`, `8m` or `1g`, with a plain number in KiB (the
/// rule of PiP's `PIP_STACKSIZE`). Sizes elsewhere follow one rule, a plain number is bytes:
/// use [`settings::parse_bytes`] for that, or [`settings::parse_size_in`] with
/// [`settings::Plain::KiB`] for the KiB variables.
///
/// ```
/// #![allow(deprecated)]
/// assert_eq!(pip_core::parse_size("16m"), Some(16 << 20));
/// assert_eq!(pip_core::parse_size("64"), Some(64 << 10));
/// assert_eq!(pip_core::parse_size("x"), None);
/// ```
#[deprecated(
    since = "0.2.0",
    note = "use pip_core::settings::parse_bytes (a plain number is bytes), or settings::parse_size_in(s, Plain::KiB) for PIP_STACKSIZE"
)]
pub fn parse_size(s: &str) -> Option<usize> {
    settings::parse_size_in(s, settings::Plain::KiB)
}
