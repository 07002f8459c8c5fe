//! `pips`: see and steer running PiP jobs.
//!
//! The library behind the `pips` tool, callable from tests and from any root:
//!
//! * [`jobs`]: find jobs and tasks (from thread names in procfs), filter them, signal them.
//! * [`fds`]: fd tables -> open file descriptions -> vnodes, grouped with `kcmp`, with stable
//!   ids across snapshots and warnings about pipes that cannot reach end-of-file.
//! * [`layout`]: barycentre row ordering for the fd diagram (fewer crossing arrows).
//! * [`killed`]: after a kill, whether the targets really ended, and what to do when not.
//! * [`signals`]: blocked, pending, ignored and caught signals per task.
//! * [`render`]: text tables, JSON helpers, DOT and SVG.
//! * [`serve`]: a small HTTP server for a live page of the diagram.
//! * [`waits`]: who waits for whom (the runtime's wait board, futexes, pipes) and deadlocks.
//!
//! Everything is read from procfs and `kcmp(2)` (no kernel module, no ptrace). What the caller
//! may see is what the kernel lets it see: thread names, states and signal masks of every
//! process (as `ps` shows them), but fd tables and `kcmp` only for processes it could ptrace
//! (same user and dumpable, or `CAP_SYS_PTRACE`). Errors say which of these stopped it.

pub mod board;
pub mod fds;
pub mod jobs;
pub mod killed;
pub mod layout;
pub mod procfs;
pub mod render;
pub mod serve;
pub mod signals;
pub mod waits;

/// Why `pips` could not do something.
#[derive(Debug)]
pub enum PipsError {
    /// The job, task or process has ended.
    Gone(String),
    /// The caller may not look at or signal it.
    Permission {
        /// What was refused.
        what: String,
        /// Why, in words (other user, not dumpable) and what would be needed.
        why: String,
    },
    /// There is no such job or task.
    NotFound(String),
    /// A bad argument.
    InvalidArgument(String),
    /// A kill was sent but its target did not end (the text says why and what ends it).
    StillRunning(String),
    /// Another system error.
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl std::fmt::Display for PipsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PipsError::Gone(s)
            | PipsError::NotFound(s)
            | PipsError::InvalidArgument(s)
            | PipsError::StillRunning(s) => f.write_str(s),
            PipsError::Permission { what, why } => write!(f, "{what}: permission denied: {why}"),
            PipsError::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for PipsError {}

/// The holders, snapshot and title for `pips fds` of one job.
pub fn job_snapshot(job: &jobs::Job, tracker: &mut fds::Tracker) -> fds::Snapshot {
    fds::snapshot(&fds::holders_of_job(job), tracker)
}

/// Signal state of every row of the jobs (root, tasks, forked processes).
pub fn job_signals(jobs: &[jobs::Job]) -> Vec<(i32, signals::TaskSignals)> {
    let mut out = Vec::new();
    for j in jobs {
        for t in &j.tasks {
            if let Ok(s) = signals::read(t.pid, t.tid, &t.label()) {
                out.push((j.pid, s));
            }
        }
    }
    out
}
