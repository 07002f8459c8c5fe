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

use super::procfs::{self, Stat};
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

/// True if process `pid` holds a pip-rs wait board (a `pip_comm::run` program does).
fn holds_wait_board(pid: i32) -> bool {
    let prefix = format!("/memfd:{}", pip_core::waits::BOARD_NAME);
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|dir| {
        dir.flatten().any(|e| {
            std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with(&prefix))
        })
    })
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

/// A thread's state and CPU use.
fn thread_stat(pid: i32, tid: i32) -> (char, f64, f64, i32) {
    let Ok(st): Result<Stat, _> = procfs::stat(pid, tid) else {
        return ('?', 0.0, 0.0, -1);
    };
    let hz = procfs::clock_ticks() as f64;
    let cpu = (st.utime + st.stime) as f64 / hz;
    let age = procfs::uptime() - st.starttime as f64 / hz;
    let pct = if age > 0.0 { 100.0 * cpu / age } else { 0.0 };
    (st.state, cpu, pct, st.processor)
}

/// Whether `tid` shares `root_tid`'s fd table.
fn fd_sharing(root_tid: i32, tid: i32) -> FdSharing {
    match procfs::kcmp(root_tid, tid, procfs::KCMP_FILES, 0, 0) {
        Ok(std::cmp::Ordering::Equal) => FdSharing::Shared,
        Ok(_) => FdSharing::Private,
        Err(_) => FdSharing::Unknown,
    }
}

/// The job's isolation from its mappings: several libcs mapped means private libcs.
fn isolation_from_maps(pid: i32) -> Option<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let libcs = maps
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 6
                && f[2].trim_start_matches('0').is_empty()
                && f[5..]
                    .join(" ")
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with("libc.so"))
        })
        .count();
    match libcs {
        0 => None,
        1 => Some("shared-libc".into()),
        _ => Some("namespace".into()),
    }
}

/// A process's program name: its executable's file name, else its command's first word.
fn program_of(pid: i32) -> String {
    if let Ok(p) = std::fs::read_link(format!("/proc/{pid}/exe")) {
        if let Some(n) = p.file_name() {
            let n = n.to_string_lossy();
            return n.strip_suffix(" (deleted)").unwrap_or(&n).to_string();
        }
    }
    procfs::cmdline(pid)
        .ok()
        .and_then(|a| a.into_iter().next())
        .map(|a| a.rsplit('/').next().unwrap_or_default().to_string())
        .unwrap_or_else(|| procfs::comm(pid, pid).unwrap_or_default())
}

/// Reads one job whose root process is `pid`; `names` are its threads' (tid, name).
fn read_job(pid: i32, names: &[(i32, String)]) -> Job {
    let uid = procfs::owner(pid).unwrap_or(u32::MAX);
    // What the root published (see the module documentation).
    let header = super::board::read_header(pid);
    let facts = header.as_ref().and_then(|h| h.facts.clone());
    let root_tid = names
        .iter()
        .find(|(_, n)| n.starts_with("R|"))
        .map(|(t, _)| *t)
        .unwrap_or(pid);
    let mut notes = Vec::new();
    let ntasks = header.as_ref().map(|h| h.nslots - 1);
    let isolation = facts
        .as_ref()
        .map(|f| f.isolation.clone())
        .filter(|i| !i.is_empty())
        .or_else(|| isolation_from_maps(pid));
    let digits: Vec<(i32, usize)> = names
        .iter()
        .filter_map(|(t, n)| parse_task_name(n).map(|(d, _, _)| (*t, d)))
        .collect();
    let mut pipids: HashMap<i32, (usize, bool)> = assign_pipids(&digits, ntasks)
        .into_iter()
        .map(|(t, p, e)| (t, (p, e)))
        .collect();
    // pip_comm::run's rank threads (see the module documentation).
    if digits.is_empty() && !names.iter().any(|(_, n)| n.starts_with("R|")) {
        pipids.extend(
            names
                .iter()
                .filter_map(|(t, n)| parse_rank_name(n).map(|r| (*t, (r, true)))),
        );
    }
    let program = program_of(pid);
    let mut tasks = Vec::new();
    let mut fd_denied = false;
    // Process-mode tasks: each is the child process of the root thread that hosts it.
    let mut task_procs = std::collections::HashSet::new();
    for (tid, name) in names {
        let role = if *tid == root_tid {
            Role::Root
        } else if pipids.contains_key(tid) {
            Role::Task
        } else {
            continue; // Another thread of the root (not a task).
        };
        let (pipid, pipid_exact) = match pipids.get(tid) {
            Some(&(p, e)) => (Some(p), e),
            None => (None, true),
        };
        let mode = parse_task_name(name).map(|(_, _, m)| m).unwrap_or("thread");
        // The row's process and thread: the task's own process in process mode.
        let (tpid, ttid, tname) = if role == Role::Task && mode == "process" {
            let Some(child) = procfs::children(pid, *tid).into_iter().next() else {
                continue; // Not started yet, or ended.
            };
            task_procs.insert(child);
            let n = procfs::comm(child, child).unwrap_or_else(|_| name.clone());
            (child, child, n)
        } else {
            (pid, *tid, name.clone())
        };
        let (state, cpu_time, cpu_percent, last_cpu) = thread_stat(tpid, ttid);
        let fds = if role == Role::Root {
            FdSharing::Shared
        } else {
            fd_sharing(root_tid, ttid)
        };
        fd_denied |= fds == FdSharing::Unknown;
        let task_program = match parse_task_name(name) {
            Some((_, p, _)) => facts
                .as_ref()
                .zip(pipid)
                .filter(|_| pipid_exact)
                .and_then(|(f, p)| f.programs.get(p)?.as_deref())
                .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
                .unwrap_or_else(|| p.to_string()),
            None => program.clone(),
        };
        tasks.push(Task {
            job: pid,
            role,
            pipid,
            pipid_exact,
            pid: tpid,
            tid: ttid,
            name: tname,
            program: task_program,
            mode,
            fds,
            state,
            cpu_time,
            cpu_percent,
            last_cpu,
        });
    }
    if fd_denied {
        notes.push(format!(
            "fd tables not compared: {}",
            procfs::why_denied(pid)
        ));
    }
    if pipids.values().any(|&(_, e)| !e) {
        notes.push("pipids marked `?` are guessed from the last digit in the thread name (tasks ended, or made threads of their own)".into());
    }
    tasks.sort_by_key(|t| (t.role != Role::Root, t.pipid, t.tid));
    // Forked processes, attributed to the thread that forked them (the children of a
    // process-mode task's host thread are the task itself: their own children are forks).
    let mut forked = Vec::new();
    let mut stack: Vec<(i32, i32, Option<usize>)> = Vec::new();
    for (tid, _) in names {
        let p = pipids.get(tid).map(|&(p, _)| p);
        for c in procfs::children(pid, *tid) {
            if task_procs.contains(&c) {
                for ct in procfs::tids(c).unwrap_or_default() {
                    stack.extend(procfs::children(c, ct).into_iter().map(|g| (g, ct, p)));
                }
            } else {
                stack.push((c, *tid, p));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    while let Some((child, by, pipid)) = stack.pop() {
        if !seen.insert(child) {
            continue;
        }
        let Ok(ctids) = procfs::tids(child) else {
            continue;
        };
        for ct in &ctids {
            for grandchild in procfs::children(child, *ct) {
                stack.push((grandchild, *ct, pipid));
            }
        }
        let (state, cpu_time, cpu_percent, last_cpu) = thread_stat(child, child);
        // A forked process keeps the forking thread's name until it execs; then its name is
        // the new program's.
        let name = procfs::comm(child, child).unwrap_or_default();
        let program = parse_task_name(&name)
            .map(|(_, p, _)| p.to_string())
            .unwrap_or_else(|| name.clone());
        forked.push(Task {
            job: pid,
            role: Role::Forked { by },
            pipid,
            pipid_exact: pipid.is_some_and(|p| pipids.values().any(|&(q, e)| q == p && e)),
            pid: child,
            tid: child,
            name,
            program,
            mode: "process",
            fds: FdSharing::Private,
            state,
            cpu_time,
            cpu_percent,
            last_cpu,
        });
    }
    forked.sort_by_key(|t| t.pid);
    tasks.extend(forked);
    Job {
        pid,
        uid,
        program,
        root_tid,
        ntasks,
        isolation,
        facts,
        tasks,
        notes,
    }
}

/// Finds every PiP job on the machine that the caller may list: its own, or every user's with
/// `all_users` (thread names and states are public, as `ps` shows them).
pub fn scan(all_users: bool) -> Vec<Job> {
    let me = procfs::my_uid();
    let mut candidates: Vec<(i32, Vec<(i32, String)>)> = Vec::new();
    for pid in procfs::pids() {
        if !all_users && me != 0 && procfs::owner(pid).ok() != Some(me) {
            continue;
        }
        let Ok(tids) = procfs::tids(pid) else {
            continue;
        };
        let names: Vec<(i32, String)> = tids
            .into_iter()
            .filter_map(|t| procfs::comm(pid, t).ok().map(|n| (t, n)))
            .collect();
        let has_root = names.iter().any(|(_, n)| n.starts_with("R|"));
        let has_task = names.iter().any(|(_, n)| parse_task_name(n).is_some());
        let has_ranks = !has_root
            && !has_task
            && names.iter().any(|(_, n)| parse_rank_name(n).is_some())
            && holds_wait_board(pid);
        if has_root || has_task || has_ranks {
            candidates.push((pid, names));
        }
    }
    // A process holding only task-named threads whose parent is a job is a process forked by a
    // task (it inherited the name), not a job of its own.
    let roots: std::collections::HashSet<i32> = candidates
        .iter()
        .filter(|(_, names)| names.iter().any(|(_, n)| n.starts_with("R|")))
        .map(|(p, _)| *p)
        .collect();
    let all: std::collections::HashSet<i32> = candidates.iter().map(|(p, _)| *p).collect();
    candidates
        .iter()
        .filter(|(pid, _)| {
            roots.contains(pid)
                || procfs::stat(*pid, *pid)
                    .map(|s| !all.contains(&s.ppid))
                    .unwrap_or(false)
        })
        .map(|(pid, names)| read_job(*pid, names))
        .collect()
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

/// Parses a signal: a number, or a name with or without `SIG` (`TERM`, `SIGKILL`, `RTMIN+2`).
pub fn parse_signal(s: &str) -> Option<i32> {
    super::signals::parse_signal(s)
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
