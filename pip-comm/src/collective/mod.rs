//! Collectives written for one address space: every rank reads (and writes) its peers'
//! buffers directly, after one publication step, instead of sending messages along a tree.
//!
//! | collective | rooted ([`Root`], on `comm.process_at_rank(root)`) | everyone ([`CommunicatorCollectives`]) |
//! |---|---|---|
//! | broadcast | [`broadcast_into`](Root::broadcast_into) | |
//! | reduce | [`reduce_into`](Root::reduce_into), [`reduce_into_root`](Root::reduce_into_root), [`reduce_in_place_root`](Root::reduce_in_place_root) | [`all_reduce_into`](CommunicatorCollectives::all_reduce_into), [`all_reduce_in_place`](CommunicatorCollectives::all_reduce_in_place) |
//! | gather | [`gather_into`](Root::gather_into), [`gather_into_root`](Root::gather_into_root), [`gather_in_place_root`](Root::gather_in_place_root), `gather_varcount_*` | [`all_gather_into`](CommunicatorCollectives::all_gather_into), [`all_gather_in_place`](CommunicatorCollectives::all_gather_in_place), [`all_gather_varcount_into`](CommunicatorCollectives::all_gather_varcount_into) |
//! | scatter | [`scatter_into`](Root::scatter_into), [`scatter_into_root`](Root::scatter_into_root), [`scatter_in_place_root`](Root::scatter_in_place_root), `scatter_varcount_*` | |
//! | all-to-all | | [`all_to_all_into`](CommunicatorCollectives::all_to_all_into), [`all_to_all_in_place`](CommunicatorCollectives::all_to_all_in_place), [`all_to_all_varcount_into`](CommunicatorCollectives::all_to_all_varcount_into) |
//! | scan | | [`scan_into`](CommunicatorCollectives::scan_into), [`scan_in_place`](CommunicatorCollectives::scan_in_place), [`exclusive_scan_into`](CommunicatorCollectives::exclusive_scan_into), [`exclusive_scan_in_place`](CommunicatorCollectives::exclusive_scan_in_place) |
//!
//! The barrier is [`CommunicatorCollectives::barrier`]. Counts and displacements of the `varcount`
//! variants are in elements, and every varcount call takes its arguments in one order: send,
//! then receive, a buffer cut into pieces being a [`Partition`](crate::Partition) (send) or
//! [`PartitionMut`](crate::PartitionMut) (receive) that carries its counts and displacements. Reductions take an [`Operation`]: a [`SystemOperation`]
//! (`sum`, `product`, `min`, `max`, bitwise and logical `and`/`or`/`xor`) or a
//! [`UserOperation`] closure. All of them work on every communicator (the world, or what
//! [`crate::comm::Communicator::duplicate`] and [`crate::comm::Communicator::split_by_color`] made).
//!
//! Like MPI's, collectives are called by every rank of the communicator, in the same order;
//! they are blocking. Cheap disagreements are detected and returned as errors instead of
//! corrupting memory or hanging: a different root, element size or count
//! ([`Error::CollectiveMismatch`]) or a different collective or operation
//! ([`Error::CollectiveNameMismatch`], which names them), reported by the rank that reads the
//! other's arguments; a send buffer that is not one piece per rank
//! ([`Error::CollectiveBufferNotMultiple`]); buffers too short ([`Error::CollectiveBuffer`], and
//! [`Error::CollectivePeer`] on the ranks whose result it spoils), a root out of range
//! ([`Error::RankOutOfRange`], [`Error::AnySourceNotAllowed`]), the root calling a non-root
//! variant ([`Error::RootVariantRequired`]), a non-root scattering in place
//! ([`Error::InPlaceNotAtRoot`]), a built-in operation undefined for the type
//! ([`Error::InvalidOperation`]). Every rank still finishes the collective.
//!
//! # Protocol
//!
//! Every world rank owns a `CollSlot` in the shared world block: a *descriptor* written only
//! by its owner (tag, epoch, collective kind, root, element size, count, operation code,
//! send/receive buffer addresses, count/displacement arrays), and two counters written by the
//! ranks that read it, `entered` and `done`, each `epoch << 32 | count` (`entered` also has a
//! `CLOSED` bit). The *tag* names the collective: the communicator's context and the number
//! of collectives the rank has started on it (`ctx << 32 | seq`, never 0); the *epoch* counts
//! every collective the slot's owner took part in, so a counter update meant for an earlier
//! collective can never be counted in a later one.
//!
//! 1. **Publish.** The owner bumps its epoch, resets `entered` and `done` to `epoch << 32`,
//!    writes the descriptor (all relaxed), then stores the tag (`SeqCst`: a release of all of
//!    it, and the waker's half of the sleep/wake handshake of `crate::wait`) and wakes the
//!    communicator's sleeping ranks.
//! 2. **Agree.** Every rank but the communicator's rank 0 (the *leader*) reads the leader's
//!    descriptor (steps 3-5) and takes from it the kind, the root and whether the payload is
//!    large: these decide who reads whom (the *plan*, `Plan`), so everyone follows the same
//!    plan even when arguments disagree. A rank whose own kind or root differ reports the
//!    mismatch and moves no data.
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

mod alltoall;
mod bcast;
mod everyone;
mod gather;
mod op;
mod reduce;
mod root;
mod scatter;

pub use everyone::CommunicatorCollectives;
pub use op::{Operation, Reducible, SystemOperation, UserOperation};
pub use root::Root;

use crate::shared::CachePadded;
use crate::watchdog::What;
use crate::world::Communicator;
use crate::{Error, Rank, Result};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

#[allow(unused_imports)] // named in the documentation
use crate::Process;

/// The `entered` bit that closes a slot to new readers.
const CLOSED: u64 = 1 << 31;
const COUNT_MASK: u64 = (1 << 31) - 1;

/// Payloads of at least this many bytes are reduced in parallel segments.
pub(crate) const LARGE: usize = 16 << 10;

/// A rank's collective slot in the shared world block. See the module documentation.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct CollSlot {
    desc: CachePadded<SlotDesc>,
    entered: CachePadded<AtomicU64>,
    done: CachePadded<AtomicU64>,
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

    fn from_u32(k: u32) -> Option<Kind> {
        use Kind::*;
        [
            Bcast, Reduce, Allreduce, Gather, Gatherv, Scatter, Scatterv, Allgather, Allgatherv,
            Alltoall, Alltoallv, Scan, Exscan,
        ]
        .into_iter()
        .find(|x| *x as u32 == k)
    }
}

/// The descriptor's `flags`: this rank's own arguments were wrong; nothing of it may be used.
const FAILED: u32 = 1;

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

/// Who reads whom in one collective, as decided from the leader's descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) kind: Kind,
    /// The root (0 when the leader's root is out of range).
    pub(crate) root: u32,
    /// Large payload: reductions in parallel segments.
    pub(crate) large: bool,
}

/// The set of slots a rank reads (never itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// The leader only.
    Leader,
    /// The leader and this rank.
    LeaderAnd(u32),
    /// Every rank.
    All,
    /// The ranks before this one.
    Before,
}

impl Plan {
    fn reads(&self, q: u32) -> Reads {
        use Kind::*;
        match self.kind {
            Bcast | Gather | Gatherv | Scatter | Scatterv => {
                if q == self.root {
                    Reads::Leader
                } else {
                    Reads::LeaderAnd(self.root)
                }
            }
            Reduce => {
                if self.large || q == self.root {
                    Reads::All
                } else {
                    Reads::Leader
                }
            }
            Allreduce | Allgather | Allgatherv | Alltoall | Alltoallv => Reads::All,
            Scan | Exscan => Reads::Before,
        }
    }

    /// True if rank `q`'s plan reads slot `r`.
    pub(crate) fn reads_slot(&self, q: u32, r: u32) -> bool {
        q != r
            && match self.reads(q) {
                Reads::Leader => r == 0,
                Reads::LeaderAnd(x) => r == 0 || r == x,
                Reads::All => true,
                Reads::Before => r < q,
            }
    }

    /// How many ranks of `n` read slot `r`.
    fn readers(&self, n: u32, r: u32) -> u32 {
        (0..n).filter(|&q| self.reads_slot(q, r)).count() as u32
    }
}

/// Per-rank state of a slot during a session.
const UNTOUCHED: u8 = 0;
const ENTERED: u8 = 1;
const RELEASED: u8 = 2;

/// One rank's part in one collective: publishes, enters and releases slots, and on any exit
/// (error, abort, panic) closes its slot and waits for its readers. See the module
/// documentation.
pub(crate) struct Session<'c> {
    pub(crate) comm: &'c Communicator,
    tag: u64,
    epoch: u32,
    pub(crate) me: u32,
    pub(crate) n: u32,
    state: Vec<u8>,
    plan: Option<Plan>,
    error: Option<Error>,
    finished: bool,
    staged: bool,
}

impl<'c> Session<'c> {
    /// Step 1: publishes `desc` (with `FAILED` set when `local` is an error, which the session
    /// then returns from [`Session::finish`]).
    pub(crate) fn begin(comm: &'c Communicator, mut desc: Desc, local: Result<()>) -> Self {
        let seq = match comm.coll_seq.get().wrapping_add(1) {
            0 => 1,
            s => s,
        };
        comm.coll_seq.set(seq);
        let tag = (u64::from(comm.ctx) << 32) | u64::from(seq);
        let error = local.err();
        if error.is_some() {
            desc.flags |= FAILED;
        }
        let slot = comm.coll_slot(comm.me);
        let epoch = slot.desc.epoch.load(Ordering::Relaxed).wrapping_add(1);
        let base = u64::from(epoch) << 32;
        slot.entered.store(base, Ordering::Relaxed);
        slot.done.store(base, Ordering::Relaxed);
        let d = &slot.desc;
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
        // SYNC: the release pairs with the acquire loads of the tag in `enter`; SeqCst for the
        // sleep/wake handshake with ranks waiting for it (woken just below).
        d.tag.store(tag, Ordering::SeqCst);
        let n = comm.n;
        let s = Session {
            comm,
            tag,
            epoch,
            me: comm.me,
            n,
            state: vec![UNTOUCHED; n as usize],
            plan: None,
            error,
            finished: false,
            staged: false,
        };
        s.wake_members();
        s
    }

    fn wake_members(&self) {
        for r in 0..self.n {
            if r != self.me {
                crate::wait::wake_rank(self.comm.shared(), self.comm.world_rank(r));
            }
        }
    }

    /// Records `e` unless an error is recorded already.
    pub(crate) fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// True while no error is recorded.
    pub(crate) fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// Step 2: the plan, from the leader's descriptor; records a mismatch of kind or root.
    pub(crate) fn agree(&mut self, mine: &Desc) -> Result<Plan> {
        let leader = if self.me == 0 { *mine } else { self.enter(0)? };
        let root = if (0..self.n as Rank).contains(&leader.root) {
            leader.root as u32
        } else {
            0
        };
        let plan = Plan {
            kind: leader.kind,
            root,
            large: leader.count.saturating_mul(leader.elem) >= LARGE,
        };
        if self.me != 0 {
            if leader.kind != mine.kind {
                self.fail(Error::CollectiveNameMismatch {
                    what: "the collective",
                    rank: 0,
                    ours: mine.kind.name(),
                    theirs: leader.kind.name(),
                });
            } else if leader.root != mine.root && is_rooted(mine.kind) {
                self.fail(Error::CollectiveMismatch {
                    what: "the root",
                    rank: 0,
                    ours: mine.root as u64,
                    theirs: leader.root as u64,
                });
            }
        }
        self.plan = Some(plan);
        Ok(plan)
    }

    /// Steps 3 and 4: waits for rank `r`'s descriptor of this collective and enters its slot.
    /// Returns the descriptor (the same on every call while entered).
    pub(crate) fn enter(&mut self, r: u32) -> Result<Desc> {
        debug_assert!(r != self.me && r < self.n);
        let slot = self.comm.coll_slot(r);
        let d = &slot.desc;
        let tag = self.tag;
        if self.state[r as usize] == UNTOUCHED {
            self.comm.wait_until(
                What::Collective(Some(self.comm.world_rank(r)), tag),
                true,
                || (d.tag.load(Ordering::Acquire) == tag).then_some(()),
                || d.tag.load(Ordering::SeqCst) == tag,
            )?;
            let epoch = d.epoch.load(Ordering::Relaxed);
            let base = u64::from(epoch) << 32;
            let mut cur = slot.entered.load(Ordering::Relaxed);
            loop {
                if cur & !COUNT_MASK != base {
                    // CLOSED (or, impossibly, a later epoch): the owner gave up.
                    self.comm.check_aborted()?;
                    return Err(Error::Aborted {
                        rank: self.comm.shared().aborted_by().unwrap_or(0) as Rank,
                    });
                }
                // SYNC: the CAS against the owner's CLOSED `fetch_or` in `close`: exactly one
                // order holds (see the module documentation).
                match slot.entered.compare_exchange_weak(
                    cur,
                    cur + 1,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break,
                    Err(now) => cur = now,
                }
            }
            self.state[r as usize] = ENTERED;
        }
        debug_assert_eq!(self.state[r as usize], ENTERED, "slot released already");
        Ok(Desc {
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
        })
    }

    /// Step 5's end: releases rank `r`'s slot (if entered and not released yet).
    pub(crate) fn release(&mut self, r: u32) {
        if self.state[r as usize] != ENTERED {
            return;
        }
        self.state[r as usize] = RELEASED;
        // SYNC: releases this rank's accesses to r's buffers to r's acquire in `finish`;
        // SeqCst for the sleep/wake handshake (r is woken next).
        self.comm.coll_slot(r).done.fetch_add(1, Ordering::SeqCst);
        crate::wait::wake_rank(self.comm.shared(), self.comm.world_rank(r));
    }

    /// Checks a peer's descriptor against ours; records and returns false on a difference.
    /// `count` and `op` are compared only when asked.
    pub(crate) fn check_peer(
        &mut self,
        r: u32,
        theirs: &Desc,
        mine: &Desc,
        count: bool,
        op: bool,
    ) -> bool {
        let named = |what, ours, theirs| Error::CollectiveNameMismatch {
            what,
            rank: r as Rank,
            ours,
            theirs,
        };
        let diff = if theirs.flags & FAILED != 0 {
            self.fail(Error::CollectivePeer { rank: r as Rank });
            return false;
        } else if theirs.kind != mine.kind {
            let e = named("the collective", mine.kind.name(), theirs.kind.name());
            self.fail(e);
            return false;
        } else if op && theirs.op != mine.op {
            let e = named(
                "the operation",
                op::code_name(mine.op),
                op::code_name(theirs.op),
            );
            self.fail(e);
            return false;
        } else if is_rooted(mine.kind) && theirs.root != mine.root {
            Some(("the root", mine.root as u64, theirs.root as u64))
        } else if theirs.elem != mine.elem {
            Some(("the element size", mine.elem as u64, theirs.elem as u64))
        } else if count && theirs.count != mine.count {
            Some(("the element count", mine.count as u64, theirs.count as u64))
        } else {
            None
        };
        match diff {
            None => true,
            Some((what, ours, theirs)) => {
                self.fail(Error::CollectiveMismatch {
                    what,
                    rank: r as Rank,
                    ours,
                    theirs,
                });
                false
            }
        }
    }

    /// Enters and releases every slot the plan has this rank read and it has not released
    /// yet (the synchronisation without the data).
    pub(crate) fn sync_rest(&mut self) -> Result<()> {
        let plan = self.plan.expect("agree comes first");
        for r in 0..self.n {
            if plan.reads_slot(self.me, r) && self.state[r as usize] != RELEASED {
                self.enter(r)?;
                self.release(r);
            }
        }
        Ok(())
    }

    /// Stage signal: this rank's first phase is done.
    pub(crate) fn set_stage(&mut self) {
        self.staged = true;
        // SYNC: release of the first phase's writes to the acquire in `wait_stage`; SeqCst
        // for the sleep/wake handshake.
        self.comm
            .coll_slot(self.me)
            .desc
            .stage
            .store(self.tag, Ordering::SeqCst);
        self.wake_members();
    }

    /// Waits until rank `r` (entered) has signalled the end of its first phase.
    pub(crate) fn wait_stage(&self, r: u32) -> Result<()> {
        let stage = &self.comm.coll_slot(r).desc.stage;
        let tag = self.tag;
        self.comm.wait_until(
            What::Collective(Some(self.comm.world_rank(r)), tag),
            true,
            || (stage.load(Ordering::Acquire) == tag).then_some(()),
            || stage.load(Ordering::SeqCst) == tag,
        )
    }

    /// Step 6: releases the rest of the plan, waits for this slot's readers, and returns the
    /// first error recorded.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.sync_rest()?;
        let plan = self.plan.expect("agree comes first");
        if plan.kind == Kind::Allreduce && plan.large && !self.staged {
            // Ranks that wait for our stage must not wait for ever.
            self.set_stage();
        }
        let want = (u64::from(self.epoch) << 32) | u64::from(plan.readers(self.n, self.me));
        let done = &self.comm.coll_slot(self.me).done;
        self.comm.wait_until(
            What::Collective(None, self.tag),
            true,
            || (done.load(Ordering::Acquire) == want).then_some(()),
            || done.load(Ordering::SeqCst) == want,
        )?;
        self.finished = true;
        match self.error.take() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// The abort path (see the module documentation).
    fn close(&mut self) {
        for r in 0..self.n {
            self.release(r);
        }
        let slot = self.comm.coll_slot(self.me);
        // SYNC: against the readers' CAS in `enter`.
        let entered = slot.entered.fetch_or(CLOSED, Ordering::AcqRel) & COUNT_MASK;
        let base = u64::from(self.epoch) << 32;
        let done = &slot.done;
        let caught_up = || done.load(Ordering::SeqCst) == base | entered;
        let _ = self
            .comm
            .wait_until(What::Other, false, || caught_up().then_some(()), caught_up);
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.close();
        }
    }
}

fn is_rooted(kind: Kind) -> bool {
    use Kind::*;
    matches!(kind, Bcast | Reduce | Gather | Gatherv | Scatter | Scatterv)
}

impl Communicator {
    /// The collective slot of this communicator's rank `r`.
    pub(crate) fn coll_slot(&self, r: u32) -> &CollSlot {
        &self.shared().rank(self.world_rank(r)).coll
    }

    /// `Ok` if `root` is a rank of this communicator.
    pub(crate) fn check_root(&self, root: Rank) -> Result<()> {
        if (0..self.size()).contains(&root) {
            Ok(())
        } else if root == crate::ANY_SOURCE {
            Err(Error::AnySourceNotAllowed {
                what: "the root of a collective",
                size: self.size(),
            })
        } else {
            Err(Error::RankOutOfRange {
                rank: root,
                size: self.size(),
            })
        }
    }
}

/// Fails unless `len >= needed`.
pub(crate) fn need(what: &'static str, needed: usize, len: usize) -> Result<()> {
    if len >= needed {
        Ok(())
    } else {
        Err(Error::CollectiveBuffer { what, needed, len })
    }
}

/// Checks count/displacement arrays for `n` ranks against a buffer of `len` elements.
pub(crate) fn check_layout(
    what: &'static str,
    counts: &[usize],
    displs: &[usize],
    n: usize,
    len: usize,
) -> Result<()> {
    need("the counts", n, counts.len())?;
    need("the displacements", n, displs.len())?;
    for r in 0..n {
        let end = counts[r].saturating_add(displs[r]);
        need(what, end, len)?;
    }
    Ok(())
}

/// Copies `bytes` bytes between buffers of different ranks (or distinct parts of one).
///
/// # Safety
///
/// `src` is readable and `dst` writable for `bytes` bytes, they do not overlap, and nobody
/// else writes them meanwhile (the collective protocol reserves them).
pub(crate) unsafe fn copy_bytes(comm: &Communicator, src: *const u8, dst: *mut u8, bytes: usize) {
    if bytes == 0 || src == dst.cast_const() {
        return;
    }
    // SAFETY: forwarded to the caller.
    unsafe { crate::steal::copy(&comm.ep, src, dst, bytes) }
}

/// Element offsets as byte offsets.
#[inline]
pub(crate) fn at(p: *const u8, elems: usize, elem: usize) -> *const u8 {
    p.wrapping_add(elems * elem)
}

/// Element offsets as byte offsets (writable).
#[inline]
pub(crate) fn at_mut(p: *mut u8, elems: usize, elem: usize) -> *mut u8 {
    p.wrapping_add(elems * elem)
}

/// The exclusive prefix sums of `counts`: the displacements of pieces laid end to end.
///
/// ```
/// use pip_comm::prelude::*;
/// assert_eq!(pip_comm::collective::displacements(&[2, 0, 3]), [0, 2, 2]);
/// ```
pub fn displacements(counts: &[usize]) -> Vec<usize> {
    let mut at = 0;
    counts
        .iter()
        .map(|&c| {
            let d = at;
            at += c;
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_count_their_readers() {
        for kind in [
            Kind::Bcast,
            Kind::Reduce,
            Kind::Allreduce,
            Kind::Gather,
            Kind::Scan,
            Kind::Exscan,
        ] {
            for n in 1..6u32 {
                for root in 0..n {
                    for large in [false, true] {
                        let plan = Plan { kind, root, large };
                        let total: u32 = (0..n).map(|r| plan.readers(n, r)).sum();
                        let reads: u32 = (0..n)
                            .map(|q| (0..n).filter(|&r| plan.reads_slot(q, r)).count() as u32)
                            .sum();
                        assert_eq!(total, reads);
                        // Everyone but the leader reads the leader.
                        if !matches!(kind, Kind::Scan | Kind::Exscan) || n > 0 {
                            assert_eq!(plan.readers(n, 0), n - 1, "{kind:?} {n} {root}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn layouts_are_checked() {
        assert!(check_layout("recv", &[1, 2], &[0, 1], 2, 3).is_ok());
        assert!(matches!(
            check_layout("recv", &[1, 2], &[0, 2], 2, 3),
            Err(Error::CollectiveBuffer {
                needed: 4,
                len: 3,
                ..
            })
        ));
        assert!(check_layout("recv", &[1], &[0], 2, 3).is_err());
    }
}
