//! `pips kill`: what a kill aims at ([`Target`]) and how each row is signalled.

use super::{find_job, Job, Role, Task};
use crate::pips::procfs;
use crate::pips::PipsError;

/// Parses a signal: a number, or a name with or without `SIG` (`TERM`, `SIGKILL`, `RTMIN+2`).
pub fn parse_signal(s: &str) -> Option<i32> {
    crate::pips::signals::parse_signal(s)
}

/// What `pips kill` aims at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every task of every job the caller sees.
    All,
    /// Every task of a job.
    Job(i32),
    /// One task of a job, by pipid.
    Task {
        /// The job.
        job: i32,
        /// The task.
        pipid: usize,
    },
    /// One thread, by tid (a task, or a forked process by pid).
    Tid(i32),
    /// The root process itself (`kill(pid)`): ends the whole job for fatal signals.
    Root(i32),
}

impl std::str::FromStr for Target {
    type Err = PipsError;
    /// `all`, `PID` (a job), `PID:PIPID`, `PID:root`, `tid:TID`.
    fn from_str(s: &str) -> Result<Target, PipsError> {
        let bad = || {
            PipsError::InvalidArgument(format!(
                "`{s}`: a target is `all`, a job's pid, `PID:PIPID`, `PID:root` or `tid:TID`"
            ))
        };
        if s == "all" {
            return Ok(Target::All);
        }
        if let Some(t) = s.strip_prefix("tid:") {
            return t.parse().map(Target::Tid).map_err(|_| bad());
        }
        match s.split_once(':') {
            None => s.parse().map(Target::Job).map_err(|_| bad()),
            Some((j, "root")) => j.parse().map(Target::Root).map_err(|_| bad()),
            Some((j, p)) => Ok(Target::Task {
                job: j.parse().map_err(|_| bad())?,
                pipid: p.parse().map_err(|_| bad())?,
            }),
        }
    }
}

/// One signal sent (or not).
#[derive(Debug)]
pub struct Sent {
    /// Whom: `task 2 of job 1234 (tid 1240)`.
    pub what: String,
    /// The job (the root's pid).
    pub job: i32,
    /// The process of the row signalled (the root's pid for a thread-mode task).
    pub pid: i32,
    /// The tid signalled.
    pub tid: i32,
    /// True for a thread of the root's process (a thread-mode task): it can be ended alone
    /// only by a signal it handles, never by SIGKILL.
    pub in_root_process: bool,
    /// The signal actually sent (SIGKILL becomes pip-core's per-task kill signal for a task).
    pub signal: i32,
    /// `Err` says why it was not sent.
    pub result: Result<(), PipsError>,
}

/// The signal to send to a thread so that `sig` ends or reaches only that task: `SIGKILL`
/// cannot be aimed at one thread of a process, so pip-core tasks get pip-core's kill signal
/// (`SIGRTMAX-3`), which ends just that task, as `pip_core::Root::kill` does.
pub fn per_task_signal(sig: i32) -> i32 {
    if sig == libc::SIGKILL {
        pip_core::signals::kill_signal()
    } else {
        sig
    }
}

fn errno_error(e: std::io::Error, pid: i32, what: &str) -> PipsError {
    if procfs::is_denied(&e) {
        PipsError::Permission {
            what: what.to_string(),
            why: procfs::why_denied(pid),
        }
    } else if procfs::is_gone(&e) {
        PipsError::Gone(format!("{what} has ended"))
    } else {
        PipsError::Io {
            what: what.to_string(),
            source: e,
        }
    }
}

/// Sends `sig` to one row: `tgkill` for a thread-mode task (SIGKILL becoming pip-core's
/// per-task kill signal), `kill` for a process-mode task, a forked process or an explicitly
/// chosen root process (as `pip_core::Root::kill` does in each mode; for a process-mode task,
/// SIGKILL goes as the kill signal to its main thread when it handles that signal, so that it
/// ends outside the allocator).
pub fn signal_task(t: &Task, sig: i32, whole_process: bool) -> Sent {
    let what = match t.role {
        Role::Root => format!("root of job {} (pid {})", t.job, t.pid),
        Role::Task => format!("task {} of job {} (tid {})", t.pipid_label(), t.job, t.tid),
        Role::Forked { .. } => format!("process {} forked in job {}", t.pid, t.job),
    };
    let own_process =
        matches!(t.role, Role::Forked { .. }) || (t.role == Role::Task && t.mode == "process");
    let process_mode_task = t.role == Role::Task && t.mode == "process";
    let (signal, rc) = if process_mode_task
        && sig == libc::SIGKILL
        && pip_core::signals::handles_kill_signal(t.pid)
    {
        // As pip-core's Root::kill does: the task's handler of the kill signal waits for the
        // end of an allocator call, then ends the task's process with SIGKILL.
        let s = pip_core::signals::kill_signal();
        // SAFETY: tgkill only takes integers: the task's main thread (its tid is its pid).
        (s, unsafe {
            libc::syscall(libc::SYS_tgkill, t.pid, t.pid, s) as i32
        })
    } else if whole_process || own_process {
        // SAFETY: kill only takes integers.
        (sig, unsafe { libc::kill(t.pid, sig) })
    } else {
        let s = per_task_signal(sig);
        // SAFETY: tgkill only takes integers; the (pid, tid) pair guards against tid reuse.
        (s, unsafe {
            libc::syscall(libc::SYS_tgkill, t.pid, t.tid, s) as i32
        })
    };
    let result = if rc == 0 {
        Ok(())
    } else {
        Err(errno_error(std::io::Error::last_os_error(), t.pid, &what))
    };
    Sent {
        what,
        job: t.job,
        pid: t.pid,
        tid: t.tid,
        in_root_process: !own_process && !whole_process,
        signal,
        result,
    }
}

/// Sends `sig` to what `target` names among `jobs`. A job or `all` means every task of it (not
/// the root, not forked processes), each with `tgkill`: a task ends alone, the root then reports
/// it, as PiP's `pips -k` does. An unknown target is an error naming it.
pub fn kill(jobs: &[Job], target: &Target, sig: i32) -> Result<Vec<Sent>, PipsError> {
    let mut sent = Vec::new();
    match target {
        Target::All => {
            for j in jobs {
                sent.extend(j.task_rows().map(|t| signal_task(t, sig, false)));
            }
        }
        Target::Job(pid) => {
            let j = find_job(jobs, *pid)?;
            sent.extend(j.task_rows().map(|t| signal_task(t, sig, false)));
        }
        Target::Task { job, pipid } => {
            let j = find_job(jobs, *job)?;
            let t = j
                .task_rows()
                .find(|t| t.pipid == Some(*pipid))
                .ok_or_else(|| {
                    PipsError::NotFound(format!(
                        "job {job} has no running task {pipid} (it has ended, or never existed)"
                    ))
                })?;
            sent.push(signal_task(t, sig, false));
        }
        Target::Tid(tid) => {
            let t = jobs
                .iter()
                .flat_map(|j| j.tasks.iter())
                .find(|t| t.tid == *tid)
                .ok_or_else(|| {
                    PipsError::NotFound(format!("no PiP task or forked process has tid {tid}"))
                })?;
            sent.push(signal_task(t, sig, false));
        }
        Target::Root(pid) => {
            let j = find_job(jobs, *pid)?;
            let root = j
                .tasks
                .iter()
                .find(|t| t.role == Role::Root)
                .ok_or_else(|| PipsError::NotFound(format!("job {pid}: root thread not found")))?;
            sent.push(signal_task(root, sig, true));
        }
    }
    Ok(sent)
}
