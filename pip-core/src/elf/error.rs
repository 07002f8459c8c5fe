//! Why a file cannot be a task: the refusals of [`super::inspect`], each with its fix.

#[cfg(doc)]
use super::{inspect, TaskFileInfo};
use super::{machine_name, MAX_TASK_FILE_SIZE};
use std::path::PathBuf;

/// Why a file cannot be a task. Each message says what is wrong and how to build the file.
#[derive(Debug, thiserror::Error)]
pub enum TaskFileError {
    /// The file does not exist.
    #[error("no such file")]
    Missing,
    /// The file exists but could not be read.
    #[error("cannot read the file: {0}")]
    Unreadable(#[source] std::io::Error),
    /// Not a regular file: a FIFO, a device, a directory, a socket.
    #[error("not a regular file but {0}: a task must be a shared object or PIE file")]
    NotRegularFile(&'static str),
    /// Larger than [`MAX_TASK_FILE_SIZE`].
    #[error("the file is larger than {} MiB (the largest task file pip-core reads); is it really a program?", MAX_TASK_FILE_SIZE >> 20)]
    TooLarge,
    /// The file is on a file system mounted `noexec`, where the dynamic loader refuses to map
    /// it too.
    #[error("the file is on a file system mounted noexec, where programs may not run (glibc's dlopen refuses it too): copy it to an executable file system, or remount this one without noexec")]
    NoExecMount,
    /// Not an ELF file at all (a script, text, an archive...).
    #[error("not an ELF file: a task must be a shared object (.so) built with `-shared -fPIC`, a PIE linked with `-rdynamic`, or a Rust cdylib")]
    NotElf,
    /// A 32-bit ELF file.
    #[error("a 32-bit ELF file: tasks must be 64-bit objects for this machine")]
    WrongClass,
    /// An ELF file for another machine.
    #[error("built for another architecture ({}, ELF machine {found}; this machine needs {}, {expected}); rebuild it for this machine", machine_name(*found), machine_name(*expected))]
    WrongArchitecture {
        /// The file's `e_machine`.
        found: u16,
        /// The host's `e_machine`.
        expected: u16,
    },
    /// A program built against another MPI's library (see [`ForeignMpi`](super::ForeignMpi)):
    /// as a task it would initialise that library on its own and run as a world of one.
    #[error("linked against {implementation}'s {library}: an MPI program must be rebuilt with pip-rs's mpicc (pip-mpi) to run as PiP tasks (with another MPI's library every task would be a world of one rank)")]
    ForeignMpi {
        /// The `DT_NEEDED` entry, e.g. `libmpi.so.12`.
        library: String,
        /// Whose library it is: `MPICH`, `Open MPI`, or `another MPI`.
        implementation: &'static str,
    },
    /// An `ET_EXEC` executable: fixed addresses, cannot be loaded more than once.
    #[error("a non-PIE executable (ET_EXEC) cannot be loaded as a task: rebuild it with `cc -fPIE -pie -rdynamic` or as a shared object with `cc -shared -fPIC`")]
    NotDynamic,
    /// An object file or another non-loadable ELF type.
    #[error("ELF type {0} cannot be loaded: a task must be a shared object or a PIE")]
    NotLoadable(u16),
    /// A PIE with a `PT_TLS` segment: its thread-locals use the local-exec model.
    #[error("an executable with thread-local variables cannot be a task: executables use the local-exec TLS model, whose accesses would alias the root's thread-locals once loaded. {hint}")]
    LocalExecTls {
        /// How to rebuild the program (differs for Rust and C).
        hint: &'static str,
    },
    /// The entry symbol is not defined by the file.
    #[error("the entry symbol `{symbol}` is not defined in this file{hint}")]
    NoEntry {
        /// The symbol looked for (`main` or the function given with `-f`).
        symbol: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// A PIE whose copy relocations glibc cannot fill once it is loaded as a task (see
    /// [`TaskFileInfo::check_copy_relocations`]).
    #[error("the program takes copies of data that shared libraries define ({symbols}: copy relocations, which code compiled with -fPIE, gcc's default, makes for a library's variables) and {why}; glibc would fill those copies from the program itself, with zeroes, and the task would crash (in a C++ throw, or on using `stdout`). Compile it with -fPIC instead (`cc -fPIC -pie -rdynamic`, as pipcc does), or build it as a shared object (`-shared -fPIC`)")]
    CopyRelocations {
        /// The first few symbols concerned.
        symbols: String,
        /// Why this root cannot provide them.
        why: &'static str,
    },
    /// The ELF headers are damaged.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
}

/// A task file refused by [`inspect`], with its path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct TaskFileRefused {
    /// The file that was checked.
    pub path: PathBuf,
    /// Why it cannot be a task.
    pub reason: TaskFileError,
}
