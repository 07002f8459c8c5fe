//! The error type of pip-core.

use crate::elf::TaskFileRefused;
use crate::PipId;

/// Everything that can go wrong in pip-core. Each message says what happened and, where
/// there is one, how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A root or task call before [`Root::init`](crate::Root::init), or in a program that is
    /// neither a root nor a task.
    #[error("pip-core is not initialised: this is neither a PiP root (call Root::init first) nor a task")]
    NotInitialized,
    /// [`Root::init`](crate::Root::init) while a root is already live in this process.
    #[error("a PiP root is already initialised in this process (call fin() before init() again)")]
    AlreadyInitialized,
    /// A root-only operation called from a task.
    #[error("only the root may {0}")]
    NotRoot(&'static str),
    /// A task count of zero or above the limit.
    #[error("invalid task count {requested}: it must be between 1 and {max}")]
    InvalidTaskCount {
        /// What was asked for.
        requested: usize,
        /// The largest count allowed.
        max: usize,
    },
    /// Every pipid of this root is in use (or was used: pipids are never reused).
    #[error("too many tasks: all {ntasks} pipids of this root have been used (pipids are never reused; init the root with a larger count)")]
    TooManyTasks {
        /// The root's task count.
        ntasks: usize,
    },
    /// A pipid outside `0..ntasks`.
    #[error("invalid pipid {pipid}: this job has tasks 0..{ntasks}")]
    InvalidPipid {
        /// The pipid given.
        pipid: i64,
        /// The job's task count.
        ntasks: usize,
    },
    /// Spawning into a pipid that is already taken.
    #[error("pipid {0} is already in use (pipids are never reused)")]
    PipidInUse(usize),
    /// Waiting for a pipid that was never spawned, or was already waited for.
    #[error("task {0} was never spawned or was already waited for")]
    NoSuchTask(usize),
    /// `wait_any`/`try_wait_any` with no task left to wait for.
    #[error("no task left to wait for")]
    NoTasks,
    /// `fin` while tasks have not been waited for.
    #[error(
        "cannot finish: {0} task(s) have not been waited for (wait for them or kill_all first)"
    )]
    TasksAlive(usize),
    /// The task file cannot be a task.
    #[error(transparent)]
    TaskFile(#[from] TaskFileRefused),
    /// The dynamic loader refused the file.
    #[error("{path}: the dynamic loader refused it: {message}")]
    Load {
        /// The program.
        path: String,
        /// `dlerror()`'s message.
        message: String,
    },
    /// Namespace isolation has a hard per-process limit in glibc.
    #[error("namespace isolation allows at most {limit} tasks in this process ({why}); use shared-libc isolation for more tasks")]
    NamespaceLimit {
        /// The limit in force.
        limit: usize,
        /// Where it comes from and how to raise it.
        why: String,
    },
    /// The root program does not export `exit`, so a task's `exit()` would end the whole process.
    #[error("this root program does not export its `exit` symbol, so a task calling exit() would end the whole process; link it with `-Wl,--export-dynamic-symbol=exit` (for a Rust root, `println!(\"cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=exit\");` in its build.rs). GNU ld already exports it from programs that link pip-core")]
    ExitNotExported,
    /// Root and task were built with incompatible pip-core ABIs.
    #[error("root/task ABI mismatch: {0}")]
    AbiMismatch(String),
    /// `named_import` from oneself of a name not exported.
    #[error("importing `{0}` from oneself would wait forever (it is not exported yet)")]
    Deadlock(String),
    /// The target task ended before exporting the name.
    #[error("{peer} ended without exporting `{name}`")]
    Canceled {
        /// The task imported from.
        peer: PipId,
        /// The name.
        name: String,
    },
    /// `try_named_import` of a name not exported yet.
    #[error("{peer} has not exported `{name}` yet")]
    NotYetExported {
        /// The task imported from.
        peer: PipId,
        /// The name.
        name: String,
    },
    /// Exporting a name twice.
    #[error("`{0}` is already exported by this task")]
    AlreadyExported(String),
    /// A null pointer given to export.
    #[error("cannot export a null pointer")]
    NullExport,
    /// A task is not running (for `kill`).
    #[error("task {0} is not running")]
    NotRunning(usize),
    /// An argument was invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A wait was interrupted by a termination signal sent to the process (see
    /// [`RootBuilder::catch_termination_signals`](crate::RootBuilder::catch_termination_signals)).
    #[error("interrupted by {}", crate::signal_name(*.0))]
    Interrupted(i32),
    /// A wait timed out.
    #[error("timed out")]
    TimedOut,
    /// A system call failed.
    #[error("{op}: {source}")]
    System {
        /// What was being done.
        op: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of pip-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn os(op: &'static str) -> Error {
        Error::System {
            op,
            source: std::io::Error::last_os_error(),
        }
    }

    /// The `errno` value PiP's C API returns for this error.
    pub fn errno(&self) -> i32 {
        use libc::*;
        match self {
            Error::NotInitialized
            | Error::NotRoot(_)
            | Error::AbiMismatch(_)
            | Error::ExitNotExported => EPERM,
            Error::AlreadyInitialized | Error::TasksAlive(_) | Error::AlreadyExported(_) => EBUSY,
            Error::InvalidTaskCount { requested, .. } if *requested > 0 => EOVERFLOW,
            Error::InvalidTaskCount { .. } | Error::InvalidArgument(_) | Error::NullExport => {
                EINVAL
            }
            Error::TooManyTasks { .. } => EOVERFLOW,
            Error::InvalidPipid { .. } => ERANGE,
            Error::PipidInUse(_) => EAGAIN,
            Error::NoSuchTask(_) | Error::NoTasks => ECHILD,
            Error::TaskFile(r) => match r.reason {
                crate::elf::TaskFileError::Missing => ENOENT,
                crate::elf::TaskFileError::Unreadable(_) => EACCES,
                crate::elf::TaskFileError::NotRegularFile(_) => EACCES,
                crate::elf::TaskFileError::TooLarge => EFBIG,
                crate::elf::TaskFileError::NoExecMount => EACCES,
                crate::elf::TaskFileError::NotElf
                | crate::elf::TaskFileError::WrongClass
                | crate::elf::TaskFileError::WrongArchitecture { .. } => ELIBBAD,
                crate::elf::TaskFileError::NotDynamic
                | crate::elf::TaskFileError::NotLoadable(_)
                | crate::elf::TaskFileError::LocalExecTls { .. }
                | crate::elf::TaskFileError::CopyRelocations { .. }
                | crate::elf::TaskFileError::ForeignMpi { .. } => ELIBEXEC,
                crate::elf::TaskFileError::NoEntry { .. } => ENOEXEC,
                crate::elf::TaskFileError::Malformed(_) => ELIBBAD,
            },
            Error::Load { .. } => ENOEXEC,
            Error::NamespaceLimit { .. } => EAGAIN,
            Error::Deadlock(_) => EDEADLK,
            Error::Canceled { .. } => ECANCELED,
            Error::NotYetExported { .. } => EAGAIN,
            Error::NotRunning(_) => ESRCH,
            Error::Interrupted(_) => EINTR,
            Error::TimedOut => ETIMEDOUT,
            Error::System { source, .. } => source.raw_os_error().unwrap_or(EIO),
        }
    }
}
