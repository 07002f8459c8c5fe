//! How a task ended.

use std::fmt;

/// How a task ended, as [`Root::wait`](crate::Root::wait) reports it.
///
/// ```
/// use pip_core::ExitStatus;
/// assert!(ExitStatus::Exited(0).success());
/// assert_eq!(ExitStatus::Signaled(11).to_string(), "killed by signal 11 (SIGSEGV)");
/// assert_eq!(ExitStatus::Exited(3).wait_status(), 3 << 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// The entry returned, or the task called `exit()`; the code is the value given.
    Exited(i32),
    /// The task was ended by a signal: a fault (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`,
    /// `SIGABRT`...), a signal sent to it, or [`Root::kill_all`](crate::Root::kill_all)
    /// (reported as `SIGKILL`).
    Signaled(i32),
    /// A Rust task panicked; the panic message went to stderr. Counts as exit code 101, as for
    /// a Rust program.
    Panicked,
}

impl ExitStatus {
    /// True for `Exited(0)`.
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }

    /// The exit code, if the task exited (101 for a panic, as Rust programs use).
    pub fn code(self) -> Option<i32> {
        match self {
            ExitStatus::Exited(c) => Some(c),
            ExitStatus::Panicked => Some(101),
            ExitStatus::Signaled(_) => None,
        }
    }

    /// The signal that ended the task, if any.
    pub fn signal(self) -> Option<i32> {
        match self {
            ExitStatus::Signaled(s) => Some(s),
            _ => None,
        }
    }

    /// The status encoded as `wait(2)` does (`WIFEXITED`/`WEXITSTATUS`, `WIFSIGNALED`/`WTERMSIG`),
    /// as PiP's `pip_wait` returns it.
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => (c & 0xff) << 8,
            ExitStatus::Panicked => 101 << 8,
            ExitStatus::Signaled(s) => s & 0x7f,
        }
    }

    /// The exit code a shell would show for a process that ended this way (128+signal for a
    /// signal).
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Signaled(s) => 128 + s,
            other => other.code().unwrap_or(1) & 0xff,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExitStatus::Exited(c) => write!(f, "exited with code {c}"),
            ExitStatus::Signaled(s) => {
                write!(f, "killed by signal {s} ({})", crate::signal_name(s))
            }
            ExitStatus::Panicked => f.write_str("panicked"),
        }
    }
}
