//! What a published wait waits for: its edges, from the wait board.

use super::Node;
use pip_core::waits::{PublishedWait, WaitKind, ANY, NONE};

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
pub(super) fn unlink_mutual_waits(nodes: &mut [Node], published: &[PublishedWait]) {
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

/// What a published wait is in words, which threads can end it and how many it needs, and
/// whether it waits for a task that has ended.
pub(super) fn published_edges(
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
