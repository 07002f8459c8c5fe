//! The deadlock watchdog: when every rank of a world has waited for a while and none made
//! progress, print the cycle of waits that holds them, once, instead of hanging silently.
//!
//! # When it fires
//!
//! `PIP_COMM_WATCHDOG=seconds` sets the period (fractions allowed; default
//! [`WATCHDOG_DEFAULT_SECS`](crate::config::WATCHDOG_DEFAULT_SECS); `0`, `off`, `no` or
//! `false` turn it off; parsed with the other variables in `crate::config`). It fires when, for the
//! whole period, **every** rank of the world has been in the same pip-comm wait and the
//! world's progress counter has not moved. A rank that computes is in no wait, so an
//! oversubscribed but healthy job (ranks queued for a CPU between messages) never fires it;
//! nor does a wait that is still being served (a send and the receive that matches it end each
//! other long before the period is over).
//!
//! # What it costs
//!
//! Nothing before a wait stops spinning: a wait is only *watched* once it starts to yield or
//! sleep (where it is also put on the job's wait board). Then the rank publishes what it
//! waits for in its [`Activity`](crate::shared::Activity) words, and while it sleeps it wakes
//! up every quarter period (at most once a second) to look at the others' words. The only
//! fast-path work is one plain increment of the rank's own progress counter per message sent.
//!
//! # Protocol
//!
//! Each rank's [`Activity`](crate::shared::Activity) words are written only by that rank and
//! read by every rank's watchdog. A rank that starts a watched wait stores the wait's words
//! (peer, tag, context, start time) relaxed, then its kind with a release store; a reader loads
//! the kind with acquire (0: not waiting) and then the words, which are this wait's or a later
//! one's (a later wait is a sign of progress, which the progress counters show anyway). The
//! progress counter is bumped by its owner with a plain load and store (only it writes it) and
//! read relaxed: the sum is a hint that is compared over a whole period. The world's `stall`
//! word is set once, by a compare-exchange, by the rank that reports.
//!
//! # What it prints
//!
//! The first rank to see the stall prints, to stderr, the cycle of waits the way `pips waits`
//! names it (`rank 0 [recv from rank 1, tag 7, context 0] -> rank 1 [...] -> rank 0`) and every
//! rank's wait; each rank then adds what only it knows (its posted receives, its unexpected
//! messages, its rendezvous sends out), if anything. Ranks are world ranks, contexts are
//! communicator contexts (the world's is 0; `dup` and `split` hand out 2, 4, ...).
//!
//! With `PIP_COMM_DEADLOCK=abort` the reporting rank then ends the job with exit code
//! [`DEADLOCK_EXIT_CODE`](crate::DEADLOCK_EXIT_CODE) (in a PiP job it ends its task with that
//! code, and pip-exec ends the others and exits with it). The default (`report`) only prints:
//! the job keeps waiting.

use crate::config::{OnDeadlock, WatchdogSettings};
use crate::matching::{Body, Filter, Posted, Unexpected};
use crate::rank::{Tag, ANY_SOURCE, ANY_TAG};
use crate::shared::Shared;
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

impl What {
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
                w.ctx = pip_core::sync::ticket::Ticket::from_raw(t).ticket();
                w.parties = n;
                w.object = t;
            }
            What::Other => {}
        }
        w
    }
}

/// A wait in words, as `pips waits` names it ([`WaitInfo`]'s `Display`).
pub(crate) fn text(w: &WaitInfo) -> String {
    w.to_string()
}

/// The watchdog of one rank: its period and what to do on a deadlock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watch {
    limit: Duration,
    on_deadlock: OnDeadlock,
}

impl Watch {
    /// The watchdog the environment asks for (see [`WatchdogSettings`]): on by default.
    pub(crate) fn from_env() -> Option<Watch> {
        WatchdogSettings::from_env().map(|w| Watch {
            limit: w.limit,
            on_deadlock: w.on_deadlock,
        })
    }

    /// Publishes the start of a wait (once it has stopped spinning).
    #[cold]
    pub(crate) fn begin(&self, shared: &Shared, me: u32, w: &WaitInfo) -> Watching {
        let a = &shared.rank(me).activity;
        // SYNC(watchdog#protocol): the wait's words are relaxed; the release store of the kind
        // below publishes them.
        a.ctx.store(w.ctx, Ordering::Relaxed);
        a.peer.store(w.peer, Ordering::Relaxed);
        a.tag.store(w.tag, Ordering::Relaxed);
        a.since_ns.store(waits::monotonic_ns(), Ordering::Relaxed);
        // SYNC(watchdog#protocol): pairs with the acquire load in `stalled`, which then sees this
        // wait's words.
        a.kind.store(w.kind as u32, Ordering::Release);
        Watching {
            watch: *self,
            seen: Cell::new((total(shared), Instant::now())),
            details_printed: Cell::new(false),
        }
    }

    /// Counts progress (a message sent): a plain increment, since only this rank writes it.
    #[inline]
    pub(crate) fn progress(shared: &Shared, me: u32) {
        bump(&shared.rank(me).activity.progress);
    }
}

fn bump(c: &crate::sync::atomic::AtomicU64) {
    // SYNC(watchdog#protocol): only the owner writes its progress counter: a plain load and store.
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// The sum of every rank's progress counter.
fn total(shared: &Shared) -> u64 {
    // SYNC(watchdog#protocol): the progress counters are a hint, compared over a whole period.
    shared
        .ranks()
        .iter()
        .map(|r| r.activity.progress.load(Ordering::Relaxed))
        .fold(0, u64::wrapping_add)
}

/// A wait under the watchdog.
#[derive(Debug)]
pub(crate) struct Watching {
    watch: Watch,
    /// The progress sum last seen, and when it last moved.
    seen: Cell<(u64, Instant)>,
    details_printed: Cell<bool>,
}

impl Watching {
    /// The wait ended: progress.
    pub(crate) fn end(self, shared: &Shared, me: u32) {
        let a = &shared.rank(me).activity;
        // SYNC(watchdog#protocol): the wait ended: only this rank writes its activity words.
        a.kind.store(0, Ordering::Relaxed);
        bump(&a.progress);
    }

    /// Looks at the world (reporting a deadlock once) and says how long to sleep at most.
    /// `details` says what only this rank knows of its pending operations (see [`details`]).
    #[cold]
    pub(crate) fn check(&self, s: &Shared, details: impl Fn() -> String) -> Duration {
        let period =
            (self.watch.limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        // SYNC(watchdog#protocol): pairs with the compare-exchange below: a rank that sees the
        // report adds its details.
        if s.stall.load(Ordering::Acquire) != 0 {
            // Reported: add what only this rank knows, once.
            if !self.details_printed.replace(true) {
                let d = details();
                if !d.is_empty() {
                    eprint!("{d}");
                }
            }
            return period;
        }
        let now = Instant::now();
        let t = total(s);
        let (last, since) = self.seen.get();
        if t != last {
            self.seen.set((t, now));
            return period;
        }
        if now.duration_since(since) < self.watch.limit {
            return period;
        }
        let Some(waits) = stalled(s, self.watch.limit) else {
            return period;
        };
        if s.stall
            // SYNC(watchdog#protocol): the stall word is set once, by the rank that reports.
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return period;
        }
        self.details_printed.set(true);
        let mut out = report(&waits, self.watch.limit);
        out.push_str(&details());
        if self.watch.on_deadlock == OnDeadlock::Abort {
            let _ = writeln!(
                out,
                "pip-comm: ending the job with exit code {} (PIP_COMM_DEADLOCK=abort)",
                crate::DEADLOCK_EXIT_CODE
            );
        }
        eprint!("{out}");
        if self.watch.on_deadlock == OnDeadlock::Abort {
            pip_core::exit(crate::DEADLOCK_EXIT_CODE);
        }
        period
    }
}

/// Every rank's wait and for how long, if every rank has waited at least `limit`.
fn stalled(s: &Shared, limit: Duration) -> Option<Vec<(WaitInfo, Duration)>> {
    let now = waits::monotonic_ns();
    (0..s.nranks())
        .map(|r| {
            let a = &s.rank(r).activity;
            // SYNC(watchdog#protocol): pairs with the release store in `begin`.
            let kind = WaitKind::from_code(a.kind.load(Ordering::Acquire))?;
            let waited =
                Duration::from_nanos(now.saturating_sub(a.since_ns.load(Ordering::Relaxed)));
            if waited < limit {
                return None;
            }
            let mut w = WaitInfo::new(kind);
            w.ctx = a.ctx.load(Ordering::Relaxed);
            w.peer = a.peer.load(Ordering::Relaxed);
            w.tag = a.tag.load(Ordering::Relaxed);
            Some((w, waited))
        })
        .collect()
}

/// The cycle of waits among `waits` (world ranks, in wait-for order), following each rank's
/// single peer; `None` when the waits are for any rank or for a whole group.
pub(crate) fn cycle(waits: &[WaitInfo]) -> Option<Vec<usize>> {
    let next = |r: usize| {
        usize::try_from(waits[r].peer)
            .ok()
            .filter(|&p| p < waits.len() && p != r)
    };
    (0..waits.len()).find_map(|start| {
        let mut path = vec![start];
        let mut cur = start;
        loop {
            let n = next(cur)?;
            if let Some(pos) = path.iter().position(|&p| p == n) {
                let mut c = path[pos..].to_vec();
                let min = (0..c.len()).min_by_key(|&k| c[k]).unwrap_or(0);
                c.rotate_left(min);
                return Some(c);
            }
            path.push(n);
            cur = n;
        }
    })
}

/// The report of a deadlock: the cycle, then every rank's wait.
pub(crate) fn report(waits: &[(WaitInfo, Duration)], limit: Duration) -> String {
    let infos: Vec<WaitInfo> = waits.iter().map(|(w, _)| w.clone()).collect();
    let mut out = format!(
        "pip-comm: DEADLOCK: all {} ranks have waited for at least {:.1}s and none made progress (PIP_COMM_WATCHDOG)\n",
        waits.len(),
        limit.as_secs_f64()
    );
    match cycle(&infos) {
        Some(c) => {
            let mut parts: Vec<String> = c
                .iter()
                .map(|&r| format!("rank {r} [{}]", text(&infos[r])))
                .collect();
            parts.push(format!("rank {}", c[0]));
            let _ = writeln!(out, "  {}", parts.join(" -> "));
        }
        None => {
            let _ = writeln!(
                out,
                "  (no single cycle: the waits are for any rank or for a group)"
            );
        }
    }
    for (r, (w, waited)) in waits.iter().enumerate() {
        let _ = writeln!(
            out,
            "  rank {r}: {} (for {:.1}s)",
            text(w),
            waited.as_secs_f64()
        );
    }
    out
}

/// What only rank `me` knows of its pending operations: its posted receives, its unexpected
/// messages, its rendezvous sends out (empty if none).
pub(crate) fn details<T>(
    me: u32,
    posted: &Posted<T>,
    unexpected: &Unexpected,
    sends_out: u32,
) -> String {
    let mut out = String::new();
    let recv = |f: Filter| {
        let mut w = WaitInfo::new(WaitKind::Recv);
        w.peer = if f.source == ANY_SOURCE {
            waits::ANY
        } else {
            f.source
        };
        w.tag = if f.tag == ANY_TAG { waits::ANY } else { f.tag };
        w.ctx = f.ctx;
        text(&w)
    };
    for p in posted.iter() {
        let _ = writeln!(out, "  rank {me}: posted receive: {}", recv(p.filter));
    }
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
    if sends_out > 0 {
        let _ = writeln!(
            out,
            "  rank {me}: {sends_out} rendezvous send(s) not yet received by their destination"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recv(peer: i32, tag: i32) -> WaitInfo {
        let mut w = WaitInfo::new(WaitKind::Recv);
        w.peer = peer;
        w.tag = tag;
        w
    }

    #[test]
    fn waits_are_described_as_pips_does() {
        assert_eq!(
            text(&recv(3, waits::ANY)),
            "recv from rank 3, tag any, context 0"
        );
        let mut w = WaitInfo::new(WaitKind::RingFull);
        w.peer = 1;
        assert!(text(&w).contains("to rank 1"));
    }

    #[test]
    fn the_cycle_is_found_and_named() {
        let w = vec![recv(2, 1), recv(0, 5), recv(1, 7)];
        assert_eq!(cycle(&w), Some(vec![0, 2, 1]));
        let r = report(
            &w.iter()
                .map(|w| (w.clone(), Duration::from_secs(2)))
                .collect::<Vec<_>>(),
            Duration::from_secs(1),
        );
        assert!(
            r.contains("rank 0 [recv from rank 2, tag 1, context 0] -> rank 2 [recv from rank 1, tag 7, context 0] -> rank 1 [recv from rank 0, tag 5, context 0] -> rank 0"),
            "{r}"
        );
        // Waits for any rank have no single cycle.
        assert_eq!(cycle(&[recv(waits::ANY, 1), recv(waits::ANY, 1)]), None);
    }
}
