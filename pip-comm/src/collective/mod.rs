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
//! Two paths, chosen by each rank from its own arguments. Small payloads (what a rank stages
//! fits its region of the communicator's collective lines) go through the crate-private
//! `coll_lines` protocol, driven by the `small` submodule: each rank stages its part, publishes
//! one flag, and copies or folds from the others' regions. Everything else takes the general
//! protocol: every world rank owns a collective slot in the shared world block; the steps by
//! which ranks publish their arguments there, enter and release each other's slots, and give up
//! on abort are described with the slot, in the crate-private `coll_slot` module. This module
//! decides who reads whom (the *plan*, `Plan`) and drives those steps through a `Session`,
//! which first numbers the collective on the lines (so that both paths keep one numbering) and,
//! while it waits, watches for ranks that took the small path instead (a mismatch).

mod alltoall;
mod bcast;
mod everyone;
mod gather;
mod op;
mod reduce;
mod root;
mod scatter;
mod small;

pub use everyone::CommunicatorCollectives;
pub use op::{Operation, Reducible, SystemOperation, UserOperation};
pub use root::Root;

pub(crate) use crate::coll_slot::{Desc, Kind};

use crate::coll_slot::{CollSlot, FAILED};
use crate::watchdog::What;
use crate::world::SimpleCommunicator;
use crate::{Error, Rank, Result};

#[allow(unused_imports)] // named in the documentation
use crate::Process;

/// Payloads of at least this many bytes are reduced in parallel segments.
pub(crate) const LARGE: usize = 16 << 10;

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
    pub(crate) comm: &'c SimpleCommunicator,
    tag: u64,
    epoch: u32,
    pub(crate) me: u32,
    pub(crate) n: u32,
    state: Vec<u8>,
    plan: Option<Plan>,
    error: Option<Error>,
    finished: bool,
    staged: bool,
    /// The collective's number on the communicator's lines (see the `small` module), and this
    /// rank's arguments, to recognise ranks that took the small path.
    small: Option<(u32, small::Shape)>,
}

impl<'c> Session<'c> {
    /// Step 1: publishes `desc` (with `FAILED` set when `local` is an error, which the session
    /// then returns from [`Session::finish`]), after numbering the collective on the
    /// communicator's lines as one of the general path.
    pub(crate) fn begin(
        comm: &'c SimpleCommunicator,
        mut desc: Desc,
        local: Result<()>,
    ) -> Result<Self> {
        let k =
            small::Call::begin_large(comm, desc.kind, desc.root, desc.count, desc.elem, desc.op)?;
        let seq = next_seq(comm);
        let tag = pip_core::sync::ticket::Ticket::new(comm.ctx, seq).raw();
        let error = local.err();
        if error.is_some() {
            desc.flags |= FAILED;
        }
        let epoch = comm.coll_slot(comm.me).publish(tag, &desc);
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
            small: k,
        };
        s.wake_members();
        Ok(s)
    }

    /// The mismatch, if rank `r` (when `None`: any rank whose plan reads our slot) took the
    /// small path in this collective: it will never publish a descriptor nor enter ours.
    /// `SeqCst` loads when checked before sleeping (the small path's publication wakes the
    /// ranks).
    fn diverged(&self, r: Option<u32>, seqcst: bool) -> Option<Error> {
        let (k, mine) = self.small.as_ref()?;
        let one = |r| small::diverged(self.comm, *k, r, mine, seqcst);
        match (r, self.plan) {
            (Some(r), _) => one(r),
            (None, Some(plan)) => (0..self.n)
                .filter(|&q| plan.reads_slot(q, self.me))
                .find_map(one),
            (None, None) => None,
        }
    }

    /// After a successful finish: every rank that read our slot, or whose slot we entered,
    /// published its descriptor, so its number on the lines too; when that is every rank,
    /// the next collective's step 1 is known done (see the `small` module).
    fn note_everyone_published(&self) {
        let (Some((k, _)), Some(plan)) = (self.small, self.plan) else {
            return;
        };
        let all = (0..self.n)
            .filter(|&q| q != self.me)
            .all(|q| plan.reads_slot(q, self.me) || self.state[q as usize] != UNTOUCHED);
        if all {
            small::everyone_published(self.comm, k);
        }
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
        let tag = self.tag;
        if self.state[r as usize] == UNTOUCHED {
            // A rank on the small path is rare and need not be seen at once: looked for only
            // before sleeping (`suspect` then tells the poll), so that polls never pull the
            // peers' flag lines.
            let suspect = std::cell::Cell::new(false);
            self.comm.wait_until(
                What::Collective(Some(self.comm.world_rank(r)), tag),
                true,
                || {
                    if slot.published(tag, false) {
                        return Some(Ok(()));
                    }
                    suspect
                        .get()
                        .then(|| self.diverged(Some(r), false).map(Err))?
                },
                || {
                    slot.published(tag, true) || {
                        suspect.set(self.diverged(Some(r), true).is_some());
                        suspect.get()
                    }
                },
            )??;
            if !slot.enter() {
                self.comm.check_aborted()?;
                return Err(Error::Aborted {
                    rank: self.comm.shared().aborted_by().unwrap_or(0) as Rank,
                });
            }
            self.state[r as usize] = ENTERED;
        }
        debug_assert_eq!(self.state[r as usize], ENTERED, "slot released already");
        Ok(slot.read())
    }

    /// Step 5's end: releases rank `r`'s slot (if entered and not released yet).
    pub(crate) fn release(&mut self, r: u32) {
        if self.state[r as usize] != ENTERED {
            return;
        }
        self.state[r as usize] = RELEASED;
        self.comm.coll_slot(r).release();
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
        self.comm.coll_slot(self.me).set_stage(self.tag);
        self.wake_members();
    }

    /// Waits until rank `r` (entered) has signalled the end of its first phase.
    pub(crate) fn wait_stage(&self, r: u32) -> Result<()> {
        let slot = self.comm.coll_slot(r);
        let tag = self.tag;
        self.comm.wait_until(
            What::Collective(Some(self.comm.world_rank(r)), tag),
            true,
            || slot.staged(tag, false).then_some(()),
            || slot.staged(tag, true),
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
        let (epoch, readers) = (self.epoch, plan.readers(self.n, self.me));
        let slot = self.comm.coll_slot(self.me);
        // As in `enter`: ranks on the small path are looked for only before sleeping.
        let suspect = std::cell::Cell::new(false);
        self.comm.wait_until(
            What::Collective(None, self.tag),
            true,
            || {
                if slot.finished(epoch, readers, false) {
                    return Some(Ok(()));
                }
                suspect.get().then(|| self.diverged(None, false).map(Err))?
            },
            || {
                slot.finished(epoch, readers, true) || {
                    suspect.set(self.diverged(None, true).is_some());
                    suspect.get()
                }
            },
        )??;
        self.finished = true;
        self.note_everyone_published();
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
        let entered = slot.close();
        let epoch = self.epoch;
        let caught_up = || slot.finished(epoch, entered, true);
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

/// Numbers the next collective of the general protocol (never 0). Every collective, of
/// either path, takes a number, so that the tags stay the same on every rank.
pub(crate) fn next_seq(comm: &SimpleCommunicator) -> u32 {
    let seq = match comm.coll_seq.get().wrapping_add(1) {
        0 => 1,
        s => s,
    };
    comm.coll_seq.set(seq);
    seq
}

impl SimpleCommunicator {
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
pub(crate) unsafe fn copy_bytes(
    comm: &SimpleCommunicator,
    src: *const u8,
    dst: *mut u8,
    bytes: usize,
) {
    if bytes == 0 || src == dst.cast_const() {
        return;
    }
    // SAFETY: forwarded to the caller.
    unsafe { crate::stealing::copy(comm.shared(), comm.ep.me, src, dst, bytes) }
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
mod tests;
