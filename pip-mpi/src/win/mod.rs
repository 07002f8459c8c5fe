//! One-sided communication (windows), as loads and stores in the shared address space.
//!
//! Every rank of a PiP job can address every other rank's memory, so a put is a `memcpy`
//! into the target's window, a get a `memcpy` out of it, and an accumulate a read-modify-write
//! of the target's elements under a lock. What remains of MPI's one-sided model is the
//! synchronisation: who may touch which window when, and that data written before a
//! synchronisation call is visible after the matching one. This module's headings are the
//! protocols; the code's `// SYNC(win#...)` comments name them.
//!
//! | file | what it does |
//! |---|---|
//! | [`create`] | `MPI_Win_create`, `_allocate`, `_create_dynamic`, `_attach`, `_detach`, `_free`, `_get_attr`, `_get_group` |
//! | [`control`] | the shared control block: lock words, accumulate locks, post and complete counters |
//! | [`rma`] | `MPI_Put`, `MPI_Get`: address arithmetic, range checks, the copies |
//! | [`acc`] | `MPI_Accumulate`, `MPI_Get_accumulate`, `MPI_Fetch_and_op`, `MPI_Compare_and_swap` |
//! | [`sync`] | `MPI_Win_fence`, `_lock`, `_unlock`, `_lock_all`, `_unlock_all`, `_flush*`, `_sync` |
//! | [`pscw`] | `MPI_Win_post`, `_start`, `_complete`, `_wait`, `_test` |
//!
//! # Windows
//!
//! Creating a window is collective over a communicator. The window duplicates the
//! communicator's pip-comm communicator (its fences and its free run there, apart from the
//! program's traffic), and every rank all-gathers every rank's `(base, size, disp_unit)`, so an
//! origin computes a target address as `base + disp * disp_unit` without asking the target.
//! Rank 0 of the window allocates one [control block](control::Control) and broadcasts its
//! address; `MPI_Win_free` is a barrier, after which rank 0 frees it (for a dynamic window,
//! after each rank freed its region list and a second barrier). Memory is freed by the
//! rank that allocated it (in namespace isolation each task has an allocator of its own): the
//! control block by rank 0, an `MPI_Win_allocate` buffer and a dynamic window's region list
//! by their owner.
//!
//! A dynamic window (`MPI_Win_create_dynamic`) has no base and a `disp_unit` of 1: a target
//! displacement is an absolute address (`MPI_Get_address`), and the target range must lie in
//! one region the target attached (`MPI_ERR_RMA_RANGE` otherwise). Each rank's list of
//! attached regions is in its slot of the control block, behind that slot's region lock
//! ([Spin locks](#spin-locks)): its owner changes it, origins read it.
//!
//! The window table is per rank (a thread-local, as every table of the library); a window
//! handle is an int. Each rank also keeps its *epochs* (below), to refuse a put outside any
//! with `MPI_ERR_RMA_SYNC`.
//!
//! # Epochs
//!
//! An origin may access target `t` when one of these is open on its side: a fence epoch
//! (after an `MPI_Win_fence` without `MPI_MODE_NOSUCCEED`), a lock on `t` (`MPI_Win_lock`), a
//! lock on every target (`MPI_Win_lock_all`), or an access epoch of `MPI_Win_start` whose group
//! holds `t`. Opening a lock epoch on a target already locked, or a second start, unlocking a
//! target not locked, completing without a start, waiting without a post: `MPI_ERR_RMA_SYNC`.
//!
//! # Memory model
//!
//! Puts, gets and accumulates complete when the call returns (the copy is done), so
//! `MPI_Win_flush*` and `MPI_Win_sync` are only a full memory fence. The guarantee MPI gives,
//! "what an origin wrote before ending its epoch is visible to the target (and to later
//! origins) after the matching synchronisation", is a happens-before edge each protocol makes
//! with a Release operation on the side that ends an epoch and an Acquire operation, on the
//! same atomic word, on the side that begins the next:
//!
//! | ends (Release) | begins (Acquire) | word |
//! |---|---|---|
//! | `MPI_Win_unlock`, `_unlock_all` | a later `MPI_Win_lock`/`_lock_all` on that target | the target's [lock word](#lock-word) |
//! | an accumulate | the next accumulate on that target | the target's accumulate lock ([Spin locks](#spin-locks)) |
//! | `MPI_Win_fence` (every rank's stores before it) | every rank, after the same fence | pip-comm's barrier, with a `SeqCst` fence on each side ([Fence](#fence)) |
//! | `MPI_Win_post` (the target's stores before it) | the origin's `MPI_Win_start` | the post counter of (target, origin) ([Post, start, complete, wait](#post-start-complete-wait)) |
//! | `MPI_Win_complete` (the origin's puts) | the target's `MPI_Win_wait`/`_test` | the target's complete counter |
//!
//! The window is in MPI's *unified* model (`MPI_WIN_MODEL` is `MPI_WIN_UNIFIED`): public and
//! private copies are the same memory. A target's own loads and stores of its window are
//! ordered with the origins' accesses by the same edges when the target takes part in the
//! synchronisation (locks its own window, fences, waits); otherwise, as the standard's unified
//! model says, it needs `MPI_Win_sync` and some other synchronisation (a barrier, a message)
//! that orders it after the origin's epoch.
//!
//! # Lock word
//!
//! Each target has one 32-bit lock word in the control block: 0 is free, [`control::WRITER`]
//! (bit 31) is held exclusively, any other value counts the shared holders.
//!
//! 1. *Exclusive lock*: compare-exchange 0 → `WRITER` with Acquire, retried (with
//!    [backoff](pip_core::sync::backoff)) until it succeeds.
//! 2. *Shared lock*: load; if `WRITER` is clear, compare-exchange `v` → `v + 1` with Acquire;
//!    retried likewise.
//! 3. *Exclusive unlock*: store 0 with Release.
//! 4. *Shared unlock*: `fetch_sub(1)` with Release.
//!
//! Every change is a read-modify-write except the exclusive unlock, which only the holder can
//! make while no one else changes the word; so each release sequence continues through the
//! later shared lockers' and unlockers' RMWs, and whoever takes the lock next (its Acquire
//! reads the last value) has every earlier holder's stores before it. `MPI_MODE_NOCHECK`
//! skips the word (the program promises no conflicting lock). Shared holders do not exclude
//! each other: concurrent puts to the same location under shared locks are a program error, as
//! in MPI. Writers are not preferred: a steady stream of shared lockers can delay an exclusive
//! one.
//!
//! # Spin locks
//!
//! Two more words per target are plain spin locks (0 free, 1 held; compare-exchange 0 → 1 with
//! Acquire, store 0 with Release): the *accumulate lock*, held for the whole of an accumulate,
//! get-accumulate, fetch-and-op or compare-and-swap on that target, which makes those
//! element-wise atomic with respect to each other (and orders them); and the *region lock*,
//! held while a dynamic window's owner changes its region list and while an origin searches it.
//!
//! # Fence
//!
//! `MPI_Win_fence` is `fence(SeqCst)`, a barrier on the window's communicator, `fence(SeqCst)`:
//! every rank's stores (its own and its puts into others) before the fence happen before
//! every rank's accesses after it. pip-comm's barrier is itself a release/acquire protocol; the
//! fences make the edge explicit here.
//!
//! # Post, start, complete, wait
//!
//! Generalised active target synchronisation uses two kinds of counters in the control block:
//! `posted[t][o]` for each (target, origin) pair, and `completed[t]` for each target.
//!
//! 1. `MPI_Win_post(group)` on target `t`: for each origin `o` of the group,
//!    `posted[t][o].fetch_add(1)` with Release (the target's stores so far are published).
//! 2. `MPI_Win_start(group)` on origin `o`: for each target `t` of the group, wait until
//!    `posted[t][o]` (loaded with Acquire) is non-zero, then `fetch_sub(1)` (Relaxed: only `o`
//!    takes from this counter, and the Acquire load already made the edge). Each post is
//!    consumed by exactly one start, so a start never takes an earlier epoch's post.
//! 3. `MPI_Win_complete` on origin `o`: for each target `t` of its start group,
//!    `completed[t].fetch_add(1)` with Release (after its puts).
//! 4. `MPI_Win_wait` on target `t` (posted to `k` origins): wait until `completed[t]` (loaded
//!    with Acquire) is at least `k`, then `fetch_sub(k)` with Acquire. The increments of the `k`
//!    origins are RMWs of one word, so the load that sees `k` synchronises with all of them.
//!    `MPI_Win_test` does one check of the same condition.
//!
//! An origin cannot complete twice towards `t` before `t`'s wait, since its next start needs
//! `t`'s next post, which comes after the wait. With `MPI_MODE_NOCHECK` (which MPI requires on
//! both the post and the matching start) the post counters are neither raised nor awaited.
//!
//! # Model checking
//!
//! The `loom_*` tests (`tests.rs`) run [`control`]'s lock word and counters under loom, with
//! a loom cell standing for window memory: two exclusive lockers, a shared reader against a
//! writer, and a post/start/complete/wait round whose accesses must be ordered. Weakening any
//! Release or Acquire above makes them report a data race.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p pip-mpi --lib --release loom_
//! ```

mod acc;
mod control;
mod create;
mod pscw;
mod rma;
mod sync;

#[cfg(test)]
mod tests;

use crate::error::{fail, Result, MPI_ERR_RANK, MPI_ERR_RMA_SYNC, MPI_ERR_WIN};
use crate::handle::{Handle, MPI_PROC_NULL, MPI_WIN_FLAVOR_DYNAMIC, MPI_WIN_NULL};
use crate::state::Table;
use control::Control;
use pip_comm::SimpleCommunicator;
use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::rc::Rc;

/// What an origin knows of one target: where its window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target {
    /// The address of the window's first byte (0 for a dynamic window).
    pub base: usize,
    /// The window's size in bytes (0 for a dynamic window).
    pub size: usize,
    /// The unit of a target displacement, in bytes.
    pub disp_unit: usize,
}

/// The values `MPI_Win_get_attr` hands out pointers to; boxed, so they stay put.
#[derive(Debug)]
pub struct Attrs {
    pub base: *mut c_void,
    pub size: isize,
    pub disp_unit: c_int,
    pub flavor: c_int,
    pub model: c_int,
}

/// A lock this rank holds on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// `MPI_LOCK_EXCLUSIVE` (the lock word's `WRITER` bit).
    Exclusive,
    /// `MPI_LOCK_SHARED` (one of the lock word's shared holders).
    Shared,
    /// Locked with `MPI_MODE_NOCHECK`: the lock word was not touched.
    NoCheck,
}

/// This rank's open epochs on a window (see [Epochs](self#epochs)).
#[derive(Debug, Default)]
pub struct Epochs {
    /// A fence epoch is open.
    pub fence: bool,
    /// The locks held, by target rank.
    pub locks: Vec<Option<Held>>,
    /// `MPI_Win_lock_all` is in force (with `MPI_MODE_NOCHECK` when the flag is set).
    pub lock_all: Option<bool>,
    /// The targets of the open `MPI_Win_start` epoch.
    pub started: Option<Vec<c_int>>,
    /// The origins of the open `MPI_Win_post` exposure epoch.
    pub posted: Option<Vec<c_int>>,
}

/// One window of this rank.
pub struct Win {
    /// The duplicate of the window's communicator (fences, free).
    pub pc: SimpleCommunicator,
    /// This rank's number in it.
    pub rank: c_int,
    /// Where every rank's window is.
    pub targets: Vec<Target>,
    /// The shared control block (owned by rank 0; see [Windows](self#windows)).
    ctl: *const Control,
    /// An `MPI_Win_allocate` buffer, freed by `MPI_Win_free`.
    pub allocated: Option<(*mut u8, std::alloc::Layout)>,
    /// `MPI_Win_get_attr`'s values.
    pub attrs: Box<Attrs>,
    /// This rank's epochs.
    pub epochs: RefCell<Epochs>,
    /// The window's ranks as world ranks, in window rank order (to read groups: post, start,
    /// `MPI_Win_get_group`).
    pub members: std::rc::Rc<[i32]>,
}

impl Win {
    /// The number of ranks.
    pub fn size(&self) -> c_int {
        self.targets.len() as c_int
    }

    /// The shared control block.
    pub fn ctl(&self) -> &Control {
        // SAFETY: rank 0 frees the block only in MPI_Win_free, after a barrier that every
        // rank reaches after its last use of the window (see the module's "Windows").
        unsafe { &*self.ctl }
    }

    /// True for a window of `MPI_Win_create_dynamic`.
    pub fn is_dynamic(&self) -> bool {
        self.attrs.flavor == MPI_WIN_FLAVOR_DYNAMIC
    }

    /// Checks `rank` as a target: `Ok(None)` for `MPI_PROC_NULL` (the operation does nothing),
    /// `MPI_ERR_RANK` outside the window's ranks.
    pub fn target(&self, rank: c_int) -> Result<Option<usize>> {
        if rank == MPI_PROC_NULL {
            return Ok(None);
        }
        if rank < 0 || rank >= self.size() {
            return fail(
                MPI_ERR_RANK,
                format!(
                    "target rank {rank} is not in the window's communicator of {} ranks",
                    self.size()
                ),
            );
        }
        Ok(Some(rank as usize))
    }

    /// Fails with `MPI_ERR_RMA_SYNC` unless an epoch gives this rank access to `target`.
    pub fn check_access(&self, target: usize, what: &str) -> Result<()> {
        let e = self.epochs.borrow();
        let t = target as c_int;
        let open = e.fence
            || e.lock_all.is_some()
            || e.locks.get(target).is_some_and(|l| l.is_some())
            || e.started.as_ref().is_some_and(|g| g.contains(&t));
        if open {
            Ok(())
        } else {
            fail(
                MPI_ERR_RMA_SYNC,
                format!(
                    "{what} to target {t} outside an access epoch: open one with MPI_Win_fence, \
                     MPI_Win_lock, MPI_Win_lock_all or MPI_Win_start first"
                ),
            )
        }
    }
}

thread_local! {
    static WINS: RefCell<Table<Rc<Win>>> = const { RefCell::new(Table::new(1)) };
}

/// The window of handle `h`.
pub fn get(h: Handle) -> Result<Rc<Win>> {
    crate::state::require_running()?;
    match WINS.with(|t| t.borrow().get(h).cloned()) {
        Some(w) => Ok(w),
        None if h == MPI_WIN_NULL => fail(MPI_ERR_WIN, "the window is MPI_WIN_NULL"),
        None => fail(MPI_ERR_WIN, format!("{h} is not a window of this rank")),
    }
}

/// Stores a new window and returns its handle.
fn insert(w: Win) -> Handle {
    WINS.with(|t| t.borrow_mut().insert(Rc::new(w)))
}

/// Takes the window of handle `h` out of the table.
fn remove(h: Handle) -> Option<Rc<Win>> {
    WINS.with(|t| t.borrow_mut().remove(h))
}
