//! A rank's engine: its end of every ring, its unexpected and posted queues, its rendezvous
//! controls, and the progress loop that moves messages between them.
//!
//! One `Endpoint` per rank, shared (`Rc`) by every communicator the rank holds: the world and
//! whatever [`duplicate`](crate::traits::Communicator::duplicate) and [`split_by_color`](crate::traits::Communicator::split_by_color) made.
//! Communicators differ only in their context (carried by every message) and their group (the
//! map between their ranks and world ranks); everything here speaks world ranks.
//!
//! # Progress
//!
//! A rank moves messages only when it is inside a pip-comm call. Whenever it waits, it
//! *drains* its rings: each message that arrived is offered to the posted receives (the
//! earliest that accepts it takes it and is completed on the spot) or else moved to the
//! unexpected queue (see [`crate::matching`]). A blocking receive issued while no receive is
//! posted takes a faster path: it looks at the unexpected queue, then reads its rings itself
//! and copies a matching eager message straight out of its slot.

mod progress;
mod recv;
mod send;

use crate::config::{Params, WaitPolicy};
use crate::eager::Slot;
use crate::error::{Error, Result};
use crate::matching::{Posted, Unexpected};
use crate::owned::OwnedVec;
use crate::rank::{Rank, Tag};
use crate::rendezvous::{RndvCtl, Transfer};
use crate::shared::{OwnedShared, Shared};
use crate::waiter::{Progress, Waiter};
use crate::watchdog::{Watch, What};
use pip_core::waits::WaitInfo;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A matched message, not yet copied into its receive buffer.
#[derive(Debug)]
pub(crate) struct Matched {
    /// The sender's world rank.
    pub(crate) source: u32,
    pub(crate) tag: Tag,
    /// The message's length in bytes.
    pub(crate) len: usize,
    pub(crate) from: Origin,
}

/// Where a matched message's bytes are.
#[derive(Debug)]
pub(crate) enum Origin {
    /// In an eager slot that is still full (released after the copy).
    Slot(Slot),
    /// In the unexpected queue's heap copy.
    Heap(Vec<u8>),
    /// In the sender's buffer, offered for rendezvous under this control.
    Rndv(NonNull<RndvCtl>),
    /// In a `Vec` whose ownership the sender handed over.
    Owned(OwnedVec),
}

/// What a posted receive got: sender (world rank), tag, length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrived {
    pub(crate) source: u32,
    pub(crate) tag: Tag,
    pub(crate) len: usize,
}

/// The receiving end of a posted receive: the buffer, and the outcome once matched.
#[derive(Debug)]
pub(crate) struct RecvTarget {
    dst: *mut u8,
    capacity: usize,
    outcome: RefCell<Option<Result<Arrived>>>,
}

impl RecvTarget {
    /// Takes the outcome, once the receive has been matched and its data copied.
    pub(crate) fn take(&self) -> Option<Result<Arrived>> {
        self.outcome.borrow_mut().take()
    }

    /// True once the receive has been matched and its data copied.
    pub(crate) fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }
}

/// A rendezvous send that is out: its control and ticket, and the transfer once accepted.
#[derive(Debug)]
pub(crate) struct RndvSend {
    ctl: NonNull<RndvCtl>,
    ticket: u32,
    dst: u32,
    help: bool,
    transfer: Option<Transfer>,
}

impl RndvSend {
    fn readiness(&self) -> Readiness {
        Readiness {
            ctl: self.ctl,
            ticket: self.ticket,
            help: self.help,
        }
    }
}

/// What a waiting rendezvous sender checks before sleeping.
#[derive(Debug, Clone, Copy)]
struct Readiness {
    ctl: NonNull<RndvCtl>,
    ticket: u32,
    help: bool,
}

impl Readiness {
    /// True when polling the send again may achieve something (`SeqCst` loads).
    fn check(&self) -> bool {
        // SAFETY: a control of this rank, live as long as the world.
        let ctl = unsafe { self.ctl.as_ref() };
        ctl.is_answered(self.ticket)
            && ctl
                .accepted(self.ticket)
                .is_some_and(|t| ctl.is_complete(&t) || (self.help && ctl.has_unclaimed(&t)))
    }
}

/// Sending modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Eager up to the limit, rendezvous above.
    Standard,
    /// Always rendezvous: complete only once the receive has matched.
    Synchronous,
}

/// How a send started.
#[derive(Debug)]
pub(crate) enum Started {
    /// Complete (eager, or to oneself).
    Done,
    /// A rendezvous offer is out.
    Rndv(RndvSend),
}

/// A rank's engine. See the module documentation.
pub(crate) struct Endpoint {
    shared: NonNull<Shared>,
    /// Keeps a `run` world alive while any rank holds it (`None` in a PiP job, whose world
    /// lives until the job ends).
    _owner: Option<Arc<OwnedShared>>,
    /// This rank's world rank.
    pub(crate) me: u32,
    /// The world's size.
    pub(crate) n: u32,
    pub(crate) params: Params,
    pub(crate) policy: WaitPolicy,
    /// The ring from this rank to each destination, once created.
    out_rings: Box<[Cell<Option<NonNull<u8>>>]>,
    /// The ring from each source to this rank, once seen.
    in_rings: Box<[Cell<Option<NonNull<u8>>>]>,
    /// Messages sent to each destination so far (the next slot to use).
    send_seq: Box<[Cell<u32>]>,
    /// Messages taken from each source's ring so far (the next slot to read).
    recv_seq: Box<[Cell<u32>]>,
    pub(crate) unexpected: RefCell<Unexpected>,
    pub(crate) posted: RefCell<Posted<Rc<RecvTarget>>>,
    /// Where an any-source receive starts looking (round robin, so no sender starves).
    next_any: Cell<u32>,
    /// The last rendezvous ticket used.
    ticket: Cell<u32>,
    /// Rendezvous controls not in use.
    free_ctls: RefCell<Vec<NonNull<RndvCtl>>>,
    /// Rendezvous sends out (for the watchdog's report).
    pub(crate) sends_out: Cell<u32>,
    /// True when every rank allocates from one heap (thread ranks, or PiP tasks sharing
    /// libc), so a `Vec` may change hands.
    pub(crate) shared_allocator: bool,
    next_id: Cell<u64>,
    pub(crate) watch: Option<Watch>,
}

impl Endpoint {
    pub(crate) fn new(
        shared: NonNull<Shared>,
        owner: Option<Arc<OwnedShared>>,
        me: u32,
        shared_allocator: bool,
    ) -> Endpoint {
        // SAFETY: the block is live: owned by `owner`, or a PiP job's block that is never freed.
        let s = unsafe { shared.as_ref() };
        let n = s.nranks();
        let cells = |v| (0..n).map(|_| Cell::new(v)).collect::<Box<[_]>>();
        Endpoint {
            shared,
            _owner: owner,
            me,
            n,
            params: s.params,
            // Bad values were refused when the world was created (config::check_env).
            policy: WaitPolicy::from_env(n as usize).unwrap_or(WaitPolicy::new(0, 10)),
            out_rings: (0..n).map(|_| Cell::new(None)).collect(),
            in_rings: (0..n).map(|_| Cell::new(None)).collect(),
            send_seq: cells(0),
            recv_seq: cells(0),
            unexpected: RefCell::new(Unexpected::default()),
            posted: RefCell::new(Posted::default()),
            next_any: Cell::new(0),
            ticket: Cell::new(0),
            free_ctls: RefCell::new(Vec::new()),
            sends_out: Cell::new(0),
            shared_allocator,
            next_id: Cell::new(0),
            watch: Watch::from_env(),
        }
    }

    /// The owner of a world made by `run` or `singleton` (for tests).
    #[cfg(test)]
    pub(crate) fn owner(&self) -> Option<&Arc<OwnedShared>> {
        self._owner.as_ref()
    }

    /// The world's shared state.
    #[inline]
    pub(crate) fn shared(&self) -> &Shared {
        // SAFETY: see `new`: the block outlives every Endpoint on it.
        unsafe { self.shared.as_ref() }
    }

    /// Fails with [`Error::Aborted`] if a rank of the world panicked.
    pub(crate) fn check_aborted(&self) -> Result<()> {
        match self.shared().aborted_by() {
            None => Ok(()),
            Some(r) => Err(Error::Aborted { rank: r as Rank }),
        }
    }

    /// A fresh identifier (for posted receives).
    pub(crate) fn next_id(&self) -> u64 {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        id
    }

    // --- Waiting --------------------------------------------------------------------------------

    /// This rank's way of waiting, with this engine's progress duties (see [`crate::waiter`]).
    fn waiter(&self) -> Waiter<'_, Endpoint> {
        Waiter {
            shared: self.shared(),
            me: self.me,
            policy: self.policy,
            watch: self.watch,
            progress: self,
        }
    }

    /// Polls until `poll` gives a value: spins, then yields, then sleeps, moving messages and
    /// helping other ranks meanwhile (see [`crate::waiter`]); sleeps only while neither
    /// `ready()` nor an incoming message nor (if `abortable`) an abort says to look again.
    /// `what` names the wait for the watchdog.
    ///
    /// Returns [`Error::Aborted`] when `abortable` and a rank of the world panicked.
    pub(crate) fn wait_until<T>(
        &self,
        what: What,
        abortable: bool,
        mut poll: impl FnMut() -> Option<T>,
        ready: impl Fn() -> bool,
    ) -> Result<T> {
        if let Some(v) = poll() {
            return Ok(v);
        }
        self.waiter().until(what, abortable, poll, ready)
    }

    /// Waits for a condition that other ranks make true without waiting for this one (a copy
    /// in progress): no draining, no abort.
    fn wait_plain(&self, done: impl FnMut() -> bool, ready: impl Fn() -> bool) {
        self.waiter().plain(done, ready)
    }
}

impl Progress for Endpoint {
    fn drain(&self) -> bool {
        self.drain_all()
    }

    fn has_incoming(&self) -> bool {
        Endpoint::has_incoming(self)
    }

    fn help(&self) -> bool {
        crate::stealing::help(self.shared(), self.me)
    }

    #[cold]
    fn wait_info(&self, what: What) -> WaitInfo {
        let posted = self.posted.borrow().iter().next().map(|p| p.filter);
        // SYNC(barrier#protocol): a relaxed read of the barrier round, for the wait board only.
        let round = u64::from(self.shared().barrier.generation.load(Ordering::Relaxed));
        what.board_info(posted, round, self.n)
    }

    #[cold]
    fn details(&self) -> String {
        crate::watchdog::details(
            self.me,
            &self.posted.borrow(),
            &self.unexpected.borrow(),
            self.sends_out.get(),
        )
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("rank", &self.me)
            .field("size", &self.n)
            .field("params", &self.params)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
