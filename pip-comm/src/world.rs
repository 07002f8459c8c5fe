//! Getting a world: [`run`] (ranks as threads of this program) or [`world`] (ranks as the
//! tasks of a PiP job), and the [`Communicator`] that each rank holds.

use crate::config::{Params, WaitPolicy};
use crate::matching::Unexpected;
use crate::shared::{OwnedShared, Shared};
use crate::{Error, Rank, Result};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The largest world supported.
pub const MAX_RANKS: usize = pip_core::MAX_TASKS;

/// The name under which task 0 exports the world state in a PiP job.
pub const WORLD_EXPORT_NAME: &str = "pip-comm/world";

/// A rank's handle on a group of ranks that exchange messages: for now the world (every rank
/// of the job).
///
/// Each rank holds exactly one `Communicator` for its world, obtained from [`run`] or
/// [`world`]. It is neither `Send` nor `Sync`: it carries the rank's private matching state,
/// so it stays on the rank's thread.
///
/// ```
/// let sizes = pip_comm::run(3, |world| (world.rank(), world.size())).unwrap();
/// assert_eq!(sizes, vec![(0, 3), (1, 3), (2, 3)]);
/// ```
pub struct Communicator {
    shared: NonNull<Shared>,
    /// Keeps a `run` world alive while any rank holds it (`None` in a PiP job, whose world
    /// lives until the job ends).
    _owner: Option<Arc<OwnedShared>>,
    pub(crate) me: u32,
    pub(crate) n: u32,
    pub(crate) params: Params,
    pub(crate) policy: WaitPolicy,
    /// The ring from this rank to each destination, once created.
    pub(crate) out_rings: Box<[Cell<Option<NonNull<u8>>>]>,
    /// The ring from each source to this rank, once seen.
    pub(crate) in_rings: Box<[Cell<Option<NonNull<u8>>>]>,
    /// Messages sent to each destination so far (the next slot to use).
    pub(crate) send_seq: Box<[Cell<u32>]>,
    /// Messages taken from each source's ring so far (the next slot to read).
    pub(crate) recv_seq: Box<[Cell<u32>]>,
    pub(crate) unexpected: RefCell<Unexpected>,
    /// Where an any-source receive starts looking (round robin, so no sender starves).
    pub(crate) next_any: Cell<u32>,
    /// The last rendezvous ticket used.
    pub(crate) ticket: Cell<u32>,
}

impl Communicator {
    fn new(shared: NonNull<Shared>, owner: Option<Arc<OwnedShared>>, me: u32) -> Communicator {
        // SAFETY: the block is live: owned by `owner`, or a PiP job's block that is never freed.
        let s = unsafe { shared.as_ref() };
        let n = s.nranks();
        let cells = |v| (0..n).map(|_| Cell::new(v)).collect::<Box<[_]>>();
        Communicator {
            shared,
            _owner: owner,
            me,
            n,
            params: s.params,
            policy: WaitPolicy::from_env(n as usize),
            out_rings: (0..n).map(|_| Cell::new(None)).collect(),
            in_rings: (0..n).map(|_| Cell::new(None)).collect(),
            send_seq: cells(0),
            recv_seq: cells(0),
            unexpected: RefCell::new(Unexpected::default()),
            next_any: Cell::new(0),
            ticket: Cell::new(0),
        }
    }

    /// The world's shared state.
    #[inline]
    pub(crate) fn shared(&self) -> &Shared {
        // SAFETY: see `new`: the block outlives every Communicator on it.
        unsafe { self.shared.as_ref() }
    }

    /// This rank's number, `0..size()`.
    ///
    /// ```
    /// pip_comm::run(2, |world| assert!(world.rank() < 2)).unwrap();
    /// ```
    pub fn rank(&self) -> Rank {
        self.me as Rank
    }

    /// The number of ranks.
    ///
    /// ```
    /// pip_comm::run(4, |world| assert_eq!(world.size(), 4)).unwrap();
    /// ```
    pub fn size(&self) -> Rank {
        self.n as Rank
    }

    /// The message size (bytes) up to which sends are eager: copied into a slot, so the send
    /// returns at once. Larger sends wait until the receiver has copied the data.
    pub fn eager_limit(&self) -> usize {
        self.params.eager_max as usize
    }

    /// Fails with [`Error::Aborted`] if a rank of the world panicked.
    pub(crate) fn check_aborted(&self) -> Result<()> {
        match self.shared().aborted_by() {
            None => Ok(()),
            Some(r) => Err(Error::Aborted { rank: r as Rank }),
        }
    }
}

impl std::fmt::Debug for Communicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Communicator")
            .field("rank", &self.me)
            .field("size", &self.n)
            .field("params", &self.params)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Runs `n` ranks as threads of this program and returns each rank's result, in rank order.
///
/// Every rank runs `f` with its own [`Communicator`]. The threads are scoped: `f` may borrow
/// from the caller. If a rank panics, the world is aborted (ranks blocked in pip-comm calls get
/// [`Error::Aborted`], or a panic from [`Communicator::barrier`]) and `run` returns
/// [`Error::RankPanicked`] for the rank that panicked first, once every thread has ended.
///
/// # Errors
///
/// [`Error::InvalidSize`] unless `1 <= n <= MAX_RANKS`; [`Error::RankPanicked`] as above.
///
/// # Examples
///
/// ```
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
    F: Fn(Communicator) -> R + Sync,
    R: Send,
{
    if n == 0 || n > MAX_RANKS {
        return Err(Error::InvalidSize {
            size: n,
            max: MAX_RANKS,
        });
    }
    let owner = Arc::new(OwnedShared::new(n as u32, Params::from_env()));
    let f = &f;
    let outcomes: Vec<std::result::Result<R, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n as u32)
            .map(|rank| {
                let (owner, for_errors) = (owner.clone(), owner.clone());
                std::thread::Builder::new()
                    .name(format!("rank {rank}"))
                    .spawn_scoped(scope, move || {
                        let comm = Communicator::new(owner.ptr(), Some(owner.clone()), rank);
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
            rank: first as Rank,
            message,
        });
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|_| unreachable!("no rank panicked")))
        .collect())
}

/// Marks the world aborted by `rank` (if it was not already) and wakes every sleeper.
pub(crate) fn abort(shared: &Shared, rank: u32) {
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

/// Set once this image's task has made its world.
static TASK_WORLD_TAKEN: AtomicBool = AtomicBool::new(false);

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
/// // Outside a PiP job there is no world to join.
/// assert!(matches!(pip_comm::world(), Err(pip_comm::Error::NotATask)));
/// ```
///
/// In a task (a `cdylib` run with `pip-exec -n 2 libprog.so`):
///
/// ```no_run
/// fn main_task() -> pip_comm::Result<()> {
///     let world = pip_comm::world()?;
///     if world.rank() == 0 {
///         world.process_at_rank(1).send(&42u64)?;
///     } else if world.rank() == 1 {
///         let (v, _) = world.process_at_rank(0).receive::<u64>()?;
///         assert_eq!(v, 42);
///     }
///     world.barrier();
///     Ok(())
/// }
/// pip_core::task_main!(main_task);
/// ```
pub fn world() -> Result<Communicator> {
    let me = match pip_core::pipid() {
        Ok(pip_core::PipId::Task(me)) => me,
        _ => return Err(Error::NotATask),
    };
    if TASK_WORLD_TAKEN.swap(true, Ordering::AcqRel) {
        return Err(Error::AlreadyInitialized);
    }
    let made = make_task_world(me);
    if made.is_err() {
        TASK_WORLD_TAKEN.store(false, Ordering::Release);
    }
    made
}

fn make_task_world(me: usize) -> Result<Communicator> {
    let n = pip_core::ntasks()?;
    if n == 0 || n > MAX_RANKS {
        return Err(Error::InvalidSize {
            size: n,
            max: MAX_RANKS,
        });
    }
    let shared = if me == 0 {
        let shared = Shared::create(n as u32, Params::from_env());
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
    Ok(Communicator::new(shared, None, me as u32))
}
