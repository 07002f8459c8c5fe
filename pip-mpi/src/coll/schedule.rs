//! Schedules: a non-blocking collective as a short list of steps of raw non-blocking
//! point-to-point operations on the communicator's internal duplicate.
//!
//! # Protocol
//!
//! A [`Schedule`] is a queue of [`Step`]s. A step is a set of sends and receives (of bytes at
//! pointers: the user's buffers or the schedule's own temporaries) that are started together,
//! and a local action run once all of them have completed (folding received inputs, unpacking
//! a temporary into the user's buffer). The first step is started when the collective is
//! called, so that every message a peer needs from this rank early on is on its way before
//! the call returns: the call never blocks, and a rank may do point-to-point work that its
//! peers need before it waits. Every later step is started by [`Pending::poll`] (from
//! `MPI_Test`/`MPI_Wait` and their relatives): poll tests the current step's requests
//! without blocking; when all have completed it runs the step's action and starts the next
//! step, and so on until a step is still in flight (poll returns `None`) or none is left (the
//! collective is complete). [`Pending::ready`] is true when a current request is ready, so a
//! waiting rank sleeps only when nothing can move.
//!
//! Each schedule is tagged with the communicator's next *sequence number* ([`next_tag`]):
//! every rank starts the collectives of one communicator in the same order (as MPI requires),
//! so the numbers agree, and the messages of consecutive collectives never match each
//! other's receives. The messages travel on `Comm::internal`, so no receive of the program
//! (even with `MPI_ANY_TAG`) sees them. Within one schedule two messages between the same
//! pair of ranks in the same direction are matched in the order they were sent (pip-comm's
//! non-overtaking order).
//!
//! The temporaries are boxed slices owned by the schedule: their addresses stay put while
//! requests point at them. A schedule dropped while requests are in flight (a freed request,
//! or `MPI_Finalize`) leaks its temporaries rather than free memory that a peer may still
//! write.

use crate::comm::Comm;
use crate::error::{Error, Result};
use crate::handle::MpiStatus;
use crate::request::Pending;
use pip_comm::raw::{self, RawRequest, SendMode};
use pip_comm::Tag;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

/// One point-to-point operation of a step.
#[derive(Debug, Clone, Copy)]
pub(super) enum Action {
    /// Send `len` bytes at `data` to rank `to`.
    Send {
        to: i32,
        data: *const u8,
        len: usize,
    },
    /// Receive `len` bytes into `into` from rank `from`.
    Recv {
        from: i32,
        into: *mut u8,
        len: usize,
    },
}

/// A local action, run when a step's operations have completed.
pub(super) type Then = Box<dyn FnOnce() -> Result<()>>;

/// One step: operations started together, then a local action.
#[derive(Default)]
pub(super) struct Step {
    pub(super) actions: Vec<Action>,
    pub(super) then: Option<Then>,
}

impl Step {
    /// Adds a send.
    pub(super) fn send(&mut self, to: i32, data: *const u8, len: usize) {
        self.actions.push(Action::Send { to, data, len });
    }

    /// Adds a receive.
    pub(super) fn recv(&mut self, from: i32, into: *mut u8, len: usize) {
        self.actions.push(Action::Recv { from, into, len });
    }
}

/// A non-blocking collective in flight (see the module documentation).
pub(super) struct Schedule {
    comm: Rc<Comm>,
    tag: Tag,
    steps: VecDeque<Step>,
    current: Vec<RawRequest>,
    then: Option<Then>,
    temps: Vec<Box<[u8]>>,
    error: Option<Error>,
}

thread_local! {
    /// The sequence number of each live communicator's schedules.
    static SEQUENCE: RefCell<Vec<(Weak<Comm>, Tag)>> = const { RefCell::new(Vec::new()) };
}

/// The next sequence number of `comm`, as a tag (see the module documentation).
pub(super) fn next_tag(comm: &Rc<Comm>) -> Tag {
    SEQUENCE.with(|s| {
        let mut s = s.borrow_mut();
        s.retain(|(w, _)| w.strong_count() > 0);
        let i = match s
            .iter()
            .position(|(w, _)| std::ptr::eq(w.as_ptr(), Rc::as_ptr(comm)))
        {
            Some(i) => i,
            None => {
                s.push((Rc::downgrade(comm), 0));
                s.len() - 1
            }
        };
        let t = s[i].1;
        s[i].1 = if t == pip_comm::MAX_TAG { 0 } else { t + 1 };
        t
    })
}

impl Schedule {
    /// An empty schedule on `comm` with the communicator's next tag.
    pub(super) fn new(comm: Rc<Comm>) -> Schedule {
        let tag = next_tag(&comm);
        Schedule {
            comm,
            tag,
            steps: VecDeque::new(),
            current: Vec::new(),
            then: None,
            temps: Vec::new(),
            error: None,
        }
    }

    /// A zeroed temporary of `len` bytes owned by the schedule; its address stays put.
    pub(super) fn temp(&mut self, len: usize) -> *mut u8 {
        let mut b = vec![0u8; len].into_boxed_slice();
        let p = b.as_mut_ptr();
        self.temps.push(b);
        p
    }

    /// A temporary holding a copy of `data`.
    pub(super) fn keep(&mut self, data: &[u8]) -> *mut u8 {
        let p = self.temp(data.len());
        // SAFETY: `p` is a fresh temporary of `data.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        p
    }

    /// Appends a step.
    pub(super) fn push(&mut self, step: Step) {
        self.steps.push_back(step);
    }

    /// Starts the first step (called once the schedule is built).
    ///
    /// # Safety
    ///
    /// Every pointer of every step is valid for its bytes until the schedule completes (the
    /// user's buffers by MPI's rules for non-blocking calls; temporaries by construction).
    pub(super) unsafe fn start(mut self) -> Result<Schedule> {
        // SAFETY: forwarded from the caller.
        if let Some(e) = unsafe { self.advance() } {
            self.error.get_or_insert(e);
        }
        Ok(self)
    }

    /// Starts step after step as long as the current one is complete; `Some(error)` when an
    /// operation or action failed (the schedule is then finished).
    ///
    /// # Safety
    ///
    /// As [`Schedule::start`].
    unsafe fn advance(&mut self) -> Option<Error> {
        loop {
            let mut failed = None;
            self.current.retain(|r| match r.test() {
                Ok(None) => true,
                Ok(Some(_)) => false,
                Err(e) => {
                    failed.get_or_insert(e);
                    false
                }
            });
            if let Some(e) = failed {
                return Some(e.into());
            }
            if !self.current.is_empty() {
                return None;
            }
            if let Some(then) = self.then.take() {
                if let Err(e) = then() {
                    return Some(e);
                }
            }
            let step = self.steps.pop_front()?;
            self.then = step.then;
            for a in step.actions {
                // SAFETY: forwarded from the caller.
                match unsafe { self.begin(a) } {
                    Ok(r) => self.current.push(r),
                    Err(e) => return Some(e.into()),
                }
            }
        }
    }

    /// Starts one operation.
    ///
    /// # Safety
    ///
    /// As [`Schedule::start`].
    unsafe fn begin(&self, a: Action) -> pip_comm::Result<RawRequest> {
        let c = &self.comm.internal;
        // SAFETY: forwarded from the caller.
        unsafe {
            match a {
                Action::Send { to, data, len } => {
                    raw::immediate_send(c, to, self.tag, data, len, SendMode::Standard)
                }
                Action::Recv { from, into, len } => {
                    raw::immediate_receive(c, from, self.tag, into, len)
                }
            }
        }
    }

    /// True once nothing is left to do.
    pub(super) fn is_done(&self) -> bool {
        self.current.is_empty() && self.then.is_none() && self.steps.is_empty()
    }
}

impl Pending for Schedule {
    fn poll(&mut self) -> Option<Result<MpiStatus>> {
        if let Some(e) = self.error.take() {
            self.steps.clear();
            self.then = None;
            return Some(Err(e));
        }
        // SAFETY: the pointers were valid when the schedule started and stay so until it
        // completes (see `start`).
        if let Some(e) = unsafe { self.advance() } {
            self.steps.clear();
            self.then = None;
            return Some(Err(e));
        }
        self.is_done().then_some(Ok(MpiStatus::EMPTY))
    }

    fn ready(&self) -> bool {
        self.error.is_some() || self.current.is_empty() || self.current.iter().any(|r| r.ready())
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        if !self.current.is_empty() {
            // Peers may still write into the temporaries (see the module documentation).
            std::mem::forget(std::mem::take(&mut self.temps));
        }
    }
}
