//! The optional watchdog: when the job makes no progress for a while, every rank that is stuck
//! in a pip-comm wait prints what it waits for, instead of the job hanging silently.
//!
//! Enabled by `PIP_COMM_WATCHDOG=seconds` (read by each rank for itself; fractions allowed).
//! With it, a rank that waits:
//!
//! * publishes what it waits for in its [`Activity`](crate::shared::Activity) words (relaxed
//!   stores: they are only ever printed) and clears them when the wait ends, adding 1 to its
//!   progress counter (so does every message it sends);
//! * sleeps at most a fraction of the limit at a time, and on each wake-up sums every rank's
//!   progress counter. When the sum has not moved for the whole limit, it prints its pending
//!   operations to stderr: the wait itself (kind, communicator context, peer, tag), its posted
//!   receives, its unexpected messages and how many rendezvous sends it has out. The lowest
//!   world rank among those waiting also prints one line per rank of the world, from the
//!   published words (a rank that is in no wait is computing, or has ended).
//!
//! It reports once per stall, and again only after progress resumed and stalled anew. It only
//! prints: the job keeps waiting (a slow rank may still come). Ranks are world ranks and
//! contexts are communicator contexts (the world's is 0; `dup` and `split` hand out 2, 4, ...).

use crate::endpoint::Endpoint;
use crate::matching::{Body, Filter};
use crate::{Tag, ANY_SOURCE, ANY_TAG};
use pip_core::waits::{self, WaitInfo, WaitKind};
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a rank waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum What {
    /// A receive (or probe) that `Filter` accepts.
    Recv(Filter),
    /// A probe for a message that `Filter` accepts.
    Probe(Filter),
    /// A rendezvous send to a world rank, in a context, with a tag.
    Send(u32, u32, Tag),
    /// A free slot in the ring to a world rank (it does not drain its ring).
    SlotTo(u32),
    /// Completion of requests (`wait`, `wait_all`, `wait_any`, a scope's end).
    Requests(usize),
    /// The world barrier.
    Barrier,
    /// A collective step waiting for a world rank (`None`: for its readers), with the
    /// collective's tag (context and sequence number).
    Collective(Option<u32>, u64),
    /// Anything else.
    Other,
}

const KINDS: [&str; 9] = [
    "(none)",
    "receive",
    "probe",
    "rendezvous send",
    "send (ring full)",
    "wait for requests",
    "barrier",
    "wait",
    "collective",
];

impl What {
    /// (kind, ctx, peer, tag) as published.
    fn encode(self) -> (u32, u32, i32, i32) {
        match self {
            What::Recv(f) => (1, f.ctx, f.source, f.tag),
            What::Probe(f) => (2, f.ctx, f.source, f.tag),
            What::Send(dst, ctx, tag) => (3, ctx, dst as i32, tag),
            What::SlotTo(dst) => (4, 0, dst as i32, ANY_TAG),
            What::Requests(n) => (5, 0, ANY_SOURCE, n as i32),
            What::Barrier => (6, 0, ANY_SOURCE, ANY_TAG),
            What::Other => (7, 0, ANY_SOURCE, ANY_TAG),
            What::Collective(peer, tag) => (
                8,
                (tag >> 32) as u32,
                peer.map_or(ANY_SOURCE, |p| p as i32),
                ANY_TAG,
            ),
        }
    }

    /// The wait as the job's wait board shows it to `pips waits` (see `pip_core::waits`):
    /// peers are world ranks (= pipids), `ANY` for any. `posted` is the first posted receive,
    /// if any (what a wait for requests most likely waits for); `barrier` the world barrier's
    /// round.
    pub(crate) fn board_info(self, posted: Option<Filter>, barrier: u64, n: u32) -> WaitInfo {
        let any = |p: i32| if p == ANY_SOURCE { waits::ANY } else { p };
        let tag = |t: Tag| if t == ANY_TAG { waits::ANY } else { t };
        let mut w = WaitInfo::new(WaitKind::CommOther);
        match self {
            What::Recv(f) | What::Probe(f) => {
                w.kind = if matches!(self, What::Recv(_)) {
                    WaitKind::Recv
                } else {
                    WaitKind::Probe
                };
                w.peer = any(f.source);
                w.ctx = f.ctx;
                w.tag = tag(f.tag);
            }
            What::Send(dst, ctx, t) => {
                w.kind = WaitKind::Send;
                w.peer = dst as i32;
                w.ctx = ctx;
                w.tag = tag(t);
            }
            What::SlotTo(dst) => {
                w.kind = WaitKind::RingFull;
                w.peer = dst as i32;
            }
            What::Requests(count) => {
                w.kind = WaitKind::Requests;
                w.parties = count as u32;
                if let Some(f) = posted {
                    w.peer = any(f.source);
                    w.ctx = f.ctx;
                    w.tag = tag(f.tag);
                }
            }
            What::Barrier => {
                w.kind = WaitKind::CommBarrier;
                w.parties = n;
                w.object = barrier;
            }
            What::Collective(peer, t) => {
                w.kind = WaitKind::Collective;
                w.peer = peer.map_or(waits::ANY, |p| p as i32);
                w.ctx = (t >> 32) as u32;
                w.parties = n;
                w.object = t;
            }
            What::Other => {}
        }
        w
    }
}

/// Formats a published wait.
fn describe(kind: u32, ctx: u32, peer: i32, tag: i32) -> String {
    let name = KINDS.get(kind as usize).copied().unwrap_or("?");
    let peer = match peer {
        ANY_SOURCE => String::from("any"),
        p => p.to_string(),
    };
    let tag = match tag {
        ANY_TAG => String::from("any"),
        t => t.to_string(),
    };
    match kind {
        0 => String::from("not in a pip-comm wait (computing, or ended)"),
        1..=3 => format!("{name}: peer {peer}, tag {tag}, communicator context {ctx}"),
        8 => format!("{name}: waits for rank {peer}, communicator context {ctx}"),
        4 => format!("{name}: to rank {peer}, which does not take its messages"),
        5 => format!("{name}: {tag} request(s)"),
        _ => name.to_string(),
    }
}

/// The watchdog of one rank: the limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watch {
    limit: Duration,
}

impl Watch {
    /// The watchdog `PIP_COMM_WATCHDOG` asks for, if any.
    pub(crate) fn from_env() -> Option<Watch> {
        let v = pip_core::env_var("PIP_COMM_WATCHDOG")?;
        let secs: f64 = v.trim().parse().ok()?;
        (secs > 0.0 && secs.is_finite()).then(|| Watch {
            limit: Duration::from_secs_f64(secs),
        })
    }

    /// Publishes the start of a wait.
    pub(crate) fn begin(&self, ep: &Endpoint, what: What) -> Watching {
        let a = &ep.shared().rank(ep.me).activity;
        let (kind, ctx, peer, tag) = what.encode();
        a.ctx.store(ctx, Ordering::Relaxed);
        a.peer.store(peer, Ordering::Relaxed);
        a.tag.store(tag, Ordering::Relaxed);
        a.kind.store(kind, Ordering::Relaxed);
        Watching {
            limit: self.limit,
            what,
            seen: Cell::new((total(ep), Instant::now())),
            reported: Cell::new(false),
        }
    }

    /// Counts progress (a message sent).
    pub(crate) fn progress(ep: &Endpoint) {
        ep.shared()
            .rank(ep.me)
            .activity
            .progress
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// The sum of every rank's progress counter.
fn total(ep: &Endpoint) -> u64 {
    let s = ep.shared();
    (0..ep.n)
        .map(|r| s.rank(r).activity.progress.load(Ordering::Relaxed))
        .fold(0, u64::wrapping_add)
}

/// A wait under the watchdog.
#[derive(Debug)]
pub(crate) struct Watching {
    limit: Duration,
    what: What,
    /// The progress sum last seen, and when it last moved.
    seen: Cell<(u64, Instant)>,
    reported: Cell<bool>,
}

impl Watching {
    /// The wait ended: progress.
    pub(crate) fn end(self, ep: &Endpoint) {
        let a = &ep.shared().rank(ep.me).activity;
        a.kind.store(0, Ordering::Relaxed);
        a.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// Looks at the world's progress (reporting a stall once) and says how long to sleep.
    pub(crate) fn check(&self, ep: &Endpoint) -> Duration {
        let now = Instant::now();
        let t = total(ep);
        let (last, since) = self.seen.get();
        if t != last {
            self.seen.set((t, now));
            self.reported.set(false);
        } else if now.duration_since(since) >= self.limit && !self.reported.get() {
            self.reported.set(true);
            eprint!("{}", report(ep, self.what, now.duration_since(since)));
        }
        (self.limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

/// The text a stalled rank prints.
pub(crate) fn report(ep: &Endpoint, what: What, stalled: Duration) -> String {
    let mut out = String::new();
    let me = ep.me;
    let (kind, ctx, peer, tag) = what.encode();
    let _ = writeln!(
        out,
        "pip-comm watchdog: no progress for {:.1}s; rank {me} (world) waits in {}",
        stalled.as_secs_f64(),
        describe(kind, ctx, peer, tag)
    );
    for p in ep.posted.borrow().iter() {
        let f = p.filter;
        let _ = writeln!(
            out,
            "  rank {me}: posted receive: {}",
            describe(1, f.ctx, f.source, f.tag)
        );
    }
    let unexpected = ep.unexpected.borrow();
    if !unexpected.is_empty() {
        let _ = writeln!(
            out,
            "  rank {me}: {} unexpected message(s) not yet received:",
            unexpected.len()
        );
        for p in unexpected.iter().take(16) {
            let kind = match p.body {
                Body::Eager(_) => "eager",
                Body::Rndv(_) => "rendezvous (its sender waits)",
                Body::Owned(_) => "owned Vec",
            };
            let _ = writeln!(
                out,
                "    from rank {}, tag {}, context {}, {} bytes, {kind}",
                p.source, p.tag, p.ctx, p.len
            );
        }
    }
    if ep.sends_out.get() > 0 {
        let _ = writeln!(
            out,
            "  rank {me}: {} rendezvous send(s) not yet received by their destination",
            ep.sends_out.get()
        );
    }
    let s = ep.shared();
    let lowest_waiting = (0..ep.n).find(|&r| s.rank(r).activity.kind.load(Ordering::Relaxed) != 0);
    if lowest_waiting == Some(me) {
        let _ = writeln!(out, "pip-comm watchdog: every rank of the world:");
        for r in 0..ep.n {
            let a = &s.rank(r).activity;
            let _ = writeln!(
                out,
                "  rank {r}: {}",
                describe(
                    a.kind.load(Ordering::Relaxed),
                    a.ctx.load(Ordering::Relaxed),
                    a.peer.load(Ordering::Relaxed),
                    a.tag.load(Ordering::Relaxed)
                )
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_described() {
        let (k, c, p, t) = What::Recv(Filter {
            ctx: 2,
            source: 3,
            tag: ANY_TAG,
        })
        .encode();
        assert_eq!(
            describe(k, c, p, t),
            "receive: peer 3, tag any, communicator context 2"
        );
        let (k, c, p, t) = What::SlotTo(1).encode();
        assert!(describe(k, c, p, t).contains("to rank 1"));
        assert!(describe(0, 0, 0, 0).starts_with("not in a pip-comm wait"));
    }
}
