//! Getting a world: [`run`] (ranks as threads of this program), [`world`] (ranks as the
//! tasks of a PiP job) or [`singleton`] (a world of one, the caller's), and the
//! [`SimpleCommunicator`] that each rank holds.
//!
//! # Abort
//!
//! A rank of [`run`] that panics aborts its world: a compare-exchange moves the shared
//! `aborted` word from 0 to 1 + its rank (`SeqCst`: the first one wins, and it is the waker's
//! half of the bell's handshake, see the `wait` module), then every sleeper is woken. Waits
//! that may give up re-check the word before sleeping and return [`Error::Aborted`].
//!
//! # One world per task
//!
//! A task's first [`world`] call takes its task's flag (one per pipid, in this copy of
//! pip-comm) with an atomic swap; a second call by the same task fails. A call that fails to
//! make the world gives the flag back (release), so the task may try again. The flags are per
//! pipid, not one per copy, because a copy of pip-comm may serve several tasks: linked into a
//! shared library (such as a C MPI library) that every task of a `shared-libc` job shares, its
//! statics are the same for all of them.

use crate::coll_lines::CommLines;
use crate::config::{Params, WaitPolicy};
use crate::endpoint::Endpoint;
use crate::shared::{OwnedShared, Shared};
use crate::steal::StealStats;
use crate::stealing;
use crate::watchdog::What;
use crate::{Error, Rank, Result};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The largest world supported.
pub const MAX_RANKS: usize = pip_core::MAX_TASKS;

/// The name under which task 0 exports the world state in a PiP job.
pub const WORLD_EXPORT_NAME: &str = "pip-comm/world";

/// A rank's handle on a group of ranks that exchange messages: the world (every rank of the
/// job), or a communicator made from another with `duplicate` or `split_by_color` (rsmpi's
/// name for the same type).
///
/// Its operations are the methods of the traits of `pip_comm::traits` (bring them in with
/// `use pip_comm::prelude::*`): `Communicator` (rank, size, peers, new communicators) and
/// `CommunicatorCollectives` (the barrier and the collectives); see its trait
/// implementations below.
///
/// Each communicator has its own matching space: a message sent on one is never received on
/// another. Ranks are numbered `0..size()` within each communicator. A `SimpleCommunicator`
/// is neither `Send` nor `Sync`: it carries (a share of) the rank's private matching state,
/// so it stays on the rank's thread.
///
/// ```
/// use pip_comm::prelude::*;
///
/// let sizes = pip_comm::run(3, |world| (world.rank(), world.size())).unwrap();
/// assert_eq!(sizes, vec![(0, 3), (1, 3), (2, 3)]);
/// ```
pub struct SimpleCommunicator {
    /// The rank's engine, shared by all its communicators.
    pub(crate) ep: Rc<Endpoint>,
    /// This rank's number in this communicator.
    pub(crate) me: u32,
    /// The number of ranks in this communicator.
    pub(crate) n: u32,
    /// The context of this communicator's point-to-point messages; `ctx + 1` carries its own
    /// traffic (dup, split, barrier). The world's is 0.
    pub(crate) ctx: u32,
    /// This communicator's ranks as world ranks (`None` for the world).
    pub(crate) group: Option<Rc<Group>>,
    pub(crate) params: Params,
    pub(crate) policy: WaitPolicy,
    /// Collectives this rank has started on this communicator (see the `collective` module).
    pub(crate) coll_seq: std::cell::Cell<u32>,
    /// The communicator's block of collective lines, if it got one (see `crate::coll_lines`).
    pub(crate) lines: Option<CommLines>,
}

impl Drop for SimpleCommunicator {
    fn drop(&mut self) {
        if let Some(l) = &self.lines {
            self.shared().lines.give_back(l.entry);
        }
    }
}

impl SimpleCommunicator {
    fn new(
        shared: NonNull<Shared>,
        owner: Option<Arc<OwnedShared>>,
        me: u32,
        shared_allocator: bool,
    ) -> SimpleCommunicator {
        let ep = Rc::new(Endpoint::new(shared, owner, me, shared_allocator));
        let lines = Some(CommLines::new(&ep.shared().lines, 0, ep.n));
        SimpleCommunicator {
            me,
            n: ep.n,
            ctx: 0,
            group: None,
            params: ep.params,
            policy: ep.policy,
            coll_seq: Default::default(),
            lines,
            ep,
        }
    }

    /// The world's shared state.
    #[inline]
    pub(crate) fn shared(&self) -> &Shared {
        self.ep.shared()
    }

    /// True for the world communicator itself (not a dup of it).
    pub(crate) fn is_world(&self) -> bool {
        self.ctx == 0
    }

    /// The world rank of this communicator's rank `r` (`r < size`).
    #[inline]
    pub(crate) fn world_rank(&self, r: u32) -> u32 {
        match &self.group {
            None => r,
            Some(g) => g.world[r as usize],
        }
    }

    /// This communicator's rank of world rank `w`, which must belong to it.
    #[inline]
    pub(crate) fn local_rank(&self, w: u32) -> Rank {
        match &self.group {
            None => crate::rank::public(w),
            Some(g) => g.local[w as usize],
        }
    }

    /// Polls until `poll` gives a value (see `Endpoint::wait_until`): spins, yields, sleeps,
    /// moving incoming messages meanwhile; sleeps only while `ready()` is false.
    /// `what` names the wait (for the watchdog and the wait board).
    pub(crate) fn wait_until<T>(
        &self,
        what: What,
        abortable: bool,
        poll: impl FnMut() -> Option<T>,
        ready: impl Fn() -> bool,
    ) -> Result<T> {
        self.ep.wait_until(what, abortable, poll, ready)
    }

    /// This rank's number, `0..size()` (the crate's own shorthand for `Communicator::rank`).
    pub(crate) fn rank(&self) -> Rank {
        crate::rank::public(self.me)
    }

    /// The number of ranks (the crate's own shorthand for `Communicator::size`).
    pub(crate) fn size(&self) -> Rank {
        crate::rank::public(self.n)
    }

    /// The message size (bytes) up to which sends are eager: copied into a slot, so the send
    /// returns at once. Larger sends wait until the receiver has copied the data.
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(1, |world| assert!(world.eager_limit() > 0)).unwrap();
    /// ```
    pub fn eager_limit(&self) -> usize {
        self.params.eager_max as usize
    }

    /// Fails with [`Error::Aborted`] if a rank of the world panicked.
    #[allow(dead_code)] // for collectives
    pub(crate) fn check_aborted(&self) -> Result<()> {
        self.ep.check_aborted()
    }
}

/// Work stealing (see [`crate::steal`]).
impl SimpleCommunicator {
    /// Turns work stealing on or off for this rank (whether it offers its large copies and
    /// whether it copies others' while it waits). The default comes from `PIP_COMM_STEAL`
    /// (on unless `0`).
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     world.set_work_stealing(false);
    ///     assert!(!world.work_stealing());
    /// })
    /// .unwrap();
    /// ```
    pub fn set_work_stealing(&self, on: bool) {
        stealing::queue(self.shared(), self.ep.me).set_enabled(on);
    }

    /// Whether this rank takes part in work stealing.
    ///
    /// ```
    /// pip_comm::run(1, |world| {
    ///     let _ = world.work_stealing();
    /// })
    /// .unwrap();
    /// ```
    pub fn work_stealing(&self) -> bool {
        stealing::enabled(self.shared(), self.ep.me)
    }

    /// The chunks and bytes this rank has copied for other ranks since the world began.
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     let s = world.steal_stats();
    ///     assert!(s.bytes >= s.chunks);
    /// })
    /// .unwrap();
    /// ```
    pub fn steal_stats(&self) -> StealStats {
        // SYNC(steal#switching-it-off): statistics written relaxed by `stealing::help`.
        let q = stealing::queue(self.shared(), self.ep.me);
        StealStats {
            chunks: q.stolen_chunks.load(Ordering::Relaxed),
            bytes: q.stolen_bytes.load(Ordering::Relaxed),
        }
    }
}

/// The ranks of a communicator other than the world, as world ranks.
#[derive(Debug)]
pub(crate) struct Group {
    /// World rank of each of the communicator's ranks.
    pub(crate) world: Vec<u32>,
    /// The communicator's rank of each world rank (-1 when not a member).
    pub(crate) local: Vec<Rank>,
}

impl std::fmt::Debug for SimpleCommunicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimpleCommunicator")
            .field("rank", &self.me)
            .field("size", &self.n)
            .field("context", &self.ctx)
            .field("world_rank", &self.ep.me)
            .field("params", &self.params)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Runs `n` ranks as threads of this program and returns each rank's result, in rank order.
///
/// Every rank runs `f` with its own [`SimpleCommunicator`]. The threads are scoped: `f` may borrow
/// from the caller. If a rank panics, the world is aborted (ranks blocked in pip-comm calls get
/// [`Error::Aborted`], the barrier included) and `run` returns
/// [`Error::RankPanicked`] for the rank that panicked first, once every thread has ended.
///
/// # Errors
///
/// [`Error::InvalidSize`] unless `1 <= n <= MAX_RANKS`; [`Error::RankPanicked`] as above.
///
/// # Examples
///
/// ```
/// use pip_comm::prelude::*;
///
/// let out = pip_comm::run(2, |world| {
///     if world.rank() == 0 {
///         world.process_at_rank(1).send(&[1.5f64, 2.5])?;
///         Ok(0.0)
///     } else {
///         let (v, status) = world.process_at_rank(0).receive_vec::<f64>()?;
///         assert_eq!((status.source, status.count), (0, 2));
///         Ok(v.iter().sum())
///     }
/// })
/// .unwrap();
/// assert_eq!(out[1].as_ref().ok(), Some(&4.0));
/// # let _: &Vec<pip_comm::Result<f64>> = &out;
/// ```
pub fn run<R, F>(n: usize, f: F) -> Result<Vec<R>>
where
    F: Fn(SimpleCommunicator) -> R + Sync,
    R: Send,
{
    if n == 0 || n > MAX_RANKS {
        return Err(Error::InvalidSize {
            size: n,
            max: MAX_RANKS,
        });
    }
    crate::config::check_env(n)?;
    let owner = Arc::new(OwnedShared::new(n as u32, Params::from_env()?));
    // A wait board of our own, so that `pips waits` can read what the ranks wait for.
    let board = pip_core::waits::OwnBoard::create(n)?;
    let board = board.as_ref();
    let f = &f;
    let outcomes: Vec<std::result::Result<R, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n as u32)
            .map(|rank| {
                let (owner, for_errors) = (owner.clone(), owner.clone());
                std::thread::Builder::new()
                    .name(format!("rank {rank}"))
                    .spawn_scoped(scope, move || {
                        let _on_board = board.map(|b| b.enter(rank as usize));
                        let comm =
                            SimpleCommunicator::new(owner.ptr(), Some(owner.clone()), rank, true);
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(comm)));
                        r.map_err(|payload| {
                            abort(owner.get(), rank);
                            panic_message(payload.as_ref())
                        })
                    })
                    .map_err(|e| {
                        abort(for_errors.get(), rank);
                        format!("could not start the thread: {e}")
                    })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h.join().unwrap_or_else(|p| Err(panic_message(p.as_ref()))),
                Err(msg) => Err(msg),
            })
            .collect()
    });
    if let Some(first) = owner.get().aborted_by() {
        let message = match &outcomes[first as usize] {
            Err(m) => m.clone(),
            Ok(_) => String::from("(no message)"),
        };
        return Err(Error::RankPanicked {
            rank: crate::rank::public(first),
            message,
        });
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|_| unreachable!("no rank panicked")))
        .collect())
}

/// A world of one rank, owned by the caller: the world of a program that is neither a rank of
/// [`run`] nor a task of a PiP job, such as an MPI program started without a launcher (MPI's
/// singleton `MPI_Init`). Rank 0 of size 1, used on the calling thread; its shared state is
/// freed when the last communicator made from it (the world and its duplicates and splits) is
/// dropped. Each call makes a new, independent world. Its waits are not on a wait board.
///
/// # Errors
///
/// [`Error::Pip`] for a tunable in the environment that does not parse (a `PIP_COMM_*` or
/// `PIP_WAIT_*` variable, see pip-comm's README).
///
/// # Examples
///
/// ```
/// use pip_comm::prelude::*;
///
/// let world = pip_comm::singleton().unwrap();
/// assert_eq!((world.rank(), world.size()), (0, 1));
/// // Messages to oneself, collectives of one.
/// world.this_process().send(&7u32).unwrap();
/// assert_eq!(world.this_process().receive::<u32>().unwrap().0, 7);
/// let copy = world.duplicate().unwrap();
/// drop(world); // the state lives on in `copy`
/// let mut sum = 0u32;
/// copy.all_reduce_into(&5u32, &mut sum, SystemOperation::sum()).unwrap();
/// assert_eq!(sum, 5);
/// ```
pub fn singleton() -> Result<SimpleCommunicator> {
    crate::config::check_env(1)?;
    let owner = Arc::new(OwnedShared::new(1, Params::from_env()?));
    Ok(SimpleCommunicator::new(owner.ptr(), Some(owner), 0, true))
}

/// Marks the world aborted by `rank` (if it was not already) and wakes every sleeper.
pub(crate) fn abort(shared: &Shared, rank: u32) {
    // SYNC(world#abort): the first abort wins; SeqCst, the waker's half of the bell's handshake
    // with sleepers' re-check in `Shared::aborted_by`.
    let _ = shared
        .aborted
        .compare_exchange(0, rank + 1, Ordering::SeqCst, Ordering::SeqCst);
    crate::wait::wake_all_unconditionally(shared);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("(a panic payload that is not a string)")
    }
}

/// Set once task `pipid` has made its world (through this copy of pip-comm).
static TASK_WORLD_TAKEN: [AtomicBool; MAX_RANKS] = [const { AtomicBool::new(false) }; MAX_RANKS];

/// The world of a PiP job, from inside one of its tasks: rank = pipid, size = number of tasks.
///
/// Task 0 creates the shared world state and exports it under [`WORLD_EXPORT_NAME`]; the other
/// tasks wait for that export (so every task must call `world()`, and task 0 must not end
/// before the others have called it). Each task checks that the state was laid out by the same
/// build of pip-comm as its own. Call it once per task and keep the result.
///
/// # Errors
///
/// [`Error::NotATask`] outside a PiP task (use [`run`] there), [`Error::AlreadyInitialized`]
/// on a second call, [`Error::LayoutMismatch`] when task 0's program was built with a
/// different pip-comm, [`Error::Pip`] when the export or import fails (for example task 0
/// ended without calling `world()`).
///
/// # Examples
///
/// ```
/// use pip_comm::prelude::*;
/// // Outside a PiP job there is no world to join.
/// assert!(matches!(pip_comm::world(), Err(pip_comm::Error::NotATask)));
/// ```
///
/// In a task (a `cdylib` run with `pip-exec -n 2 libprog.so`):
///
/// ```no_run
/// use pip_comm::prelude::*;
///
/// fn main_task() -> pip_comm::Result<()> {
///     let world = pip_comm::world()?;
///     if world.rank() == 0 {
///         world.process_at_rank(1).send(&42u64)?;
///     } else if world.rank() == 1 {
///         let (v, _) = world.process_at_rank(0).receive::<u64>()?;
///         assert_eq!(v, 42);
///     }
///     world.barrier()?;
///     Ok(())
/// }
/// pip_core::task_main!(main_task);
/// ```
pub fn world() -> Result<SimpleCommunicator> {
    let me = match pip_core::pipid() {
        Ok(pip_core::PipId::Task(me)) => me,
        _ => return Err(Error::NotATask),
    };
    let Some(taken) = TASK_WORLD_TAKEN.get(me) else {
        return Err(Error::InvalidSize {
            size: me + 1,
            max: MAX_RANKS,
        });
    };
    // SYNC(world#one-world-per-task): the swap takes the task's flag; the release store gives it
    // back after a failure.
    if taken.swap(true, Ordering::AcqRel) {
        return Err(Error::AlreadyInitialized);
    }
    let made = make_task_world(me);
    if made.is_err() {
        // SYNC(world#one-world-per-task): gives the flag back.
        taken.store(false, Ordering::Release);
    }
    made
}

fn make_task_world(me: usize) -> Result<SimpleCommunicator> {
    let n = pip_core::ntasks()?;
    if n == 0 || n > MAX_RANKS {
        return Err(Error::InvalidSize {
            size: n,
            max: MAX_RANKS,
        });
    }
    crate::config::check_env(n)?;
    let shared = if me == 0 {
        let shared = Shared::create(n as u32, Params::from_env()?);
        pip_core::named_export(WORLD_EXPORT_NAME, shared.as_ptr())?;
        shared
    } else {
        let p: *mut Shared = pip_core::named_import(pip_core::PipId::Task(0), WORLD_EXPORT_NAME)?;
        let shared = NonNull::new(p).ok_or(Error::Pip(pip_core::Error::NullExport))?;
        // SAFETY: task 0 exported this address under pip-comm's name; whatever program it is,
        // the block starts with a readable header, which `check` validates first.
        unsafe { Shared::check(shared, n as u32)? };
        shared
    };
    // One heap for all tasks unless each has a private libc (see crate::owned).
    let shared_allocator = !matches!(pip_core::isolation(), Ok(pip_core::Isolation::Namespace));
    Ok(SimpleCommunicator::new(
        shared,
        None,
        me as u32,
        shared_allocator,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traits::Communicator;

    #[test]
    fn a_singleton_is_freed_with_its_last_communicator() {
        let world = singleton().unwrap();
        let owner = Arc::downgrade(world.ep.owner().expect("an owned world"));
        let copy = world.duplicate().unwrap();
        drop(world);
        assert!(owner.upgrade().is_some(), "freed while a duplicate lives");
        assert_eq!((copy.rank(), copy.size()), (0, 1));
        drop(copy);
        assert!(
            owner.upgrade().is_none(),
            "not freed with its last communicator"
        );
    }
}
