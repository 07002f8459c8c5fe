//! Collective slots: the words through which the ranks of a collective publish their
//! arguments to each other and count who is reading whose buffers.
//!
//! The slots live in the shared world block (one per world rank); this module owns their layout
//! and every atomic operation on them. The collectives themselves (who reads whom, the copies
//! and reductions) are in the `collective` module, which drives the steps below through a
//! `Session`.
//!
//! # Protocol
//!
//! Every world rank owns a [`CollSlot`] in the shared world block: a *descriptor* written only by
//! its owner (tag, epoch, collective kind, root, element size, count, operation code, send/receive
//! buffer addresses, count/displacement arrays), and two counters written by the ranks that read
//! it, `entered` and `done`, each a ticket word `(epoch, count)` (`entered`'s count also has a
//! `CLOSED` bit). The *tag* names the collective: the communicator's context and the number of
//! collectives the rank has started on it (a ticket word's value `(ctx, seq)`, never 0); the
//! *epoch* counts every collective the slot's owner took part in, so a counter update meant for an
//! earlier collective can never be counted in a later one.
//!
//! 1. **Publish.** The owner bumps its epoch, resets `entered` and `done` to `(epoch, 0)`,
//!    writes the descriptor (all relaxed), then stores the tag (`SeqCst`: a release of all of it,
//!    and the waker's half of the sleep/wake handshake of the `wait` module's bell) and wakes the
//!    communicator's sleeping ranks.
//! 2. **Agree.** Every rank but the communicator's rank 0 (the *leader*) reads the leader's
//!    descriptor (steps 3-5) and takes from it the kind, the root and whether the payload is
//!    large: these decide who reads whom (the *plan*, the `Plan` of the `collective` module), so
//!    everyone follows the same plan even when arguments disagree. A rank whose own kind or root
//!    differ reports the mismatch and moves no data.
//! 3. **Wait.** A rank that needs peer `r`'s buffers waits until `r`'s tag equals its own
//!    (acquire; it sleeps with the usual policy, woken by step 1).
//! 4. **Enter.** It adds 1 to `r`'s `entered` with a compare-exchange that succeeds only if
//!    the epoch is the one it read after the tag and `CLOSED` is clear; otherwise `r` has
//!    given up (abort) and nothing of `r`'s may be touched.
//! 5. **Work and release.** It checks `r`'s descriptor against its own (counts, sizes,
//!    operation), copies or reduces what it needs, then adds 1 to `r`'s `done` (`SeqCst`:
//!    releases its reads and writes; wakes `r`). Every rank releases every slot its plan reads,
//!    even when it moved nothing.
//! 6. **Finish.** The owner waits until `done` counts every rank whose plan reads its slot
//!    (acquire), then returns: nobody touches its buffers any more.
//!
//! **Abort.** If the world is aborted (a rank panicked) or a user operation panics, the rank
//! releases what it entered, sets `CLOSED` in its own `entered` (a `fetch_or`, so it
//! excludes step 4 atomically: a late reader either entered before or sees the bit), and
//! waits, without giving up, until `done` catches up with `entered`. Readers never wait while
//! they hold a slot except for other ranks' stage words (step below), and those waits end on
//! abort, so this wait always ends, and no rank ever returns while another reads its buffers.
//!
//! **Stages.** The large all-reduce works in two phases: each rank reduces its segment of the
//! vector from all inputs, then copies the other segments from their owners. A rank signals
//! the end of its first phase by storing the tag in its slot's `stage` word (`SeqCst`, then
//! wakes); the others wait for it before copying that segment.

use crate::rank::Rank;
use crossbeam_utils::CachePadded;
use pip_core::sync::ticket::{AtomicTicket, Ticket};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// The bit of `entered`'s count that closes a slot to new readers.
const CLOSED: u32 = 1 << 31;

/// The descriptor's `flags`: this rank's own arguments were wrong; nothing of it may be used.
pub(crate) const FAILED: u32 = 1;

/// A rank's collective slot in the shared world block. See the module documentation.
/// `entered` and `done` are ticket words (`pip_core::sync::ticket`): `(epoch, count)`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct CollSlot {
    desc: CachePadded<SlotDesc>,
    entered: CachePadded<AtomicTicket>,
    done: CachePadded<AtomicTicket>,
}

impl Default for CollSlot {
    fn default() -> CollSlot {
        CollSlot {
            desc: Default::default(),
            entered: CachePadded::new(AtomicTicket::new(Ticket::new(0, 0))),
            done: CachePadded::new(AtomicTicket::new(Ticket::new(0, 0))),
        }
    }
}

#[repr(C)]
#[derive(Debug, Default)]
struct SlotDesc {
    tag: AtomicU64,
    stage: AtomicU64,
    epoch: AtomicU32,
    kind: AtomicU32,
    root: AtomicI32,
    flags: AtomicU32,
    elem: AtomicUsize,
    op: AtomicU32,
    count: AtomicUsize,
    send: AtomicPtr<u8>,
    recv: AtomicPtr<u8>,
    counts: AtomicPtr<usize>,
    displs: AtomicPtr<usize>,
    ncounts: AtomicUsize,
}

/// The collectives, as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Kind {
    Bcast = 1,
    Reduce,
    Allreduce,
    Gather,
    Gatherv,
    Scatter,
    Scatterv,
    Allgather,
    Allgatherv,
    Alltoall,
    Alltoallv,
    Scan,
    Exscan,
}

impl Kind {
    /// The collective's name, as in messages (the method's, without `_into`).
    pub(crate) fn name(self) -> &'static str {
        use Kind::*;
        match self {
            Bcast => "broadcast",
            Reduce => "reduce",
            Allreduce => "all_reduce",
            Gather => "gather",
            Gatherv => "gather_varcount",
            Scatter => "scatter",
            Scatterv => "scatter_varcount",
            Allgather => "all_gather",
            Allgatherv => "all_gather_varcount",
            Alltoall => "all_to_all",
            Alltoallv => "all_to_all_varcount",
            Scan => "scan",
            Exscan => "exclusive_scan",
        }
    }

    pub(crate) fn from_u32(k: u32) -> Option<Kind> {
        use Kind::*;
        [
            Bcast, Reduce, Allreduce, Gather, Gatherv, Scatter, Scatterv, Allgather, Allgatherv,
            Alltoall, Alltoallv, Scan, Exscan,
        ]
        .into_iter()
        .find(|x| *x as u32 == k)
    }
}

/// A rank's arguments to a collective, as published in its slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Desc {
    pub(crate) kind: Kind,
    pub(crate) root: Rank,
    pub(crate) elem: usize,
    pub(crate) op: u32,
    pub(crate) count: usize,
    pub(crate) send: *const u8,
    pub(crate) recv: *mut u8,
    pub(crate) counts: *const usize,
    pub(crate) displs: *const usize,
    pub(crate) ncounts: usize,
    pub(crate) flags: u32,
}

impl Desc {
    pub(crate) fn new(kind: Kind, root: Rank, elem: usize, count: usize) -> Desc {
        Desc {
            kind,
            root,
            elem,
            op: 0,
            count,
            send: std::ptr::null(),
            recv: std::ptr::null_mut(),
            counts: std::ptr::null(),
            displs: std::ptr::null(),
            ncounts: 0,
            flags: 0,
        }
    }

    /// The published count/displacement arrays.
    ///
    /// # Safety
    ///
    /// Only while the slot's owner stays in the collective (the reader has entered it).
    pub(crate) unsafe fn arrays<'a>(&self) -> (&'a [usize], &'a [usize]) {
        if self.counts.is_null() || self.displs.is_null() {
            return (&[], &[]);
        }
        // SAFETY: the owner published two slices of `ncounts` elements that it keeps
        // borrowed until every reader released its slot (caller).
        unsafe {
            (
                std::slice::from_raw_parts(self.counts, self.ncounts),
                std::slice::from_raw_parts(self.displs, self.ncounts),
            )
        }
    }
}

impl CollSlot {
    /// Step 1, by the owner: publishes `desc` for the collective `tag` (never 0) and returns the
    /// collective's epoch. The caller then wakes the ranks that may wait for it.
    pub(crate) fn publish(&self, tag: u64, desc: &Desc) -> u32 {
        let d = &self.desc;
        // SYNC(coll_slot#protocol): step 1: only the owner writes its epoch and descriptor; the
        // relaxed stores are released by the tag store below.
        let epoch = d.epoch.load(Ordering::Relaxed).wrapping_add(1);
        self.entered.store(Ticket::new(epoch, 0), Ordering::Relaxed);
        self.done.store(Ticket::new(epoch, 0), Ordering::Relaxed);
        d.epoch.store(epoch, Ordering::Relaxed);
        d.kind.store(desc.kind as u32, Ordering::Relaxed);
        d.root.store(desc.root, Ordering::Relaxed);
        d.flags.store(desc.flags, Ordering::Relaxed);
        d.elem.store(desc.elem, Ordering::Relaxed);
        d.op.store(desc.op, Ordering::Relaxed);
        d.count.store(desc.count, Ordering::Relaxed);
        d.send.store(desc.send.cast_mut(), Ordering::Relaxed);
        d.recv.store(desc.recv, Ordering::Relaxed);
        d.counts.store(desc.counts.cast_mut(), Ordering::Relaxed);
        d.displs.store(desc.displs.cast_mut(), Ordering::Relaxed);
        d.ncounts.store(desc.ncounts, Ordering::Relaxed);
        // SYNC(coll_slot#protocol): the release pairs with the acquire loads of the tag in
        // `published`; SeqCst for the sleep/wake handshake with ranks waiting for it (woken by the
        // caller).
        d.tag.store(tag, Ordering::SeqCst);
        epoch
    }

    /// Step 3's condition: the owner has published collective `tag` (acquire; `SeqCst` when
    /// checked before sleeping).
    pub(crate) fn published(&self, tag: u64, seqcst: bool) -> bool {
        // SYNC(coll_slot#protocol): step 3: the acquire pairs with the SeqCst tag store in
        // `publish`; the SeqCst variant is the sleeper's re-check of the bell's handshake.
        let order = if seqcst {
            Ordering::SeqCst
        } else {
            Ordering::Acquire
        };
        self.desc.tag.load(order) == tag
    }

    /// Step 4, by a reader that saw the tag: enters the slot unless its owner closed it.
    pub(crate) fn enter(&self) -> bool {
        // SYNC(coll_slot#protocol): step 4: the epoch was released with the tag this reader
        // acquired.
        let epoch = self.desc.epoch.load(Ordering::Relaxed);
        let mut cur = self.entered.load(Ordering::Relaxed);
        loop {
            if cur.ticket() != epoch || cur.count() & CLOSED != 0 {
                // CLOSED (or, impossibly, a later epoch): the owner gave up.
                return false;
            }
            // SYNC(coll_slot#protocol): the CAS against the owner's CLOSED `fetch_or` in `close`:
            // exactly one order holds (see the module documentation).
            match self.entered.compare_exchange_weak(
                cur,
                cur.with_count(cur.count() + 1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// The published descriptor (read by a reader that entered).
    pub(crate) fn read(&self) -> Desc {
        let d = &self.desc;
        // SYNC(coll_slot#protocol): step 5: the descriptor was released by the tag store in
        // `publish`, which this reader acquired before entering.
        Desc {
            kind: Kind::from_u32(d.kind.load(Ordering::Relaxed)).unwrap_or(Kind::Bcast),
            root: d.root.load(Ordering::Relaxed),
            elem: d.elem.load(Ordering::Relaxed),
            op: d.op.load(Ordering::Relaxed),
            count: d.count.load(Ordering::Relaxed),
            send: d.send.load(Ordering::Relaxed).cast_const(),
            recv: d.recv.load(Ordering::Relaxed),
            counts: d.counts.load(Ordering::Relaxed).cast_const(),
            displs: d.displs.load(Ordering::Relaxed).cast_const(),
            ncounts: d.ncounts.load(Ordering::Relaxed),
            flags: d.flags.load(Ordering::Relaxed),
        }
    }

    /// Step 5's end, by a reader: releases the slot. The caller then wakes the owner.
    pub(crate) fn release(&self) {
        // SYNC(coll_slot#protocol): releases the reader's accesses to the owner's buffers to the
        // acquire in `finished`; SeqCst for the sleep/wake handshake (the owner is woken next).
        self.done.fetch_add_count(1, Ordering::SeqCst);
    }

    /// Step 6's condition: `readers` readers of the owner's collective `epoch` have released
    /// the slot (acquire; `SeqCst` when checked before sleeping).
    pub(crate) fn finished(&self, epoch: u32, readers: u32, seqcst: bool) -> bool {
        // SYNC(coll_slot#protocol): step 6: the acquire pairs with the readers' SeqCst increments
        // in `release`; the SeqCst variant is the sleeper's re-check.
        let order = if seqcst {
            Ordering::SeqCst
        } else {
            Ordering::Acquire
        };
        // SYNC(coll_slot#protocol): pairs with the readers' release in `release`.
        self.done.load(order) == Ticket::new(epoch, readers)
    }

    /// The abort path, by the owner: closes the slot to new readers and returns how many
    /// entered; the owner then waits until `finished(epoch, entered)`.
    pub(crate) fn close(&self) -> u32 {
        // SYNC(coll_slot#protocol): against the readers' CAS in `enter`.
        self.entered
            .fetch_or(Ticket::new(0, CLOSED), Ordering::AcqRel)
            .count()
            & !CLOSED
    }

    /// Stage signal, by the owner: its first phase of collective `tag` is done. The caller then
    /// wakes the others.
    pub(crate) fn set_stage(&self, tag: u64) {
        // SYNC(coll_slot#protocol): release of the first phase's writes to the acquire in `staged`;
        // SeqCst for the sleep/wake handshake.
        self.desc.stage.store(tag, Ordering::SeqCst);
    }

    /// The owner has signalled the end of its first phase of collective `tag` (acquire;
    /// `SeqCst` when checked before sleeping).
    pub(crate) fn staged(&self, tag: u64, seqcst: bool) -> bool {
        // SYNC(coll_slot#protocol): stages: the acquire pairs with the SeqCst store in `set_stage`;
        // the SeqCst variant is the sleeper's re-check.
        let order = if seqcst {
            Ordering::SeqCst
        } else {
            Ordering::Acquire
        };
        self.desc.stage.load(order) == tag
    }
}
