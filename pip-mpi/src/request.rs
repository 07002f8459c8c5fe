//! Requests: the rank's table of operations in flight, behind one small trait.
//!
//! Every non-blocking operation (a point-to-point send or receive, a persistent request once
//! started, a step-by-step non-blocking collective) is a [`Pending`] stored under an
//! `MPI_Request` handle. The completion calls (`MPI_Wait`, `MPI_Test` and their `all`, `any`,
//! `some` forms, in `p2p/complete.rs`) poll the pending operations and, when none can finish
//! yet, wait on pip-comm's wait loop (spin, yield, then sleep until a peer's message or
//! completion wakes the rank) with the operations' [`Pending::ready`] as the check before
//! sleeping.
//!
//! # Life of a request
//!
//! A table entry is in one of three states:
//!
//! * *in flight*: it holds its operation, which [`poll`] advances;
//! * *complete*: the operation finished and was dropped (its buffers are free); the entry keeps
//!   the outcome until a completion call reports it with [`report`];
//! * *inactive*: a persistent request (`MPI_Send_init`, `MPI_Recv_init`) before its first
//!   `MPI_Start` and after each completion was reported. It keeps the closure that starts a new
//!   operation ([`start`]); waiting on it returns an empty status at once.
//!
//! Reporting a non-persistent request removes its entry (the handle becomes
//! `MPI_REQUEST_NULL`); reporting a persistent one makes it inactive. `MPI_Request_free` of a
//! request in flight ([`free`]) moves its operation to the rank's *orphans*, which are polled
//! whenever a request is made or started and by every completion call, until they complete: their buffers (a packed copy, a receive's
//! temporary buffer that is still to be unpacked) stay alive as long as a peer may use them.
//!
//! # Outcomes
//!
//! An operation completes with `Ok(status)` or `Err(error)`. An error that comes with a status
//! (a truncated receive: source, tag and the bytes received are known) is `Ok(status)` whose
//! `MPI_ERROR` holds the error's code ([`crate::error::code_of`]); the completion calls turn it
//! back into the error ([`failure`]) after filling in the status.
//!
//! # Re-entrance
//!
//! The table lives in a `RefCell`. An operation is taken out of its entry while it is polled
//! or cancelled, so an operation that makes requests of its own (a collective built on
//! point-to-point steps) may use the table meanwhile.

use crate::error::{fail, Error, On, Result, MPI_ERR_REQUEST, MPI_SUCCESS};
use crate::handle::{Handle, MpiStatus, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_REQUEST_NULL};
use crate::state::Table;
use std::cell::RefCell;

/// One operation in flight.
pub trait Pending {
    /// Advances the operation without blocking; `Some(outcome)` once it is complete (the
    /// status to report, or the error; see the module documentation's *Outcomes*).
    fn poll(&mut self) -> Option<Result<MpiStatus>>;

    /// True when polling may complete the operation or move it on (checked before the rank
    /// sleeps; it must be true whenever a peer has done what the operation waits for).
    fn ready(&self) -> bool;

    /// `MPI_Cancel`: true if the operation was cancelled (it then completes with a status
    /// whose cancelled flag is set); false if it cannot be.
    fn cancel(&mut self) -> bool {
        false
    }
}

/// Starts a new operation of a persistent request (`MPI_Start`).
pub type Starter = Box<dyn FnMut() -> Result<Box<dyn Pending>>>;

/// The status of a null or inactive request (MPI's *empty* status): any source, any tag,
/// no error, nothing received.
pub const EMPTY: MpiStatus = MpiStatus {
    MPI_SOURCE: MPI_ANY_SOURCE,
    MPI_TAG: MPI_ANY_TAG,
    MPI_ERROR: MPI_SUCCESS,
    cancelled: 0,
    count: 0,
};

/// One request of the table (see the module documentation).
struct Entry {
    /// The operation while in flight.
    op: Option<Box<dyn Pending>>,
    /// The outcome once complete, until reported.
    outcome: Option<Result<MpiStatus>>,
    /// Persistent requests: what `MPI_Start` runs.
    start: Option<Starter>,
    /// Where its errors are raised (its communicator).
    on: On,
}

thread_local! {
    static REQUESTS: RefCell<Table<Entry>> = const { RefCell::new(Table::new(1)) };
    static ORPHANS: RefCell<Vec<Box<dyn Pending>>> = const { RefCell::new(Vec::new()) };
}

/// Stores an operation in flight and returns its handle; its errors concern no object.
pub fn insert(p: Box<dyn Pending>) -> Handle {
    insert_on(p, On::Nothing)
}

/// Stores an operation in flight whose errors are raised on `on` and returns its handle.
pub fn insert_on(p: Box<dyn Pending>, on: On) -> Handle {
    reap_orphans();
    REQUESTS.with(|t| {
        t.borrow_mut().insert(Entry {
            op: Some(p),
            outcome: None,
            start: None,
            on,
        })
    })
}

/// Stores an inactive persistent request that `start` starts, and returns its handle.
pub fn insert_persistent(start: Starter, on: On) -> Handle {
    REQUESTS.with(|t| {
        t.borrow_mut().insert(Entry {
            op: None,
            outcome: None,
            start: Some(start),
            on,
        })
    })
}

/// Where a request stands, as a completion call sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `MPI_REQUEST_NULL`.
    Null,
    /// An inactive persistent request.
    Inactive,
    /// In flight.
    Pending,
    /// Complete, not reported yet.
    Complete,
}

impl State {
    /// Null and inactive requests are skipped by `MPI_Waitany` and friends.
    pub fn is_active(self) -> bool {
        matches!(self, State::Pending | State::Complete)
    }
}

fn unknown(h: Handle) -> Error {
    Error::new(
        MPI_ERR_REQUEST,
        format!("{h} is not a request of this rank"),
    )
}

/// The state of request `h` without polling it.
pub fn state(h: Handle) -> Result<State> {
    if h == MPI_REQUEST_NULL {
        return Ok(State::Null);
    }
    REQUESTS.with(|t| {
        let t = t.borrow();
        let e = t.get(h).ok_or_else(|| unknown(h))?;
        Ok(match (&e.op, &e.outcome) {
            (_, Some(_)) => State::Complete,
            (Some(_), None) => State::Pending,
            (None, None) => State::Inactive,
        })
    })
}

/// Polls request `h` once (if it is in flight) and returns its state.
pub fn poll(h: Handle) -> Result<State> {
    poll_unless(h, |_| false)
}

/// [`poll`], except that an operation whose [`Pending::ready`] is false is left alone (it
/// stays in flight): for the calls that wait on many requests and have just drained the
/// rank's messages, so that each round touches only the operations that can move.
pub fn poll_if_ready(h: Handle) -> Result<State> {
    poll_unless(h, |op| !op.ready())
}

/// What the first look at a request finds: its operation, taken out to be polled, or its
/// state when there is nothing to poll.
type Taken = std::result::Result<Box<dyn Pending>, State>;

/// [`poll`], leaving alone (as still in flight) an operation for which `skip` is true.
fn poll_unless(h: Handle, skip: impl Fn(&dyn Pending) -> bool) -> Result<State> {
    if h == MPI_REQUEST_NULL {
        return Ok(State::Null);
    }
    // The operation is taken out while it is polled (see *Re-entrance*).
    let taken = REQUESTS.with(|t| -> Result<Taken> {
        let mut t = t.borrow_mut();
        let e = t.get_mut(h).ok_or_else(|| unknown(h))?;
        if e.outcome.is_some() {
            return Ok(Err(State::Complete));
        }
        match &e.op {
            None => Ok(Err(State::Inactive)),
            Some(op) if skip(op.as_ref()) => Ok(Err(State::Pending)),
            Some(_) => Ok(e.op.take().ok_or(State::Inactive)),
        }
    })?;
    let mut op = match taken {
        Ok(op) => op,
        Err(state) => return Ok(state),
    };
    let outcome = op.poll();
    let state = if outcome.is_some() {
        State::Complete
    } else {
        State::Pending
    };
    let finished = REQUESTS.with(|t| {
        let mut t = t.borrow_mut();
        let e = t.get_mut(h)?;
        match outcome {
            Some(o) => {
                e.outcome = Some(o);
                Some(op)
            }
            None => {
                e.op = Some(op);
                None
            }
        }
    });
    // A finished operation is dropped outside the table's borrow (it may release requests).
    drop(finished);
    Ok(state)
}

/// True when request `h` is in flight and polling it may move it on (the check before the
/// rank sleeps; null, inactive and complete requests have nothing to wait for).
pub fn ready(h: Handle) -> bool {
    if h == MPI_REQUEST_NULL {
        return false;
    }
    REQUESTS.with(|t| match t.borrow().get(h) {
        Some(e) => e.op.as_ref().is_some_and(|op| op.ready()),
        None => false,
    })
}

/// Where the errors of request `h` are raised.
pub fn errors_on(h: Handle) -> On {
    REQUESTS.with(|t| t.borrow().get(h).map_or(On::Nothing, |e| e.on))
}

/// Reports the outcome of complete request `*h` and releases it: a non-persistent request is
/// removed (`*h` becomes `MPI_REQUEST_NULL`), a persistent one becomes inactive. Null and
/// inactive requests report the empty status.
pub fn report(h: &mut Handle) -> Result<MpiStatus> {
    if *h == MPI_REQUEST_NULL {
        return Ok(EMPTY);
    }
    let handle = *h;
    let (outcome, removed) = REQUESTS.with(|t| {
        let mut t = t.borrow_mut();
        let e = t.get_mut(handle).ok_or_else(|| unknown(handle))?;
        let outcome = match e.outcome.take() {
            Some(o) => o,
            None if e.op.is_none() => return Ok((Ok(EMPTY), None)),
            None => return fail(MPI_ERR_REQUEST, format!("request {handle} is not complete")),
        };
        let removed = if e.start.is_none() {
            t.remove(handle)
        } else {
            None
        };
        Ok((outcome, removed))
    })?;
    if removed.is_some() {
        *h = MPI_REQUEST_NULL;
    }
    drop(removed);
    outcome
}

/// The outcome of complete request `h`, without releasing it (`MPI_Request_get_status`).
pub fn peek(h: Handle) -> Result<MpiStatus> {
    REQUESTS.with(|t| match t.borrow().get(h) {
        Some(Entry {
            outcome: Some(o), ..
        }) => o.clone(),
        _ => Ok(EMPTY),
    })
}

/// `MPI_Start`: starts persistent request `h`.
pub fn start(h: Handle) -> Result<()> {
    reap_orphans();
    let starter = REQUESTS.with(|t| {
        let mut t = t.borrow_mut();
        let e = t.get_mut(h).ok_or_else(|| {
            if h == MPI_REQUEST_NULL {
                Error::new(MPI_ERR_REQUEST, "MPI_Start of MPI_REQUEST_NULL")
            } else {
                unknown(h)
            }
        })?;
        if e.start.is_none() {
            return fail(
                MPI_ERR_REQUEST,
                format!("request {h} is not persistent (only MPI_Send_init/MPI_Recv_init requests can be started)"),
            );
        }
        if e.op.is_some() || e.outcome.is_some() {
            return fail(
                MPI_ERR_REQUEST,
                format!("persistent request {h} is active: complete it before starting it again"),
            );
        }
        Ok(e.start.take())
    })?;
    let mut starter = starter.expect("checked above");
    let started = starter();
    REQUESTS.with(|t| {
        let mut t = t.borrow_mut();
        let e = t.get_mut(h).expect("the entry stays while it is started");
        e.start = Some(starter);
        started.map(|op| e.op = Some(op))
    })
}

/// `MPI_Cancel`: asks the operation of `h` to cancel itself (an operation that cannot be
/// cancelled completes normally).
pub fn cancel(h: Handle) -> Result<()> {
    match state(h)? {
        State::Null => fail(MPI_ERR_REQUEST, "MPI_Cancel of MPI_REQUEST_NULL"),
        State::Inactive => fail(
            MPI_ERR_REQUEST,
            format!("request {h} is an inactive persistent request: there is nothing to cancel"),
        ),
        State::Complete => Ok(()),
        State::Pending => {
            let mut op = REQUESTS.with(|t| t.borrow_mut().get_mut(h).and_then(|e| e.op.take()));
            if let Some(op) = op.as_mut() {
                op.cancel();
            }
            REQUESTS.with(|t| {
                if let Some(e) = t.borrow_mut().get_mut(h) {
                    e.op = op;
                }
            });
            Ok(())
        }
    }
}

/// `MPI_Request_free`: releases `*h` (which becomes `MPI_REQUEST_NULL`); an operation in
/// flight goes on as an orphan (see the module documentation).
pub fn free(h: &mut Handle) -> Result<()> {
    if *h == MPI_REQUEST_NULL {
        return fail(MPI_ERR_REQUEST, "MPI_Request_free of MPI_REQUEST_NULL");
    }
    let handle = *h;
    let e = REQUESTS
        .with(|t| t.borrow_mut().remove(handle))
        .ok_or_else(|| unknown(handle))?;
    *h = MPI_REQUEST_NULL;
    if let Some(op) = e.op {
        ORPHANS.with(|o| o.borrow_mut().push(op));
    }
    Ok(())
}

/// Polls the orphans once and drops those that completed (their outcome goes nowhere, as
/// MPI says for a freed request). Called when a request is made or started, and by the
/// completion calls.
pub fn reap_orphans() {
    let mut orphans = ORPHANS.with(|o| std::mem::take(&mut *o.borrow_mut()));
    if orphans.is_empty() {
        return;
    }
    orphans.retain_mut(|op| op.poll().is_none());
    ORPHANS.with(|o| o.borrow_mut().append(&mut orphans));
}

/// The error that a completion's status carries in `MPI_ERROR` (see *Outcomes*), if any.
pub fn failure(status: &MpiStatus) -> Option<Error> {
    if status.MPI_ERROR == MPI_SUCCESS {
        return None;
    }
    let (class, message) = crate::error::describe(status.MPI_ERROR)
        .unwrap_or((status.MPI_ERROR, "an operation failed".to_string()));
    Some(Error::new(class, message))
}

/// Drops every request; called by `MPI_Finalize`. Operations still in flight are forgotten
/// rather than dropped: their buffers stay valid, since a peer might still use them.
pub fn finalize() {
    let mut all = REQUESTS.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(1)));
    let mut in_flight = Vec::new();
    let handles: Vec<Handle> = all.iter().map(|(h, _)| h).collect();
    for h in handles {
        if let Some(e) = all.remove(h) {
            if let Some(op) = e.op {
                in_flight.push(op);
            }
        }
    }
    in_flight.extend(ORPHANS.with(|o| std::mem::take(&mut *o.borrow_mut())));
    std::mem::forget(in_flight);
}

#[cfg(test)]
mod tests;
