//! CAB-style work stealing: a rank that waits does other ranks' pending copies.
//!
//! Large copies are cut into chunks that anyone may claim: a large rendezvous message (the
//! receiver copies from the sender's buffer, see `crate::rendezvous`) and a large piece of
//! a collective (see the `collective` module). The rank doing such a copy *offers* it in its
//! `StealQueue`, a small array of entries in its part of the shared world block, then copies
//! chunks itself. Any rank that is waiting (for a message, a send, a barrier, a collective;
//! every wait goes through the `Waiter` of the `waiter` module) looks through the other ranks'
//! queues and copies unclaimed chunks, so an idle core takes over part of a busy rank's copy.
//!
//! # Switching it off
//!
//! `PIP_COMM_STEAL=0` (read by each rank for itself when it first copies or waits; in a PiP
//! task from the task's environment) makes a rank neither offer nor steal. A program can also
//! switch a rank over with
//! [`Communicator::set_work_stealing`](crate::SimpleCommunicator::set_work_stealing).
//! [`Communicator::steal_stats`](crate::SimpleCommunicator::steal_stats) counts the chunks and bytes a
//! rank copied for others, for tests and benchmarks.
//!
//! This module holds the shared parts (the queue, the jobs, one chunk's theft); a rank's use of
//! them (offering its copies, helping while it waits) is in the `stealing` module.
//!
//! # Protocol
//!
//! **Jobs.** A job is a copy of `len` bytes from `src` to `dst` in `nchunks` chunks of
//! `chunk` bytes, with two progress words, `claimed` and `done`, both ticket words
//! (`pip_core::sync::ticket`: `(ticket, count)` in one 64-bit word)
//! (a collective copy uses the rank's `CopyJob`; a rendezvous control has the same words).
//! Jobs live as long as the world and are reused with a fresh ticket for each copy.
//! In a `CopyJob`, `claimed` counts the chunks *left*: the owner stores
//! `(ticket, nchunks)` last (release) when it prepares a copy. Anyone copies a chunk by
//! (1) moving `claimed` from `(ticket, r)` to `(ticket, r - 1)` with a compare-exchange
//! (acquire), which fails unless the job still carries the ticket and `r > 0`, so the claim
//! reads no other field that could already belong to the next copy; (2) reading the job's
//! fields and copying chunk `r - 1`; (3) adding 1 to `done` (`SeqCst`: releases the copied
//! bytes). The
//! one whose increment makes `done` reach `nchunks` wakes the parties. The job's owner reuses
//! it only after seeing `done == (ticket, nchunks)`, which needs every claimed chunk copied,
//! so a chunk claimed under a ticket is always copied with that ticket's buffers: the job's
//! fields are written before its entry is published and rewritten only after completion, and a
//! thief reads them after its successful claim (or, for rendezvous controls, after acquiring
//! the matched ticket, which the claim then validates).
//!
//! **Queue.** Each rank's queue has `ENTRIES` entries, written only by the rank itself and
//! read by everyone, and an occupancy mask. An entry is a sequence lock (pip-core's
//! `pip_core::sync::seqlock::SeqLock`) over `(kind, job, ticket, wake)`: the owner makes `seq`
//! odd, issues a release fence, writes the fields (relaxed), then makes `seq` even with a
//! release store, and sets the entry's bit in the mask (release). A thief loads the mask
//! (acquire), then for each set bit loads `seq` (acquire; skips odd), the fields (relaxed),
//! issues an acquire fence and loads `seq` again: equal means the fields are one consistent
//! snapshot (had it read any field of a later write, the fence pairing would make it see the
//! odd `seq`). A snapshot may be stale (the job may
//! have completed and been retracted); the ticket check in the claim makes that harmless.
//! Retracting clears the bit and the kind. A world-wide count of offered jobs lets a waiting
//! rank skip the scan when nothing is offered (a hint only).
//!
//! **Rendezvous jobs.** A thief of a rendezvous chunk reads the transfer's terms after
//! acquiring the control's matched ticket and claims with the control's own `claimed` word,
//! which counts chunks *up* to `nchunks` (see `crate::rendezvous`). Under the language's
//! memory model a thief could in principle combine that ticket with the chunk count of the
//! control's *next* transfer if the whole next offer and answer happened between its loads;
//! x86's ordered stores rule it out. Counting that word down, as `CopyJob` does, would close
//! it on every architecture (to do in the rendezvous module).
//!
//! **Termination.** Stealing never waits: a thief claims one chunk at a time and returns to
//! its own wait loop after each. An owner that offered a job copies chunks until none is left
//! unclaimed, then waits only for chunks that thieves are copying right now.

mod queue;

pub(crate) use queue::StealQueue;
pub(crate) use queue::{CopyJob, Snapshot, COPY, RNDV};

use crate::rendezvous::RndvCtl;

/// Collective copies of at least this many bytes are offered for stealing.
pub const STEAL_COPY_MIN: usize = 128 << 10;

/// What a rank copied for others (see
/// [`Communicator::steal_stats`](crate::SimpleCommunicator::steal_stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StealStats {
    /// Chunks this rank copied for other ranks.
    pub chunks: u64,
    /// Bytes in those chunks.
    pub bytes: u64,
}

/// Copies one chunk of the job in snapshot `s`: `(bytes, completed the job)`.
pub(crate) fn steal_one(s: &Snapshot) -> Option<(usize, bool)> {
    match s.kind {
        RNDV => {
            // SAFETY: rendezvous controls live as long as the world, which outlives every rank
            // that could steal (the snapshot is consistent, so this was a control's address).
            let ctl = unsafe { &*(s.job as *const RndvCtl) };
            let t = ctl.accepted(s.ticket)?;
            let last = ctl.copy_one_chunk(&t)?;
            Some((t.chunk_len(), last))
        }
        COPY => {
            // SAFETY: copy jobs live in the world block, which outlives every rank.
            let job = unsafe { &*(s.job as *const CopyJob) };
            // SAFETY: a successful claim under the ticket pins the job's buffers until its
            // chunk is counted done (see the module documentation).
            unsafe { job.copy_one(s.ticket) }
        }
        _ => None,
    }
}
