//! The per-rank steal queue (sequence-locked entries) and the collective copy job. The
//! protocols are described in the parent module. Self-contained, so that it can be checked
//! with loom: `RUSTFLAGS="--cfg loom" cargo test -p pip-comm --lib --release loom_`.

use crate::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use pip_core::sync::seqlock::SeqLock;
use pip_core::sync::ticket::{AtomicTicket, Ticket};

/// Entries per rank queue.
pub(crate) const ENTRIES: usize = 8;
/// An entry's kind: a rendezvous control.
pub(crate) const RNDV: u32 = 1;
/// An entry's kind: a [`CopyJob`].
pub(crate) const COPY: u32 = 2;

/// One offered job: a sequence lock over its fields.
#[repr(C)]
#[derive(Debug, Default)]
struct Entry {
    lock: SeqLock,
    kind: AtomicU32,
    ticket: AtomicU32,
    wake: AtomicU32,
    job: AtomicUsize,
}

/// A consistent copy of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) kind: u32,
    pub(crate) job: usize,
    pub(crate) ticket: u32,
    /// Two world ranks to wake when the job completes, `a << 16 | b`.
    pub(crate) wake: u32,
}

/// A rank's queue of offered copy work, in the shared world block.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct StealQueue {
    entries: [Entry; ENTRIES],
    /// Bit `e` set while entry `e` holds an offered job.
    occupied: AtomicU32,
    /// 0 until the owner decided, then 1 (stealing on) or 2 (off).
    mode: AtomicU32,
    /// In rank 0's queue only: how many jobs the whole world has offered (a hint).
    world_jobs: AtomicU32,
    /// Chunks this rank copied for others.
    pub(crate) stolen_chunks: AtomicU64,
    /// Bytes in those chunks.
    pub(crate) stolen_bytes: AtomicU64,
    /// The rank's job for collective copies (one at a time).
    pub(crate) job: CopyJob,
}

impl StealQueue {
    /// Whether the owner takes part; `default` decides on first use.
    pub(crate) fn enabled(&self, default: impl FnOnce() -> bool) -> bool {
        // SYNC(steal#protocol): a per-rank setting, read and written only by its owner.
        match self.mode.load(Ordering::Relaxed) {
            1 => true,
            2 => false,
            _ => {
                let on = default();
                self.set_enabled(on);
                on
            }
        }
    }

    /// In rank 0's queue: counts a job offered anywhere in the world (`+1`) or retracted.
    pub(crate) fn count_world_job(&self, offered: bool) {
        if offered {
            // SYNC(steal#protocol): the world-wide count is a hint (see `any_world_job`).
            self.world_jobs.fetch_add(1, Ordering::Relaxed);
        } else {
            self.world_jobs.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// In rank 0's queue: whether any job is offered in the world (a hint).
    pub(crate) fn any_world_job(&self) -> bool {
        // SYNC(steal#protocol): the world-wide count is a hint: a stale value only skips or wastes
        // one scan.
        self.world_jobs.load(Ordering::Relaxed) != 0
    }

    /// Owner: sets whether it takes part.
    pub(crate) fn set_enabled(&self, on: bool) {
        // SYNC(steal#protocol): a per-rank setting, read only by its owner.
        self.mode.store(if on { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// Owner: publishes a job in a free entry; `None` if all are taken.
    pub(crate) fn offer(&self, kind: u32, job: usize, ticket: u32, wake: u32) -> Option<usize> {
        // SYNC(steal#protocol): queue: only the owner writes its entries and mask.
        let occupied = self.occupied.load(Ordering::Relaxed);
        let e = (!occupied).trailing_zeros() as usize;
        if e >= ENTRIES {
            return None;
        }
        let entry = &self.entries[e];
        {
            // SYNC(steal#protocol): a sequence-lock write (the owner is its only
            // writer); the fields are relaxed stores, published by the guard's drop.
            let _write = entry
                .lock
                .try_write()
                .expect("an entry has one writer, its owner");
            entry.kind.store(kind, Ordering::Relaxed);
            entry.job.store(job, Ordering::Relaxed);
            entry.ticket.store(ticket, Ordering::Relaxed);
            entry.wake.store(wake, Ordering::Relaxed);
        }
        // SYNC(steal#protocol): pairs with the acquire load in `mask`.
        self.occupied.store(occupied | (1 << e), Ordering::Release);
        Some(e)
    }

    /// Owner: withdraws entry `e`.
    pub(crate) fn retract(&self, e: usize) {
        // SYNC(steal#protocol): queue: only the owner writes its mask; then the same
        // sequence-lock write as in `offer`, clearing the kind.
        let occupied = self.occupied.load(Ordering::Relaxed);
        self.occupied.store(occupied & !(1 << e), Ordering::Relaxed);
        let entry = &self.entries[e];
        let _write = entry
            .lock
            .try_write()
            .expect("an entry has one writer, its owner");
        entry.kind.store(0, Ordering::Relaxed);
    }

    /// Anyone: the entries that hold jobs.
    pub(crate) fn mask(&self) -> u32 {
        // SYNC(steal#protocol): pairs with the owner's release store of the mask in `offer`.
        self.occupied.load(Ordering::Acquire)
    }

    /// Anyone: a consistent copy of entry `e` if it holds a job and was not being written.
    pub(crate) fn snapshot(&self, e: usize) -> Option<Snapshot> {
        let entry = &self.entries[e];
        // SYNC(steal#protocol): a sequence-lock read of the fields written in `offer`
        // and `retract`, validated once (a rejected copy is a missed chance, not an error).
        let begin = entry.lock.read_begin()?;
        let snap = Snapshot {
            kind: entry.kind.load(Ordering::Relaxed),
            job: entry.job.load(Ordering::Relaxed),
            ticket: entry.ticket.load(Ordering::Relaxed),
            wake: entry.wake.load(Ordering::Relaxed),
        };
        (entry.lock.read_validate(begin) && snap.kind != 0).then_some(snap)
    }
}

/// A copy in chunks that anyone may claim (see the parent module's protocol).
#[repr(C)]
#[derive(Debug)]
pub(crate) struct CopyJob {
    ticket: AtomicU32,
    nchunks: AtomicU32,
    src: AtomicUsize,
    dst: AtomicUsize,
    len: AtomicUsize,
    chunk: AtomicUsize,
    claimed: AtomicTicket,
    done: AtomicTicket,
}

impl Default for CopyJob {
    fn default() -> CopyJob {
        CopyJob {
            ticket: AtomicU32::new(0),
            nchunks: AtomicU32::new(0),
            src: AtomicUsize::new(0),
            dst: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            chunk: AtomicUsize::new(0),
            claimed: AtomicTicket::new(Ticket::new(0, 0)),
            done: AtomicTicket::new(Ticket::new(0, 0)),
        }
    }
}

impl CopyJob {
    /// Owner: sets up a copy of `len` bytes in chunks of `chunk`; returns its ticket. The
    /// previous copy must be complete.
    pub(crate) fn prepare(&self, src: *const u8, dst: *mut u8, len: usize, chunk: usize) -> u32 {
        // SYNC(steal#protocol): jobs: the owner's relaxed field stores are released by the store of
        // `claimed` below.
        let ticket = match self.ticket.load(Ordering::Relaxed).wrapping_add(1) {
            0 => 1,
            t => t,
        };
        let chunk = chunk.max(1);
        let nchunks = u32::try_from(len.div_ceil(chunk)).expect("too many chunks");
        self.src.store(src as usize, Ordering::Relaxed);
        self.dst.store(dst as usize, Ordering::Relaxed);
        self.len.store(len, Ordering::Relaxed);
        self.chunk.store(chunk, Ordering::Relaxed);
        self.nchunks.store(nchunks, Ordering::Relaxed);
        self.ticket.store(ticket, Ordering::Relaxed);
        self.done.store(Ticket::new(ticket, 0), Ordering::Relaxed);
        // SYNC(steal#protocol): pairs with the acquire claim in `copy_one`.
        self.claimed
            .store(Ticket::new(ticket, nchunks), Ordering::Release);
        ticket
    }

    /// Anyone: claims and copies one chunk of copy `ticket`; `(bytes, completed the copy)`,
    /// or `None` when no chunk of it is left to claim.
    ///
    /// # Safety
    ///
    /// The owner keeps the buffers of copy `ticket` valid and reserved until the copy is
    /// complete; a thief must have learnt `ticket` from a published entry (which orders the
    /// job's fields before it).
    pub(crate) unsafe fn copy_one(&self, ticket: u32) -> Option<(usize, bool)> {
        // `claimed` counts the chunks left, so the claim needs no other field (a field read
        // before the claim could belong to the next copy already).
        // SYNC(steal#protocol): the claim's acquire pairs with the release store in `prepare` (the
        // fields of this copy); its compare-exchange hands out each chunk once.
        let index = self.claimed.claim(ticket)? as usize - 1;
        // The claim pins the copy: its fields stay until our chunk is counted done.
        let nchunks = self.nchunks.load(Ordering::Relaxed);
        let chunk = self.chunk.load(Ordering::Relaxed);
        let len = self.len.load(Ordering::Relaxed);
        let src = self.src.load(Ordering::Relaxed) as *const u8;
        let dst = self.dst.load(Ordering::Relaxed) as *mut u8;
        let offset = index * chunk;
        let n = chunk.min(len - offset);
        // SAFETY: the owner's buffers hold `len` bytes and stay reserved until `done` reaches
        // `nchunks` (caller); the claim gives chunk `index` to us alone; they do not overlap.
        unsafe { copy_chunk(src.add(offset), dst.add(offset), n) };
        // SYNC(steal#protocol): releases the copied bytes to the owner's acquire in `is_complete`.
        let before = self.done.fetch_add_count(1, Ordering::SeqCst);
        debug_assert_eq!(before.ticket(), ticket);
        Some((n, before.count() + 1 == nchunks))
    }

    /// True once every chunk of copy `ticket` is copied.
    pub(crate) fn is_complete(&self, ticket: u32) -> bool {
        // SYNC(steal#protocol): pairs with the increments in `copy_one`.
        let d = self.done.load(Ordering::Acquire);
        d.ticket() != ticket || d.count() == self.nchunks.load(Ordering::Relaxed)
    }
}

/// Copies a chunk (under loom, a plain byte loop that loom does not instrument).
///
/// # Safety
///
/// As `copy_nonoverlapping`.
unsafe fn copy_chunk(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY: forwarded.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, n) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    #[test]
    fn a_copy_job_copies_everything_once() {
        let job = CopyJob::default();
        let src: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut dst = vec![0u8; 1000];
        let t = job.prepare(src.as_ptr(), dst.as_mut_ptr(), 1000, 300);
        let mut total = 0;
        let mut lasts = 0;
        // SAFETY: both buffers outlive the copy.
        while let Some((n, last)) = unsafe { job.copy_one(t) } {
            total += n;
            lasts += last as u32;
        }
        assert_eq!((total, lasts), (1000, 1));
        assert!(job.is_complete(t));
        assert_eq!(src, dst);
        // A stale ticket claims nothing.
        let t2 = job.prepare(src.as_ptr(), dst.as_mut_ptr(), 1000, 300);
        // SAFETY: as above; nothing is copied.
        assert!(unsafe { job.copy_one(t) }.is_none());
        assert!(!job.is_complete(t2));
    }

    #[test]
    fn entries_offer_and_retract() {
        let q = StealQueue::default();
        assert_eq!(q.mask(), 0);
        let a = q.offer(COPY, 0x1000, 5, 3).unwrap();
        let b = q.offer(RNDV, 0x2000, 6, 4).unwrap();
        assert_ne!(a, b);
        assert_eq!(q.mask().count_ones(), 2);
        assert_eq!(
            q.snapshot(b),
            Some(Snapshot {
                kind: RNDV,
                job: 0x2000,
                ticket: 6,
                wake: 4
            })
        );
        q.retract(a);
        assert_eq!(q.snapshot(a), None);
        assert_eq!(q.mask(), 1 << b);
        for i in 0..ENTRIES - 1 {
            assert!(q.offer(COPY, i, i as u32, 0).is_some());
        }
        assert!(q.offer(COPY, 99, 99, 0).is_none(), "full");
    }

    /// Stress: one owner republishes entries as fast as it can (with fields that are all
    /// derived from one counter) while thieves snapshot them: every snapshot they accept must
    /// be consistent.
    #[test]
    fn snapshots_are_never_torn() {
        let q = Arc::new(StealQueue::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let (q, stop) = (q.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut seen = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let mut mask = q.mask();
                        while mask != 0 {
                            let e = mask.trailing_zeros() as usize;
                            mask &= mask - 1;
                            if let Some(s) = q.snapshot(e) {
                                let k = s.ticket;
                                assert_eq!(s.job, k as usize * 3, "{s:?}");
                                assert_eq!(s.wake, k ^ 0x5555, "{s:?}");
                                assert_eq!(s.kind, 1 + k % 2, "{s:?}");
                                seen += 1;
                            }
                        }
                    }
                    seen
                })
            })
            .collect();
        let rounds = if cfg!(debug_assertions) {
            200_000
        } else {
            2_000_000
        };
        let mut live = Vec::new();
        for k in 1..=rounds as u32 {
            if live.len() == ENTRIES || (k % 3 == 0 && !live.is_empty()) {
                let e = live.remove(k as usize % live.len());
                q.retract(e);
            }
            let e = q.offer(1 + k % 2, k as usize * 3, k, k ^ 0x5555).unwrap();
            live.push(e);
        }
        stop.store(true, Ordering::Relaxed);
        let seen: u64 = thieves.into_iter().map(|t| t.join().unwrap()).sum();
        assert!(seen > 0 || std::thread::available_parallelism().map_or(1, |n| n.get()) == 1);
    }

    /// Stress: an owner and thieves share copy jobs; every byte is copied exactly once per
    /// job and every job completes exactly once.
    #[test]
    fn copy_jobs_under_contention() {
        let job = Arc::new(CopyJob::default());
        let ticket = Arc::new(AtomicU32::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let stolen = Arc::new(AtomicU64::new(0));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let (job, ticket, stop, stolen) =
                    (job.clone(), ticket.clone(), stop.clone(), stolen.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        let t = ticket.load(Ordering::Acquire);
                        // SAFETY: the owner keeps each copy's buffers until it is complete.
                        if t != 0 && unsafe { job.copy_one(t) }.is_some() {
                            stolen.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        let rounds = if cfg!(debug_assertions) { 300 } else { 3000 };
        for round in 0..rounds {
            let len = 1 + (round * 7919) % 20_000;
            let src: Vec<u8> = (0..len).map(|i| (i + round) as u8).collect();
            let mut dst = vec![0u8; len];
            let t = job.prepare(src.as_ptr(), dst.as_mut_ptr(), len, 512);
            ticket.store(t, Ordering::Release);
            let mut lasts = 0;
            // SAFETY: `src` and `dst` live until the copy is complete (checked below).
            while let Some((_, last)) = unsafe { job.copy_one(t) } {
                lasts += last as u32;
            }
            while !job.is_complete(t) {
                std::hint::spin_loop();
            }
            assert!(lasts <= 1);
            assert!(src == dst, "round {round}");
        }
        stop.store(true, Ordering::Release);
        for t in thieves {
            t.join().unwrap();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// The sequence lock: a thief never accepts a snapshot that mixes two publications.
    #[test]
    fn loom_snapshot_is_consistent() {
        loom::model(|| {
            let q = Arc::new(StealQueue::default());
            let e = q.offer(1, 10, 10, 10).unwrap();
            let q2 = q.clone();
            let thief = loom::thread::spawn(move || {
                if let Some(s) = q2.snapshot(e) {
                    assert!(
                        s == Snapshot {
                            kind: 1,
                            job: 10,
                            ticket: 10,
                            wake: 10
                        } || s
                            == Snapshot {
                                kind: 2,
                                job: 20,
                                ticket: 20,
                                wake: 20
                            },
                        "{s:?}"
                    );
                }
            });
            q.retract(e);
            let e2 = q.offer(2, 20, 20, 20).unwrap();
            assert_eq!(e, e2);
            thief.join().unwrap();
        });
    }

    /// Claims: with an owner and a thief copying chunks of one job, every chunk is copied
    /// exactly once and exactly one of them sees the job complete.
    #[test]
    fn loom_chunks_are_claimed_once() {
        loom::model(|| {
            let job = Arc::new(CopyJob::default());
            let src = [1u8, 2, 3];
            let mut dst = [0u8; 3];
            let t = job.prepare(src.as_ptr(), dst.as_mut_ptr(), 3, 1);
            let j2 = job.clone();
            let thief = loom::thread::spawn(move || {
                // SAFETY: the owner below waits for completion (and joins) before the buffers
                // go.
                unsafe { j2.copy_one(t) }.map_or(0, |(_, last)| last as u32)
            });
            let mut lasts = 0;
            // SAFETY: as above.
            while let Some((_, last)) = unsafe { job.copy_one(t) } {
                lasts += last as u32;
            }
            lasts += thief.join().unwrap();
            assert!(job.is_complete(t));
            assert_eq!(lasts, 1);
            assert_eq!(dst, [1, 2, 3]);
        });
    }
}
