//! Building the wait-for graph of a job: its threads, then what each waits for (the wait
//! board first, then the kernel's view of the others).

use super::cycles::deadlocks;
use super::kernel::kernel_edges;
use super::published::{published_edges, unlink_mutual_waits};
use super::{read_board, Graph, Node};
use crate::pips::fds::{self, Holder};
use crate::pips::jobs::{Job, Role};
use crate::pips::procfs;
use crate::pips::PipsError;
use pip_core::waits::{self as board, PublishedWait, ROOT};
use std::collections::{BTreeMap, HashMap};

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
    g.nodes = nodes_of(job, &holders);
    board_edges(&mut g.nodes, job, &published, &task_tid);
    unlink_mutual_waits(&mut g.nodes, &published);
    kernel_edges(&mut g.nodes, &holders);
    name_threads(&mut g.nodes);
    g.deadlocks = deadlocks(&g.nodes);
    Ok(g)
}

/// One node per thread of the job, labelled by the row (or the task) it belongs to.
fn nodes_of(job: &Job, holders: &[Holder]) -> Vec<Node> {
    let mut nodes = Vec::new();
    // Threads other than a task's main thread belong to the task whose name they carry.
    let name_owner: HashMap<String, Option<usize>> = job
        .tasks
        .iter()
        .filter(|t| matches!(t.role, Role::Root | Role::Task))
        .map(|t| (t.name.clone(), t.pipid))
        .collect();
    for h in holders {
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
        nodes.push(Node {
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
    nodes
}

/// What the published waits are for: their edges, from the wait board.
fn board_edges(
    nodes: &mut [Node],
    job: &Job,
    published: &[PublishedWait],
    task_tid: &BTreeMap<usize, i32>,
) {
    let root_tid = job.root_tid;
    let ended = |p: usize| !task_tid.contains_key(&p) && job.ntasks.is_some_and(|n| p < n);
    let all: Vec<i32> = nodes.iter().map(|n| n.tid).collect();
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
    for w in published {
        let Some(idx) = nodes.iter().position(|n| n.tid == w.tid) else {
            continue;
        };
        let me = nodes[idx].tid;
        let others: Vec<i32> = task_tid.values().copied().filter(|&t| t != me).collect();
        let (what, targets, needed, on_ended) =
            published_edges(w, published, &tid_of, &others, &all, &ended);
        let n = &mut nodes[idx];
        n.what = what;
        n.source = "board";
        n.targets = targets;
        n.needed = needed;
        n.waits_for_ended = on_ended;
        n.seconds = Some(now.saturating_sub(w.since_ns) as f64 / 1e9);
        n.board_stamp = Some((w.since_ns, w.progress));
    }
}

/// Names threads in the texts (`{tid}` becomes the thread's label).
fn name_threads(nodes: &mut [Node]) {
    let labels: HashMap<i32, String> = nodes.iter().map(|n| (n.tid, n.label.clone())).collect();
    for n in nodes.iter_mut() {
        for (tid, label) in &labels {
            n.what = n.what.replace(&format!("{{{tid}}}"), label);
        }
    }
}
