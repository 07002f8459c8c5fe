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

mod build;
mod cycles;
mod kernel;
mod published;

pub use build::graph;
pub use cycles::deadlocks;
use cycles::deadlocks_given;

pub use super::board::read_board;
use super::jobs::Job;
use super::PipsError;
use serde_json::{json, Value};
use std::collections::BTreeSet;

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

#[cfg(test)]
mod tests;
