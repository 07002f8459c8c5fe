//! Finding PiP jobs and their tasks, as `ps` finds processes, and signalling them.
//!
//! A *job* is a process that runs PiP tasks: it has threads named `<digit>|<program>` (pip-core's
//! task threads) or `R|<program>` (pip-exec's root thread). The job is named by the root's
//! process id. Its rows are the root, every task, and every process that a thread of the job
//! forked (found through the per-thread `children` files, so a child is attributed to the task
//! that forked it, even after it has exec'd another program).
//!
//! **Pipids.** A thread name carries only the last digit of the pipid. pip-core starts tasks one
//! at a time in pipid order, so thread ids grow with the pipid; the k-th thread (by tid) whose
//! name starts with digit d is task `d + 10k`. That is exact when the job's task count is known
//! (its wait board has one slot per task) and the number of live task threads with that digit
//! is the number the job started; otherwise (a task ended, a task made threads that inherited
//! its name, or a root without a board) the pipid is a guess and is marked as one
//! (`exact: false`, shown as `12?`).
//!
//! **The job's facts** (launcher, mode, isolation, each task's program, pip-core's memfd
//! names) are read from the header of its wait board, where the root publishes them
//! ([`pip_core::waits::JobFacts`]); nothing is guessed from a launcher's command line. A job
//! without a board (`PIP_WAIT_BOARD=0`) or with an older root's board (version 2) has no
//! facts: its programs are the thread names', its isolation is read from its mappings.
//!
//! **Thread-rank programs.** A program that runs pip-comm ranks as its own threads
//! (`pip_comm::run`) names them `rank N` and holds a wait board (a memfd named
//! `pip-rs-waits`). Such a process is listed as a job too: its main thread as the root, rank N
//! as task N (exactly: the name carries the whole number), so that `pips waits` can read it.
//!
//! **Isolation** comes from the job's facts, or else from `/proc/PID/maps`: more than one libc
//! mapped means tasks with private libcs (`namespace`).

mod kill;
mod read;

pub use kill::{kill, parse_signal, per_task_signal, signal_task, Sent, Target};
pub use read::scan;

use super::procfs;
use super::PipsError;
use serde_json::{json, Value};
use std::collections::HashMap;

/// What a row of a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The job's root thread.
    Root,
    /// A task's thread.
    Task,
    /// A process that a thread of the job forked (or its descendant), with the tid of the
    /// thread that forked it.
    Forked {
        /// The forking thread.
        by: i32,
    },
}

/// Whether a task shares the root's fd table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdSharing {
    /// Same table as the root (thread mode's default).
    Shared,
    /// A private table (`--private-fds`, `unshare(CLONE_FILES)`), or a forked process's own.
    Private,
    /// Could not be checked (no ptrace access, or the thread ended).
    Unknown,
}

impl FdSharing {
    /// `shared`, `private` or `?`.
    pub fn as_str(self) -> &'static str {
        match self {
            FdSharing::Shared => "shared",
            FdSharing::Private => "private",
            FdSharing::Unknown => "?",
        }
    }
}

/// One row: the root, a task, or a forked process.
#[derive(Debug, Clone)]
pub struct Task {
    /// The job (the root's pid).
    pub job: i32,
    /// What the row is.
    pub role: Role,
    /// The pipid (tasks; for a forked process, that of the task that forked it).
    pub pipid: Option<usize>,
    /// False when the pipid is reconstructed from the thread name's last digit by guesswork.
    pub pipid_exact: bool,
    /// Process id (the root's pid for threads of the job).
    pub pid: i32,
    /// Thread id.
    pub tid: i32,
    /// The thread name.
    pub name: String,
    /// The program (from the thread name, or the process's command).
    pub program: String,
    /// `thread` (a thread of the root's process) or `process` (a forked process).
    pub mode: &'static str,
    /// Fd table relative to the root's.
    pub fds: FdSharing,
    /// Run state letter (`R`, `S`, `D`, `T`, `Z`, ...).
    pub state: char,
    /// CPU time used, seconds.
    pub cpu_time: f64,
    /// Average CPU use since the thread started, percent.
    pub cpu_percent: f64,
    /// The CPU the thread last ran on.
    pub last_cpu: i32,
}

impl Task {
    /// The pipid as shown: `R` for the root, `3`, `13?` for a guess, `-` when unknown.
    pub fn pipid_label(&self) -> String {
        match (self.role, self.pipid) {
            (Role::Root, _) => "R".into(),
            (_, None) => "-".into(),
            (Role::Forked { .. }, Some(p)) => format!("{p}>"),
            (Role::Task, Some(p)) if self.pipid_exact => p.to_string(),
            (Role::Task, Some(p)) => format!("{p}?"),
        }
    }

    /// A short label for diagrams: `root`, `task 3`, `child 1234`.
    pub fn label(&self) -> String {
        match self.role {
            Role::Root => "root".into(),
            Role::Task => format!("task {}", self.pipid_label()),
            Role::Forked { .. } => format!("child {}", self.pid),
        }
    }

    /// The row as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "job": self.job,
            "role": match self.role { Role::Root => "root", Role::Task => "task", Role::Forked{..} => "forked" },
            "forked_by": match self.role { Role::Forked{by} => Some(by), _ => None },
            "pipid": self.pipid,
            "pipid_exact": self.pipid_exact,
            "pid": self.pid,
            "tid": self.tid,
            "name": self.name,
            "program": self.program,
            "mode": self.mode,
            "fd_table": self.fds.as_str(),
            "state": self.state.to_string(),
            "cpu_time": self.cpu_time,
            "cpu_percent": self.cpu_percent,
            "last_cpu": self.last_cpu,
        })
    }
}

/// One PiP job.
#[derive(Debug, Clone)]
pub struct Job {
    /// The root's process id, which names the job.
    pub pid: i32,
    /// Owner of the root process.
    pub uid: u32,
    /// The root's program (its executable's name).
    pub program: String,
    /// The root thread.
    pub root_tid: i32,
    /// The task count, when known (the root's wait board has a slot per task).
    pub ntasks: Option<usize>,
    /// `shared-libc` or `namespace`, when known.
    pub isolation: Option<String>,
    /// The job's facts as its root published them on its wait board (`None`: no board, or
    /// an older root's).
    pub facts: Option<pip_core::waits::JobFacts>,
    /// The root, the tasks (by pipid), then forked processes.
    pub tasks: Vec<Task>,
    /// What could not be read, and why (permissions, rows that ended mid-read).
    pub notes: Vec<String>,
}

impl Job {
    /// The job as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "pid": self.pid,
            "uid": self.uid,
            "program": self.program,
            "root_tid": self.root_tid,
            "ntasks": self.ntasks,
            "isolation": self.isolation,
            "facts": self.facts.as_ref().map(|f| json!({
                "launcher": f.launcher,
                "mode": f.mode,
                "isolation": f.isolation,
                "image_memfd_prefix": f.image_memfd_prefix,
                "board_memfd": f.board_memfd,
                "programs": f.programs,
            })),
            "tasks": self.tasks.iter().map(Task::to_json).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// The task rows only (no root, no forked processes).
    pub fn task_rows(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.role == Role::Task)
    }
}

/// The digit, program and mode of a pip-core thread name: `3|prog` is a thread-mode task,
/// `3;prog` a process-mode task (or, inside the root, the thread that hosts it).
pub fn parse_task_name(name: &str) -> Option<(usize, &str, &'static str)> {
    let mut c = name.chars();
    let d = c.next()?.to_digit(10)?;
    match c.next()? {
        '|' => Some((d as usize, &name[2..], "thread")),
        ';' => Some((d as usize, &name[2..], "process")),
        _ => None,
    }
}

/// The rank of a `pip_comm::run` rank thread's name (`rank 3`).
pub fn parse_rank_name(name: &str) -> Option<usize> {
    name.strip_prefix("rank ")?.parse().ok()
}

/// Assigns pipids to task threads from their name digits: `threads` are (tid, digit), any
/// order; `ntasks` the job's task count, when known. Returns (tid, pipid, exact) by tid.
pub fn assign_pipids(threads: &[(i32, usize)], ntasks: Option<usize>) -> Vec<(i32, usize, bool)> {
    let mut by_digit: HashMap<usize, Vec<i32>> = HashMap::new();
    for &(tid, d) in threads {
        by_digit.entry(d).or_default().push(tid);
    }
    let mut out = Vec::new();
    for (d, mut tids) in by_digit {
        tids.sort_unstable();
        let expected = ntasks.map(|n| if n > d { (n - d).div_ceil(10) } else { 0 });
        let exact = expected == Some(tids.len());
        for (k, tid) in tids.into_iter().enumerate() {
            out.push((tid, d + 10 * k, exact));
        }
    }
    out.sort_unstable();
    out
}

/// Which jobs and tasks to show or signal.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these jobs (root pids). Empty: all.
    pub jobs: Vec<i32>,
    /// Only these pipids. Empty: all (and the root rows).
    pub pipids: Vec<usize>,
    /// Only jobs or tasks whose program contains one of these, or, for a number, whose pid or
    /// tid it is. Empty: all.
    pub programs: Vec<String>,
}

impl Filter {
    /// Keeps the jobs and rows that match.
    pub fn apply(&self, jobs: Vec<Job>) -> Vec<Job> {
        jobs.into_iter()
            .filter(|j| self.jobs.is_empty() || self.jobs.contains(&j.pid))
            .filter_map(|mut j| {
                // A pattern matches a program name, or (a number, as in PiP's pips) a pid or tid.
                let id = |p: &String| p.parse::<i32>().ok();
                let job_matches = self.programs.is_empty()
                    || self
                        .programs
                        .iter()
                        .any(|p| j.program.contains(p.as_str()) || id(p) == Some(j.pid));
                j.tasks.retain(|t| {
                    let prog_ok = job_matches
                        || self.programs.iter().any(|p| {
                            t.program.contains(p.as_str())
                                || id(p).is_some_and(|n| n == t.tid || n == t.pid)
                        });
                    let pipid_ok = self.pipids.is_empty()
                        || (t.role == Role::Task
                            && t.pipid.is_some_and(|p| self.pipids.contains(&p)));
                    prog_ok && pipid_ok
                });
                (!j.tasks.is_empty()).then_some(j)
            })
            .collect()
    }
}

/// The job named `pid`, or an error saying why it is not there.
pub fn find_job(jobs: &[Job], pid: i32) -> Result<&Job, PipsError> {
    jobs.iter().find(|j| j.pid == pid).ok_or_else(|| {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            PipsError::Gone(format!("job {pid} has ended (no process {pid})"))
        } else if procfs::owner(pid).ok() != Some(procfs::my_uid()) && procfs::my_uid() != 0 {
            PipsError::Permission {
                what: format!("job {pid}"),
                why: procfs::why_denied(pid),
            }
        } else {
            PipsError::NotFound(format!(
                "process {pid} is not a PiP job (no PiP task threads)"
            ))
        }
    })
}

#[cfg(test)]
mod tests;
