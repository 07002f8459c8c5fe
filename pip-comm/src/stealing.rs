//! A rank's part in work stealing (the protocol and the shared queue are in [`crate::steal`]):
//! offering its own large copies, and copying chunks of the others' while it waits.
//!
//! Everything here takes the shared world block and the rank's world number, not the rank's
//! engine: the waiting loop (the `waiter` module) calls [`help`] each round, the rendezvous
//! receiver calls [`offer_rndv`], the collectives call [`copy`].

use crate::rendezvous::{RndvCtl, Transfer};
use crate::shared::Shared;
use crate::steal::{steal_one, CopyJob, StealQueue, COPY, RNDV, STEAL_COPY_MIN};
use pip_core::sync::backoff::{Backoff, WaitPolicy};
use std::sync::atomic::Ordering;

/// Polls of a finished copy's last chunks (being copied by thieves) before yielding.
const COPY_SPINS: u32 = 64;

/// The world-wide count of offered jobs (kept in rank 0's queue).
fn jobs(shared: &Shared) -> &StealQueue {
    &shared.rank(0).steal
}

/// The steal queue of world rank `me`.
pub(crate) fn queue(shared: &Shared, me: u32) -> &StealQueue {
    &shared.rank(me).steal
}

/// Whether world rank `me` steals and offers (reads `PIP_COMM_STEAL` on first use).
pub(crate) fn enabled(shared: &Shared, me: u32) -> bool {
    // A bad value was refused when the world was created (config::check_env).
    queue(shared, me).enabled(|| crate::config::steal_from_env().unwrap_or(true))
}

/// A rendezvous transfer offered by its receiver; retracted by dropping.
pub(crate) struct Offered<'a> {
    shared: &'a Shared,
    me: u32,
    entry: Option<usize>,
}

impl Drop for Offered<'_> {
    fn drop(&mut self) {
        if let Some(e) = self.entry {
            queue(self.shared, self.me).retract(e);
            jobs(self.shared).count_world_job(false);
        }
    }
}

/// Receiver side of a rendezvous: world rank `me` offers the chunks of transfer `t` of `ctl`
/// (from world rank `src`) to thieves, when stealing is on and there is more than one chunk.
pub(crate) fn offer_rndv<'a>(
    shared: &'a Shared,
    me: u32,
    ctl: &RndvCtl,
    t: &Transfer,
    src: u32,
) -> Offered<'a> {
    let mut o = Offered {
        shared,
        me,
        entry: None,
    };
    if t.nchunks > 1 && shared.nranks() > 2 && enabled(shared, me) {
        let wake = (src << 16) | me;
        o.entry = queue(shared, me).offer(RNDV, ctl as *const RndvCtl as usize, t.ticket, wake);
        if o.entry.is_some() {
            jobs(shared).count_world_job(true);
        }
    }
    o
}

/// World rank `me` copies `bytes` bytes from `src` to `dst`, offering the chunks of a large
/// copy to waiting ranks.
///
/// # Safety
///
/// `src` is readable and `dst` writable for `bytes` bytes, they do not overlap, and nothing
/// else writes them until this returns.
pub(crate) unsafe fn copy(shared: &Shared, me: u32, src: *const u8, dst: *mut u8, bytes: usize) {
    if bytes < STEAL_COPY_MIN || shared.nranks() < 2 || !enabled(shared, me) {
        // SAFETY: forwarded to the caller.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, bytes) };
        return;
    }
    let q = queue(shared, me);
    let job = &q.job;
    let chunk = (bytes / 8).clamp(32 << 10, 256 << 10);
    let ticket = job.prepare(src, dst, bytes, chunk);
    let wake = (me << 16) | me;
    let entry = q.offer(COPY, job as *const CopyJob as usize, ticket, wake);
    if entry.is_some() {
        jobs(shared).count_world_job(true);
    }
    // SAFETY: the job describes the caller's buffers, valid until we return; we return only
    // once every chunk is copied.
    while unsafe { job.copy_one(ticket) }.is_some() {}
    // Only chunks that thieves are copying right now are left: bounded work, which never
    // needs a wake-up, so the wait spins briefly, then yields, and never sleeps.
    let mut backoff = Backoff::new(WaitPolicy::new(COPY_SPINS, u32::MAX));
    while !job.is_complete(ticket) {
        backoff.snooze();
    }
    if let Some(e) = entry {
        q.retract(e);
        jobs(shared).count_world_job(false);
    }
}

/// A waiting rank's turn: world rank `me` copies one chunk of another rank's offered work, if
/// there is any. True if it copied something.
pub(crate) fn help(shared: &Shared, me: u32) -> bool {
    if !jobs(shared).any_world_job() || !enabled(shared, me) {
        return false;
    }
    let n = shared.nranks();
    for k in 1..n {
        let victim = (me + k) % n;
        let q = &shared.rank(victim).steal;
        let mut mask = q.mask();
        while mask != 0 {
            let e = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let Some(s) = q.snapshot(e) else { continue };
            if let Some((bytes, last)) = steal_one(&s) {
                let mine = queue(shared, me);
                // SYNC(steal#switching-it-off): statistics, read relaxed by
                // `Communicator::steal_stats`.
                mine.stolen_chunks.fetch_add(1, Ordering::Relaxed);
                mine.stolen_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
                if last {
                    crate::wait::wake_rank(shared, s.wake >> 16);
                    crate::wait::wake_rank(shared, s.wake & 0xffff);
                }
                return true;
            }
        }
    }
    false
}
