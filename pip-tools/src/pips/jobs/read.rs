//! Reading jobs from procfs (and from the root's wait board): [`scan`].

use super::{assign_pipids, parse_rank_name, parse_task_name, FdSharing, Job, Role, Task};
use crate::pips::procfs::{self, Stat};
use pip_core::waits::JobFacts;
use std::collections::{HashMap, HashSet};

/// True if process `pid` holds a pip-rs wait board (a `pip_comm::run` program does).
fn holds_wait_board(pid: i32) -> bool {
    let prefix = format!("/memfd:{}", pip_core::waits::BOARD_NAME);
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|dir| {
        dir.flatten().any(|e| {
            std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with(&prefix))
        })
    })
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

/// What is known of a job while its rows are read.
struct JobThreads<'a> {
    /// The root's process id.
    pid: i32,
    /// The root thread.
    root_tid: i32,
    /// The job's threads: (tid, name).
    names: &'a [(i32, String)],
    /// The task threads' (pipid, exact).
    pipids: HashMap<i32, (usize, bool)>,
    /// What the root published.
    facts: Option<&'a JobFacts>,
    /// The root's program.
    program: &'a str,
}

/// The pipids of a job's task threads: from the digits of `<digit>|prog` names, or the whole
/// rank of `pip_comm::run`'s `rank N` threads.
fn pipids_of(names: &[(i32, String)], ntasks: Option<usize>) -> HashMap<i32, (usize, bool)> {
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
    pipids
}

/// Reads one job whose root process is `pid`; `names` are its threads' (tid, name).
fn read_job(pid: i32, names: &[(i32, String)]) -> Job {
    let uid = procfs::owner(pid).unwrap_or(u32::MAX);
    // What the root published (see the module documentation).
    let header = crate::pips::board::read_header(pid);
    let facts = header.as_ref().and_then(|h| h.facts.clone());
    let root_tid = names
        .iter()
        .find(|(_, n)| n.starts_with("R|"))
        .map(|(t, _)| *t)
        .unwrap_or(pid);
    let ntasks = header.as_ref().map(|h| h.nslots - 1);
    let isolation = facts
        .as_ref()
        .map(|f| f.isolation.clone())
        .filter(|i| !i.is_empty())
        .or_else(|| isolation_from_maps(pid));
    let program = program_of(pid);
    let c = JobThreads {
        pid,
        root_tid,
        names,
        pipids: pipids_of(names, ntasks),
        facts: facts.as_ref(),
        program: &program,
    };
    let (mut tasks, task_procs, fd_denied) = task_rows(&c);
    let mut notes = Vec::new();
    if fd_denied {
        notes.push(format!(
            "fd tables not compared: {}",
            procfs::why_denied(pid)
        ));
    }
    if c.pipids.values().any(|&(_, e)| !e) {
        notes.push("pipids marked `?` are guessed from the last digit in the thread name (tasks ended, or made threads of their own)".into());
    }
    tasks.sort_by_key(|t| (t.role != Role::Root, t.pipid, t.tid));
    tasks.extend(forked_rows(&c, &task_procs));
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

/// The root's and the tasks' rows, the processes of process-mode tasks, and whether some fd
/// table could not be compared.
fn task_rows(c: &JobThreads<'_>) -> (Vec<Task>, HashSet<i32>, bool) {
    let mut tasks = Vec::new();
    let mut fd_denied = false;
    // Process-mode tasks: each is the child process of the root thread that hosts it.
    let mut task_procs = HashSet::new();
    for (tid, name) in c.names {
        let role = if *tid == c.root_tid {
            Role::Root
        } else if c.pipids.contains_key(tid) {
            Role::Task
        } else {
            continue; // Another thread of the root (not a task).
        };
        let (pipid, pipid_exact) = match c.pipids.get(tid) {
            Some(&(p, e)) => (Some(p), e),
            None => (None, true),
        };
        let mode = parse_task_name(name).map(|(_, _, m)| m).unwrap_or("thread");
        // The row's process and thread: the task's own process in process mode.
        let (tpid, ttid, tname) = if role == Role::Task && mode == "process" {
            let Some(child) = procfs::children(c.pid, *tid).into_iter().next() else {
                continue; // Not started yet, or ended.
            };
            task_procs.insert(child);
            let n = procfs::comm(child, child).unwrap_or_else(|_| name.clone());
            (child, child, n)
        } else {
            (c.pid, *tid, name.clone())
        };
        let (state, cpu_time, cpu_percent, last_cpu) = thread_stat(tpid, ttid);
        let fds = if role == Role::Root {
            FdSharing::Shared
        } else {
            fd_sharing(c.root_tid, ttid)
        };
        fd_denied |= fds == FdSharing::Unknown;
        let task_program = match parse_task_name(name) {
            Some((_, p, _)) => c
                .facts
                .zip(pipid)
                .filter(|_| pipid_exact)
                .and_then(|(f, p)| f.programs.get(p)?.as_deref())
                .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
                .unwrap_or_else(|| p.to_string()),
            None => c.program.to_string(),
        };
        tasks.push(Task {
            job: c.pid,
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
    (tasks, task_procs, fd_denied)
}

/// The rows of the processes that the job's threads forked, by pid.
fn forked_rows(c: &JobThreads<'_>, task_procs: &HashSet<i32>) -> Vec<Task> {
    // Forked processes, attributed to the thread that forked them (the children of a
    // process-mode task's host thread are the task itself: their own children are forks).
    let mut forked = Vec::new();
    let mut stack: Vec<(i32, i32, Option<usize>)> = Vec::new();
    for (tid, _) in c.names {
        let p = c.pipids.get(tid).map(|&(p, _)| p);
        for c in procfs::children(c.pid, *tid) {
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
            job: c.pid,
            role: Role::Forked { by },
            pipid,
            pipid_exact: pipid.is_some_and(|p| c.pipids.values().any(|&(q, e)| q == p && e)),
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
    forked
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
