//! Who waits for whom in a job, and which of those waits can never end.
//!
//! # Where the facts come from
//!
//! * **The wait board** (see `pip_core::waits`): a task's pip-comm receive, send, barrier or
//!   collective, a pip-core named import or barrier, and the root's wait for a task, published
//!   by the runtime once the wait stops spinning. It is read through the root's
//!   `/proc/PID/fd/N` (its memfd), or `/proc/PID/mem` at its mapping if that fd was closed.
//! * **procfs**, for every other thread of the job: `/proc/PID/task/TID/syscall` says which
//!   system call a blocked thread is in and with which arguments. A `futex` wait on a word
//!   whose `__owner` field (8 bytes further, as glibc lays out `pthread_mutex_t`) holds the
//!   tid of a thread of the job is a pthread mutex held by that thread (its memory is read
//!   through `/proc/PID/mem`); a `read` or `write` on a pipe waits for whoever holds the other
//!   end (from the fd tables of [`super::fds`]).
//!
//! # Which waits are stuck
//!
//! Each blocked thread becomes a node with the threads that could end its wait and how many of
//! them it needs: a receive from rank 3 needs task 3; a receive from any rank needs one of the
//! others; a barrier with 2 of 4 parties missing needs 2 of the threads not in it; a pipe read
//! needs one holder of a write end. A thread that runs, or sleeps in a wait nothing here
//! understands, counts as able to act. The graph is then reduced as deadlock detectors for
//! the AND-OR model do: a node whose targets can act (enough of them) can act too, until
//! nothing changes. What is left can never be woken from inside the job: a **deadlock**,
//! named by a cycle through it (each step with the operation that forms it), or a wait for a
//! task that has already ended.
//!
//! Two waits that end each other are no edge: a send waiting for its receive while the
//! receiver waits in a receive that matches it (same context, the sender or any source, the
//! tag or any tag), or a send waiting for room in a ring whose reader is itself in a pip-comm
//! wait (every waiting rank drains its rings). A thread in state `R` can act.
//!
//! # Only stable cycles are deadlocks
//!
//! A snapshot is a moment: on a busy job it catches waits that end microseconds later. So
//! [`stable_graph`] takes a second snapshot some time later (`--settle`, 300 ms by default)
//! when the first shows a cycle, and reports the cycle only if every wait in it is still
//! there, unchanged: the same wait, started at the same time, with the same progress counter
//! on the wait board (which pip-comm moves whenever a waiting rank takes in messages or copies
//! data), its thread not running in either snapshot.

use super::fds::{self, Kind};
use super::jobs::{Job, Role};
use super::procfs;
use super::PipsError;
pub use super::board::read_board;
use pip_core::waits::{self as board, PublishedWait, WaitKind, ANY, NONE, ROOT};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One thread of the job and what it waits for.
#[derive(Debug, Clone)]
pub struct Node {
    /// The thread.
    pub tid: i32,
    /// Its process.
    pub pid: i32,
    /// `root`, `task 3`, `thread 1250 of task 3`.
    pub label: String,
    /// The pipid of the task it belongs to (`None` for the root's threads).
    pub pipid: Option<usize>,
    /// Run state letter.
    pub state: char,
    /// What it waits for, in words (empty when it is not blocked).
    pub what: String,
    /// Where that came from: `board`, `futex`, `pipe`, or empty.
    pub source: &'static str,
    /// The threads that could end the wait.
    pub targets: Vec<i32>,
    /// How many of them it needs (0: not in a wait this understands).
    pub needed: usize,
    /// It waits for a task that has ended (named in `what`).
    pub waits_for_ended: bool,
    /// Seconds it has waited, when the board says.
    pub seconds: Option<f64>,
    /// When the wait started and the task's progress counter, when the board says.
    pub board_stamp: Option<(u64, u64)>,
}

impl Node {
    /// Who can end the wait, in words: `task 1`, `2 of task 2, task 3`, `any of ...`.
    pub fn waits_for(&self, g: &Graph) -> String {
        if self.waits_for_ended {
            return String::from("(an ended task)");
        }
        if self.needed == 0 {
            return String::from("-");
        }
        let names: Vec<String> = self
            .targets
            .iter()
            .map(|t| {
                g.node(*t)
                    .map_or_else(|| format!("thread {t}"), |n| n.label.clone())
            })
            .collect();
        if names.is_empty() {
            return String::from("nobody");
        }
        let list = names.join(", ");
        if self.needed >= names.len() {
            if names.len() == 1 {
                list
            } else {
                format!("all of {list}")
            }
        } else if self.needed == 1 {
            format!("any of {list}")
        } else {
            format!("{} of {list}", self.needed)
        }
    }

    /// Blocked in a wait whose wakers are known.
    pub fn is_blocked(&self) -> bool {
        self.needed > 0 || self.waits_for_ended
    }
}

/// A set of waits that can never end, and a cycle that shows why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlock {
    /// The threads of one cycle, in wait-for order (the last waits for the first).
    pub cycle: Vec<i32>,
    /// Every thread that is stuck with it (the cycle and those that wait for it).
    pub stuck: Vec<i32>,
}

/// The wait-for graph of one job.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// The job.
    pub job: i32,
    /// Every thread, root first.
    pub nodes: Vec<Node>,
    /// Deadlocks found.
    pub deadlocks: Vec<Deadlock>,
    /// Whether the job has a wait board (and so whether pip-comm and pip-core waits show).
    pub board: bool,
    /// What could not be read, and why.
    pub notes: Vec<String>,
}

impl Graph {
    /// The node of `tid`.
    pub fn node(&self, tid: i32) -> Option<&Node> {
        self.nodes.iter().find(|n| n.tid == tid)
    }

    /// A deadlock in words: `task 0 (recv ...) -> task 1 (recv ...) -> task 0`.
    pub fn describe(&self, d: &Deadlock) -> String {
        let mut parts: Vec<String> = d
            .cycle
            .iter()
            .map(|t| match self.node(*t) {
                Some(n) => format!("{} [{}]", n.label, n.what),
                None => format!("thread {t}"),
            })
            .collect();
        if let Some(first) = d.cycle.first().and_then(|t| self.node(*t)) {
            parts.push(first.label.clone());
        }
        parts.join(" -> ")
    }

    /// The graph as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "job": self.job,
            "board": self.board,
            "threads": self.nodes.iter().map(|n| json!({
                "tid": n.tid,
                "pid": n.pid,
                "label": n.label,
                "pipid": n.pipid,
                "state": n.state.to_string(),
                "waits": n.what,
                "source": n.source,
                "waits_for": n.targets,
                "waits_for_text": n.waits_for(self),
                "needs": n.needed,
                "waits_for_ended_task": n.waits_for_ended,
                "seconds": n.seconds,
            })).collect::<Vec<_>>(),
            "deadlocks": self.deadlocks.iter().map(|d| json!({
                "cycle": d.cycle,
                "stuck": d.stuck,
                "text": self.describe(d),
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// Aligned text: one row per thread in a wait, then the deadlocks.
    pub fn to_text(&self) -> String {
        let mut rows = vec![[
            "THREAD".to_string(),
            "TID".to_string(),
            "S".to_string(),
            "SINCE".to_string(),
            "WAITS IN".to_string(),
            "FOR".to_string(),
        ]];
        for n in &self.nodes {
            if n.what.is_empty() {
                continue;
            }
            rows.push([
                n.label.clone(),
                n.tid.to_string(),
                n.state.to_string(),
                n.seconds.map_or(String::from("-"), |s| format!("{s:.1}s")),
                n.what.clone(),
                n.waits_for(self),
            ]);
        }
        let mut out = format!("job {}\n", self.job);
        if rows.len() == 1 {
            out.push_str("  no thread is blocked in a wait\n");
        } else {
            let w: Vec<usize> = (0..5)
                .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
                .collect();
            for r in &rows {
                out.push_str(&format!(
                    "  {:<w0$}  {:>w1$}  {:<w2$}  {:>w3$}  {:<w4$}  {}\n",
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    w0 = w[0],
                    w1 = w[1],
                    w2 = w[2],
                    w3 = w[3],
                    w4 = w[4]
                ));
            }
        }
        for d in &self.deadlocks {
            out.push_str(&format!("  DEADLOCK: {}\n", self.describe(d)));
            let others: Vec<String> = d
                .stuck
                .iter()
                .filter(|t| !d.cycle.contains(t))
                .filter_map(|t| self.node(*t).map(|n| n.label.clone()))
                .collect();
            if !others.is_empty() {
                out.push_str(&format!(
                    "    also stuck behind it: {}\n",
                    others.join(", ")
                ));
            }
        }
        for n in self.nodes.iter().filter(|n| n.waits_for_ended) {
            out.push_str(&format!(
                "  STUCK: {} [{}] waits for a task that has ended\n",
                n.label, n.what
            ));
        }
        if !self.board {
            out.push_str("  (no wait board: pip-comm and pip-core waits are not shown, only futexes and pipes)\n");
        }
        for note in &self.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        out
    }
}

/// `futex(2)` and the operations that wait.
const SYS_FUTEX: i64 = libc::SYS_futex;
const FUTEX_CMD_MASK: u64 = 0x7f;
const FUTEX_WAIT: u64 = 0;
const FUTEX_LOCK_PI: u64 = 6;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_LOCK_PI2: u64 = 13;

/// Builds the wait-for graph of `job` (every thread of its processes).
pub fn graph(job: &Job) -> Result<Graph, PipsError> {
    let mut g = Graph {
        job: job.pid,
        ..Graph::default()
    };
    let published = match read_board(job.pid) {
        Ok(Some(w)) => {
            g.board = true;
            w
        }
        Ok(None) => Vec::new(),
        // Without access to the root nothing else is readable either.
        Err(e @ (PipsError::Gone(_) | PipsError::Permission { .. })) => return Err(e),
        Err(e) => {
            g.notes.push(e.to_string());
            Vec::new()
        }
    };
    let holders = fds::holders_of_job(job);
    // The tasks' main threads, by pipid, and the root's.
    let task_tid: BTreeMap<usize, i32> = job
        .tasks
        .iter()
        .filter(|t| t.role == Role::Task)
        .filter_map(|t| t.pipid.map(|p| (p, t.tid)))
        .collect();
    let root_tid = job.root_tid;
    let ended = |p: usize| !task_tid.contains_key(&p) && job.ntasks.is_some_and(|n| p < n);
    // Threads other than a task's main thread belong to the task whose name they carry.
    let name_owner: HashMap<String, Option<usize>> = job
        .tasks
        .iter()
        .filter(|t| matches!(t.role, Role::Root | Role::Task))
        .map(|t| (t.name.clone(), t.pipid))
        .collect();
    for h in &holders {
        let row = job.tasks.iter().find(|t| t.tid == h.tid);
        let state = procfs::stat(h.pid, h.tid).map(|s| s.state).unwrap_or('?');
        let pipid = match row {
            Some(t) => t.pipid,
            None => procfs::comm(h.pid, h.tid)
                .ok()
                .and_then(|c| name_owner.get(c.trim()).copied().flatten()),
        };
        let label = match (row, pipid) {
            (Some(t), _) => t.label(),
            (None, Some(p)) => format!("thread {} of task {p}", h.tid),
            (None, None) => h.label.clone(),
        };
        g.nodes.push(Node {
            tid: h.tid,
            pid: h.pid,
            label,
            pipid,
            state,
            what: String::new(),
            source: "",
            targets: Vec::new(),
            needed: 0,
            waits_for_ended: false,
            seconds: None,
            board_stamp: None,
        });
    }
    let all: Vec<i32> = g.nodes.iter().map(|n| n.tid).collect();
    let tid_of = |peer: i32| -> Option<i32> {
        if peer == ROOT {
            Some(root_tid)
        } else {
            usize::try_from(peer)
                .ok()
                .and_then(|p| task_tid.get(&p).copied())
        }
    };
    let now = board::monotonic_ns();
    // Published waits first: they say what a wait is for.
    for w in &published {
        let Some(idx) = g.nodes.iter().position(|n| n.tid == w.tid) else {
            continue;
        };
        let me = g.nodes[idx].tid;
        let others: Vec<i32> = task_tid.values().copied().filter(|&t| t != me).collect();
        let (what, targets, needed, on_ended) =
            published_edges(w, &published, &tid_of, &others, &all, &ended);
        let n = &mut g.nodes[idx];
        n.what = what;
        n.source = "board";
        n.targets = targets;
        n.needed = needed;
        n.waits_for_ended = on_ended;
        n.seconds = Some(now.saturating_sub(w.since_ns) as f64 / 1e9);
        n.board_stamp = Some((w.since_ns, w.progress));
    }
    unlink_mutual_waits(&mut g.nodes, &published);
    // Then the kernel's view of every other blocked thread.
    let snapshot = std::cell::OnceCell::new();
    let job_tids: BTreeSet<i32> = all.iter().copied().collect();
    for i in 0..g.nodes.len() {
        if g.nodes[i].source == "board" || g.nodes[i].state == 'R' {
            continue;
        }
        let (pid, tid) = (g.nodes[i].pid, g.nodes[i].tid);
        let Some((nr, args)) = procfs::syscall_args(pid, tid) else {
            continue;
        };
        if nr == SYS_FUTEX {
            let cmd = args[1] & FUTEX_CMD_MASK;
            if ![FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI, FUTEX_LOCK_PI2].contains(&cmd) {
                continue;
            }
            let addr = args[0];
            let owner = if cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 {
                let mut w = [0u8; 4];
                procfs::read_mem(pid, addr, &mut w)
                    .ok()
                    .map(|_| (u32::from_ne_bytes(w) & 0x3fff_ffff) as i32)
            } else {
                // glibc's pthread_mutex_t: int __lock; unsigned __count; int __owner.
                let mut w = [0u8; 4];
                procfs::read_mem(pid, addr + 8, &mut w)
                    .ok()
                    .map(|_| i32::from_ne_bytes(w))
            };
            let n = &mut g.nodes[i];
            n.source = "futex";
            match owner.filter(|o| *o != tid && job_tids.contains(o)) {
                Some(o) => {
                    n.what = format!("mutex {addr:#x} held by {{{o}}}");
                    n.targets = vec![o];
                    n.needed = 1;
                }
                None => n.what = format!("futex {addr:#x}"),
            }
        } else if [
            libc::SYS_read,
            libc::SYS_readv,
            libc::SYS_write,
            libc::SYS_writev,
        ]
        .contains(&nr)
        {
            let fd = args[0] as i32;
            let reading = nr == libc::SYS_read || nr == libc::SYS_readv;
            let snap = snapshot.get_or_init(|| {
                let mut tracker = fds::Tracker::new();
                fds::snapshot(&holders, &mut tracker)
            });
            if let Some((pipe, peers)) = pipe_peers(snap, tid, fd, reading) {
                let n = &mut g.nodes[i];
                n.source = "pipe";
                n.what = format!(
                    "{} fd {fd} ({pipe}): needs a {} end, held by {}",
                    if reading { "read" } else { "write" },
                    if reading { "write" } else { "read" },
                    if peers.is_empty() {
                        String::from("nobody")
                    } else {
                        peers
                            .iter()
                            .map(|t| format!("{{{t}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
                n.needed = 1;
                n.targets = peers;
            }
        }
    }
    // Name threads in the texts.
    let labels: HashMap<i32, String> = g.nodes.iter().map(|n| (n.tid, n.label.clone())).collect();
    for n in &mut g.nodes {
        for (tid, label) in &labels {
            n.what = n.what.replace(&format!("{{{tid}}}"), label);
        }
    }
    g.deadlocks = deadlocks(&g.nodes);
    Ok(g)
}

/// True if a published receive-side wait `r` (of task `receiver`) takes a message that the
/// send `s` of task `sender` offers.
fn takes(r: &PublishedWait, s: &PublishedWait, sender: usize) -> bool {
    let (r, s) = (&r.wait, &s.wait);
    matches!(
        r.kind,
        WaitKind::Recv | WaitKind::Probe | WaitKind::Requests
    ) && r.ctx == s.ctx
        && (r.peer == ANY || r.peer == sender as i32)
        && (r.tag == ANY || s.tag == ANY || r.tag == s.tag)
}

/// Sends whose receiver will take them (see the module documentation): neither side of such a
/// pair waits for the other, they end each other.
fn unlink_mutual_waits(nodes: &mut [Node], published: &[PublishedWait]) {
    let in_comm_wait = |p: usize| {
        published
            .iter()
            .any(|w| w.pipid == Some(p) && (w.wait.kind as u32) < WaitKind::Import as u32)
    };
    let mut freed: Vec<(i32, String)> = Vec::new();
    for s in published {
        let (Some(sender), Ok(dst)) = (s.pipid, usize::try_from(s.wait.peer)) else {
            continue;
        };
        match s.wait.kind {
            WaitKind::Send => {
                if let Some(r) = published
                    .iter()
                    .find(|r| r.pipid == Some(dst) && takes(r, s, sender))
                {
                    freed.push((s.tid, format!("task {dst}'s receive takes it")));
                    freed.push((r.tid, format!("task {sender}'s send matches it")));
                }
            }
            WaitKind::RingFull if in_comm_wait(dst) => {
                freed.push((s.tid, format!("task {dst} drains its rings while it waits")));
            }
            _ => {}
        }
    }
    for (tid, why) in freed {
        if let Some(n) = nodes.iter_mut().find(|n| n.tid == tid) {
            if n.needed > 0 {
                n.what.push_str(&format!(" ({why})"));
            }
            n.targets.clear();
            n.needed = 0;
        }
    }
}

/// The time `pips waits` lets pass between its two snapshots by default.
pub const DEFAULT_SETTLE: std::time::Duration = std::time::Duration::from_millis(300);

/// [`graph`], with only the deadlocks that are still there, unchanged, `settle` later (see the
/// module documentation).
pub fn stable_graph(job: &Job, settle: std::time::Duration) -> Result<Graph, PipsError> {
    let first = graph(job)?;
    if first.deadlocks.is_empty() {
        return Ok(first);
    }
    std::thread::sleep(settle);
    let mut second = graph(job)?;
    // Threads of a cycle whose wait changed act: recompute without them until every cycle
    // left is unchanged.
    let mut progressing = BTreeSet::new();
    loop {
        let changed: Vec<i32> = second
            .deadlocks
            .iter()
            .flat_map(|d| d.cycle.iter().copied())
            .filter(|t| !unchanged(&first, &second, *t) && !progressing.contains(t))
            .collect();
        if changed.is_empty() {
            break;
        }
        progressing.extend(changed);
        second.deadlocks = deadlocks_given(&second.nodes, &progressing);
    }
    if !progressing.is_empty() {
        second.notes.push(format!(
            "a cycle of waits changed within {} ms (its threads progress): not a deadlock",
            settle.as_millis()
        ));
    }
    Ok(second)
}

/// True if thread `tid` waits in both graphs in the same wait, with no progress in between.
fn unchanged(a: &Graph, b: &Graph, tid: i32) -> bool {
    match (a.node(tid), b.node(tid)) {
        (Some(x), Some(y)) => {
            x.state != 'R'
                && y.state != 'R'
                && x.what == y.what
                && x.board_stamp == y.board_stamp
                && x.targets == y.targets
        }
        _ => false,
    }
}

/// The pipe behind `fd` of `tid`'s table, and the threads holding its other end.
fn pipe_peers(
    snap: &fds::Snapshot,
    tid: i32,
    fd: i32,
    reading: bool,
) -> Option<(String, Vec<i32>)> {
    let table = snap
        .tables
        .iter()
        .position(|t| t.holders.iter().any(|h| h.tid == tid))?;
    let slot = snap.tables[table].fds.iter().find(|s| s.fd == fd)?;
    let vnode = &snap.vnodes[snap.ofds[slot.ofd].vnode];
    if vnode.kind != Kind::Pipe {
        return None;
    }
    let mut peers = BTreeSet::new();
    for &o in &vnode.ofds {
        let ofd = &snap.ofds[o];
        let other_end = if reading {
            ofd.access.writes()
        } else {
            ofd.access.reads()
        };
        if !other_end {
            continue;
        }
        for &(t, _) in &ofd.slots {
            peers.extend(snap.tables[t].holders.iter().map(|h| h.tid));
        }
    }
    Some((vnode.name.clone(), peers.into_iter().collect()))
}

/// What a published wait is in words, which threads can end it and how many it needs, and
/// whether it waits for a task that has ended.
fn published_edges(
    w: &PublishedWait,
    all_waits: &[PublishedWait],
    tid_of: &dyn Fn(i32) -> Option<i32>,
    other_tasks: &[i32],
    all: &[i32],
    ended: &dyn Fn(usize) -> bool,
) -> (String, Vec<i32>, usize, bool) {
    let i = &w.wait;
    let mut what = i.to_string();
    let me = w.tid;
    // Peers that are tasks or the root, by pipid.
    let single = |p: i32| -> (Vec<i32>, usize, bool) {
        match tid_of(p) {
            Some(t) => (vec![t], 1, false),
            None if p >= 0 && ended(p as usize) => (Vec::new(), 0, true),
            None => (Vec::new(), 0, false),
        }
    };
    // Any one of the other tasks.
    let any_other = || {
        let n = usize::from(!other_tasks.is_empty());
        (other_tasks.to_vec(), n, false)
    };
    // Every other task that is not waiting in the same barrier or collective.
    let all_not_inside = || {
        let t: Vec<i32> = other_tasks
            .iter()
            .copied()
            .filter(|t| !same_object(all_waits, *t, w))
            .collect();
        let n = t.len();
        (t, n, false)
    };
    let (targets, needed, on_ended) = match i.kind {
        WaitKind::Recv
        | WaitKind::Probe
        | WaitKind::Send
        | WaitKind::RingFull
        | WaitKind::Requests
        | WaitKind::Collective => match i.peer {
            NONE => (Vec::new(), 0, false),
            // The end of a collective: waits for every member that has not finished it.
            ANY if i.kind == WaitKind::Collective => all_not_inside(),
            ANY => any_other(),
            p => single(p),
        },
        WaitKind::Import => single(i.peer),
        WaitKind::TaskEnd if i.peer == ANY => any_other(),
        WaitKind::TaskEnd => single(i.peer),
        WaitKind::CommBarrier => all_not_inside(),
        WaitKind::Barrier => {
            let inside = all_waits
                .iter()
                .filter(|o| o.wait.kind == WaitKind::Barrier && o.wait.object == i.object)
                .count();
            let missing = (i.parties as usize).saturating_sub(inside);
            let t: Vec<i32> = all
                .iter()
                .copied()
                .filter(|t| *t != me && !same_object(all_waits, *t, w))
                .collect();
            let n = missing.min(t.len());
            what.push_str(&format!(", {missing} missing"));
            (t, n, false)
        }
        WaitKind::CommOther => (Vec::new(), 0, false),
    };
    (what, targets, needed, on_ended)
}

/// True if thread `tid` publishes a wait in the same barrier or collective as `w`.
fn same_object(all: &[PublishedWait], tid: i32, w: &PublishedWait) -> bool {
    all.iter()
        .any(|o| o.tid == tid && o.wait.kind == w.wait.kind && o.wait.object == w.wait.object)
}

/// The deadlocks among `nodes` (see the module documentation).
pub fn deadlocks(nodes: &[Node]) -> Vec<Deadlock> {
    deadlocks_given(nodes, &BTreeSet::new())
}

/// [`deadlocks`], counting the threads in `acting` as able to act.
fn deadlocks_given(nodes: &[Node], acting: &BTreeSet<i32>) -> Vec<Deadlock> {
    let index: HashMap<i32, usize> = nodes.iter().enumerate().map(|(i, n)| (n.tid, i)).collect();
    // Can act: not blocked in an understood wait, or running.
    let mut free: Vec<bool> = nodes
        .iter()
        .map(|n| !n.is_blocked() || n.state == 'R' || acting.contains(&n.tid))
        .collect();
    loop {
        let mut changed = false;
        for (i, n) in nodes.iter().enumerate() {
            if free[i] || n.waits_for_ended {
                continue;
            }
            let able = n
                .targets
                .iter()
                .filter(|t| index.get(t).is_none_or(|&j| free[j]))
                .count();
            if able >= n.needed {
                free[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let stuck: Vec<usize> = (0..nodes.len())
        .filter(|&i| !free[i] && !nodes[i].waits_for_ended)
        .collect();
    // Cycles through stuck nodes: follow stuck targets until a node repeats.
    let mut found: Vec<Deadlock> = Vec::new();
    let mut covered = BTreeSet::new();
    for &start in &stuck {
        if covered.contains(&start) {
            continue;
        }
        let mut path = vec![start];
        let mut cur = start;
        let cycle = loop {
            let Some(next) = nodes[cur]
                .targets
                .iter()
                .filter_map(|t| index.get(t).copied())
                .find(|&j| !free[j] && !nodes[j].waits_for_ended)
            else {
                break None;
            };
            if let Some(pos) = path.iter().position(|&p| p == next) {
                break Some(path[pos..].to_vec());
            }
            path.push(next);
            cur = next;
        };
        covered.extend(path.iter().copied());
        let Some(mut cycle) = cycle else { continue };
        // The same cycle from another start: rotate to its smallest tid and compare.
        let min = (0..cycle.len())
            .min_by_key(|&k| nodes[cycle[k]].tid)
            .unwrap_or(0);
        cycle.rotate_left(min);
        let tids: Vec<i32> = cycle.iter().map(|&i| nodes[i].tid).collect();
        if found.iter().any(|d| d.cycle == tids) {
            continue;
        }
        found.push(Deadlock {
            cycle: tids,
            stuck: Vec::new(),
        });
    }
    // Everyone stuck goes with the first deadlock (one job rarely has two).
    if let Some(first) = found.first_mut() {
        first.stuck = stuck.iter().map(|&i| nodes[i].tid).collect();
    }
    found
}

#[cfg(test)]
mod tests;
