//! The small-payload path of the collectives: every rank stages its contribution in its own
//! region of the communicator's collective lines, publishes one flag, and reads (copies or
//! folds) what it needs from the others' regions. The protocol (who writes what, in which
//! order, and why a region can be reused) is in the crate-private `coll_lines` module; this
//! module drives its steps through a [`Call`], and its submodules are the collectives.
//!
//! # Choosing the path
//!
//! A collective takes this path when its communicator has a block and the payload that one
//! rank stages fits a region ([`fits`]): at most `coll_lines::capacity` bytes (2 KiB per rank up
//! to 16 ranks, 256 bytes from 128 ranks), the element type aligned to at most 16 bytes. The
//! staged payload is: a rank's vector for a broadcast (the root's), a reduction and a gather,
//! the whole send buffer for an all-to-all and a scatter (the root's, `size` pieces). Every
//! rank decides from its own arguments; ranks whose arguments disagree across the limit meet
//! as described in the protocol's "general path" section and report the mismatch.
//!
//! Larger payloads take the general protocol (the `coll_slot` module), which lends the ranks'
//! own buffers and moves each byte once; it still numbers the collective here
//! ([`Call::begin_large`]).
//!
//! # Who reads whom, and who reports
//!
//! | collective | stages | reads (and compares) |
//! |---|---|---|
//! | all-reduce, all-gather, all-to-all | everyone | everyone |
//! | reduce | everyone | the root reads everyone; the others read nothing |
//! | gather | everyone but the root | the root reads everyone; the others the root's flag |
//! | broadcast, scatter | the root | the others read the root |
//! | barrier (derived communicators) | nobody (a flag) | everyone |
//!
//! A rank compares what it reads (the flag's kind, root, failure and path bits; the shape's
//! element size, count and operation) with its own arguments before reading any payload, and
//! reports the first difference; as on the general path, only the ranks that read see a
//! mismatch (a reduce's non-roots never do). A rank whose own arguments are wrong publishes
//! its flag with the failure bit and no payload, so that the others report
//! [`Error::CollectivePeer`] and everyone keeps the same numbering.

mod copy;
mod reduce;

pub(crate) use copy::{all_gather, all_to_all, barrier, broadcast, gather, scatter, Args};
pub(crate) use reduce::{reduce, Reduction};

use super::op;
use crate::coll_lines::{at_least, code_of, seq_of, Lines, FAILED, LARGE, REGIONS};
use crate::coll_slot::Kind;
use crate::watchdog::What;
use crate::world::SimpleCommunicator;
use crate::{Error, Rank, Result};
use std::cell::Cell;

/// The kind code of the barrier (not a [`Kind`]: it has no general-path descriptor).
const BARRIER: u32 = 31;

/// True if a collective whose rank stages `bytes` bytes, read in place as elements aligned to
/// `align` bytes (1 when only copied), takes this path on `comm`.
#[inline]
pub(crate) fn fits(comm: &SimpleCommunicator, align: usize, bytes: usize) -> bool {
    align <= 16 && comm.lines.as_ref().is_some_and(|l| bytes <= l.lines.cap)
}

/// A flag's code: the collective's kind and root, and the bits.
#[inline]
fn code(kind: u32, root: Rank) -> u32 {
    (kind << 24) | (root as u32 & 0xFFFF)
}

/// The name of a code's collective, as in messages.
fn kind_name(code: u32) -> &'static str {
    match code >> 24 {
        BARRIER => "barrier",
        k => Kind::from_u32(k).map_or("another collective", Kind::name),
    }
}

/// A rank's arguments, as compared with a peer's in step 4.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// The flag's code, without the bits.
    pub(crate) code: u32,
    pub(crate) count: usize,
    pub(crate) elem: usize,
    pub(crate) op: u32,
}

impl Shape {
    fn new(kind: u32, root: Rank, count: usize, elem: usize, op: u32) -> Shape {
        Shape {
            code: code(kind, root),
            count,
            elem,
            op,
        }
    }
}

/// What differs between rank `r`'s flag `word` and shape (in `lines`' region) and ours, if
/// anything. `rooted`: the root is compared; `count`: the count is compared.
fn mismatch(
    r: u32,
    word: u64,
    theirs: (u64, u64, u32),
    mine: &Shape,
    count: bool,
) -> Option<Error> {
    let rank = r as Rank;
    let c = code_of(word);
    if c & FAILED != 0 {
        return Some(Error::CollectivePeer { rank });
    }
    let (their_count, their_elem, their_op) = theirs;
    let numbers = |what, ours: u64, theirs: u64| Error::CollectiveMismatch {
        what,
        rank,
        ours,
        theirs,
    };
    if c >> 24 != mine.code >> 24 {
        return Some(Error::CollectiveNameMismatch {
            what: "the collective",
            rank,
            ours: kind_name(mine.code),
            theirs: kind_name(c),
        });
    }
    if c & 0xFFFF != mine.code & 0xFFFF {
        return Some(numbers(
            "the root",
            u64::from(mine.code & 0xFFFF),
            u64::from(c & 0xFFFF),
        ));
    }
    if their_elem != mine.elem as u64 {
        return Some(numbers("the element size", mine.elem as u64, their_elem));
    }
    if (count || c & LARGE != 0) && their_count != mine.count as u64 {
        return Some(numbers("the element count", mine.count as u64, their_count));
    }
    if their_op != mine.op {
        return Some(Error::CollectiveNameMismatch {
            what: "the operation",
            rank,
            ours: op::code_name(mine.op),
            theirs: op::code_name(their_op),
        });
    }
    // Same arguments, different paths: only a count can do that.
    (c & LARGE != 0).then(|| numbers("the element count", mine.count as u64, their_count))
}

/// One rank's part in one collective on the lines: the steps of the `coll_lines` protocol.
pub(crate) struct Call<'c> {
    pub(crate) comm: &'c SimpleCommunicator,
    lines: Lines,
    /// The collective's number.
    k: u32,
    pub(crate) me: u32,
    pub(crate) n: u32,
}

impl<'c> Call<'c> {
    /// Numbers the next collective and does step 1 (waits until every rank published the
    /// previous one). `None` when the communicator has no block.
    pub(crate) fn begin(comm: &'c SimpleCommunicator) -> Result<Option<Call<'c>>> {
        if comm.lines.is_none() {
            return Ok(None);
        }
        // The general protocol's number moves too (its `Session` takes the next one).
        super::next_seq(comm);
        Call::start(comm)
    }

    /// [`Call::begin`] without the general protocol's number.
    fn start(comm: &'c SimpleCommunicator) -> Result<Option<Call<'c>>> {
        let Some(cl) = comm.lines.as_ref() else {
            return Ok(None);
        };
        let k = cl.seq.get().wrapping_add(1);
        cl.seq.set(k);
        let c = Call {
            comm,
            lines: cl.lines,
            k,
            me: comm.me,
            n: comm.n,
        };
        // Step 1: everyone has published `k - R + 1`. When that is not known, wait until
        // everyone has published `k - 1` (more than needed): one look at the latest flags
        // then clears the next `R - 2` collectives too, and a root that ran ahead of its
        // readers is brought back to one ahead instead of looking at every collective.
        if !at_least(cl.low.get(), k.wrapping_sub(REGIONS - 1)) {
            let prev = k.wrapping_sub(1);
            c.wait_every(prev)?;
            cl.low.set(prev);
        }
        Ok(Some(c))
    }

    /// Steps 1 and 3 for a collective of the general path: its number, published with
    /// [`LARGE`] and its shape, so that ranks of the small path meet it. Returns the number.
    /// It wakes nobody: the caller publishes its descriptor next (`SeqCst`) and then wakes
    /// the communicator's ranks, which covers this store too (a second wake would only make
    /// a sleeping peer wake up twice).
    pub(crate) fn begin_large(
        comm: &'c SimpleCommunicator,
        kind: Kind,
        root: Rank,
        count: usize,
        elem: usize,
        op: u32,
    ) -> Result<Option<(u32, Shape)>> {
        let Some(c) = Call::start(comm)? else {
            return Ok(None);
        };
        let shape = Shape::new(kind as u32, root, count, elem, op);
        let head = c.lines.head(c.me, c.k);
        head.set_shape(count, elem, op);
        head.publish(c.k, shape.code | LARGE);
        Ok(Some((c.k, shape)))
    }

    /// This rank's payload area (step 2).
    #[inline]
    pub(crate) fn mine(&self) -> *mut u8 {
        self.lines.data(self.me, self.k)
    }

    /// Rank `r`'s payload (step 4, after [`Call::wait`]).
    #[inline]
    pub(crate) fn theirs(&self, r: u32) -> *const u8 {
        self.lines.data(r, self.k)
    }

    /// Steps 2 (the shape) and 3: publishes this rank's part, with `bits` (`FAILED`, `LARGE`).
    #[inline]
    pub(crate) fn publish(&self, shape: &Shape, bits: u32) {
        let head = self.lines.head(self.me, self.k);
        head.set_shape(shape.count, shape.elem, shape.op);
        head.publish(self.k, shape.code | bits);
        for r in (0..self.n).filter(|&r| r != self.me) {
            crate::wait::wake_rank(self.comm.shared(), self.comm.world_rank(r));
        }
    }

    /// Step 4's wait for rank `r`, then the comparison of its flag and shape with ours
    /// (`count`: compare the counts too). An error names the difference; nothing may be read.
    #[inline]
    pub(crate) fn wait(&self, r: u32, mine: &Shape, count: bool) -> Result<()> {
        let word = self.wait_seq(r, self.k)?;
        self.check(r, word, mine, count)
    }

    /// Compares rank `r`'s flag `word` of this collective, and its shape, with ours.
    #[inline]
    fn check(&self, r: u32, word: u64, mine: &Shape, count: bool) -> Result<()> {
        let theirs = self.lines.head(r, self.k).shape();
        if code_of(word) == mine.code && theirs == (mine.count as u64, mine.elem as u64, mine.op) {
            return Ok(());
        }
        match mismatch(r, word, theirs, mine, count) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Step 4 for every other rank, in one wait (a rank that sleeps is woken once everyone has
    /// published, not once per peer); then every rank is known to have published this
    /// collective (step 1 of the next one is skipped). Returns the first mismatch.
    pub(crate) fn wait_all(&self, mine: &Shape, count: bool) -> Result<()> {
        let (k, me, n) = (self.k, self.me, self.n);
        self.wait_every(k)?;
        let mut first = Ok(());
        for r in (0..n).filter(|&r| r != me) {
            let word = self.lines.head(r, k).word(false);
            if let Err(e) = self.check(r, word, mine, count) {
                first = first.and(Err(e));
            }
        }
        if let Some(cl) = self.comm.lines.as_ref() {
            cl.low.set(k);
        }
        first
    }

    /// Waits until every other rank's flag of collective `k` reaches `k`, in one wait.
    fn wait_every(&self, k: u32) -> Result<()> {
        let (me, n) = (self.me, self.n);
        // Ranks below `next` have published.
        let next = Cell::new(0u32);
        let advance = |seqcst: bool| {
            let mut r = next.get();
            while r < n && (r == me || at_least(seq_of(self.lines.head(r, k).word(seqcst)), k)) {
                r += 1;
            }
            next.set(r);
            r == n
        };
        if advance(false) {
            return Ok(());
        }
        let comm = self.comm;
        let tag = pip_core::sync::ticket::Ticket::new(comm.ctx, k).raw();
        comm.wait_until(
            What::Collective(Some(comm.world_rank(next.get())), tag),
            true,
            || advance(false).then_some(()),
            || advance(true),
        )
    }

    /// Waits until rank `r`'s flag of collective `k` reaches `k`; returns the word.
    fn wait_seq(&self, r: u32, k: u32) -> Result<u64> {
        let head = self.lines.head(r, k);
        if let Some(w) = Some(head.word(false)).filter(|&w| at_least(seq_of(w), k)) {
            return Ok(w);
        }
        let comm = self.comm;
        let tag = pip_core::sync::ticket::Ticket::new(comm.ctx, k).raw();
        comm.wait_until(
            What::Collective(Some(comm.world_rank(r)), tag),
            true,
            || Some(head.word(false)).filter(|&w| at_least(seq_of(w), k)),
            || at_least(seq_of(head.word(true)), k),
        )
    }
}

/// The barrier on the communicator's lines; `None` for the world (whose counter barrier, in
/// the `barrier` module, is faster: 0.07 against 0.10 us with 2 ranks) and for a communicator
/// without a block.
pub(crate) fn lines_barrier(comm: &SimpleCommunicator) -> Option<Result<()>> {
    if comm.is_world() {
        return None;
    }
    match Call::begin(comm) {
        Ok(Some(c)) => Some(barrier(c)),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    }
}

/// For a rank of the general path in collective `k`: every other rank is known to have
/// published collective `k` (it published its descriptor, which follows its flag), so the
/// next collective's step 1 is skipped.
pub(crate) fn everyone_published(comm: &SimpleCommunicator, k: u32) {
    if let Some(cl) = comm.lines.as_ref() {
        if cl.seq.get() == k {
            cl.low.set(k);
        }
    }
}

/// For a rank of the general path in collective `k`: the mismatch, if rank `r` published
/// collective `k` on the small path (it will never publish a descriptor). `seqcst`: the
/// flag is loaded as a sleeper's re-check.
pub(crate) fn diverged(
    comm: &SimpleCommunicator,
    k: u32,
    r: u32,
    mine: &Shape,
    seqcst: bool,
) -> Option<Error> {
    let cl = comm.lines.as_ref()?;
    let head = cl.lines.head(r, k);
    let word = head.word(seqcst);
    if !at_least(seq_of(word), k) || code_of(word) & LARGE != 0 {
        return None;
    }
    let theirs = head.shape();
    Some(
        mismatch(r, word, theirs, mine, true).unwrap_or(Error::CollectiveMismatch {
            what: "the element count",
            rank: r as Rank,
            ours: mine.count as u64,
            theirs: theirs.0,
        }),
    )
}

/// The flag's code of a collective, for the submodules.
#[inline]
pub(crate) fn shape(kind: Kind, root: Rank, count: usize, elem: usize, op: u32) -> Shape {
    Shape::new(kind as u32, root, count, elem, op)
}

/// The barrier's shape.
pub(crate) fn barrier_shape() -> Shape {
    Shape::new(BARRIER, 0, 0, 0, 0)
}

#[cfg(test)]
mod tests;
