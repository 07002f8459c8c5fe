//! One non-blocking operation's state ([`Op`]), shared by its [`Request`](super::Request)
//! and its [`Scope`](super::Scope) (or held by a [`RawRequest`](crate::raw::RawRequest)),
//! and the wait for a set of them.

use crate::endpoint::{Endpoint, RecvTarget, RndvSend};
use crate::rank;
use crate::status::status_sized;
use crate::watchdog::What;
use crate::world::Group;
use crate::{Error, Result, Status};
use std::cell::RefCell;
use std::rc::Rc;

/// The state of one operation, shared by its request and its scope.
pub(crate) struct Op {
    pub(crate) ep: Rc<Endpoint>,
    pub(crate) state: RefCell<State>,
}

pub(crate) enum State {
    /// A rendezvous send out.
    Send {
        send: Option<RndvSend>,
        status: Status,
    },
    /// A posted receive.
    Recv {
        id: u64,
        target: Rc<RecvTarget>,
        capacity: usize,
        size: usize,
        group: Option<Rc<Group>>,
    },
    /// Complete; the outcome until someone takes it (a successful one stays for a later
    /// `test` or `wait`).
    Complete(Option<Result<Status>>),
}

impl Op {
    pub(crate) fn new(ep: &Rc<Endpoint>, state: State) -> Rc<Op> {
        Rc::new(Op {
            ep: ep.clone(),
            state: RefCell::new(state),
        })
    }

    /// Polls once; true when complete.
    pub(crate) fn poll(&self) -> bool {
        let mut state = self.state.borrow_mut();
        let outcome = match &mut *state {
            State::Complete(_) => return true,
            State::Send { send, status } => {
                let s = send.as_mut().expect("a pending send");
                if !self.ep.poll_send(s) {
                    return false;
                }
                self.ep.finish_send(send.take().expect("a pending send"));
                Ok(*status)
            }
            State::Recv {
                target,
                capacity,
                size,
                group,
                ..
            } => {
                let Some(r) = target.take() else {
                    return false;
                };
                r.and_then(|a| {
                    let source = match group {
                        None => rank::public(a.source),
                        Some(g) => g.local[a.source as usize],
                    };
                    status_sized(source, a.tag, a.len, *capacity, *size)
                })
            }
        };
        *state = State::Complete(Some(outcome));
        true
    }

    /// True when polling may achieve something (checked before sleeping).
    pub(crate) fn ready(&self) -> bool {
        match &*self.state.borrow() {
            State::Complete(_) => true,
            State::Send { send, .. } => send.as_ref().is_some_and(|s| self.ep.send_ready(s)),
            State::Recv { target, .. } => target.is_done(),
        }
    }

    /// Takes the outcome of a complete operation. A success stays behind (a later call
    /// returns the same status); an error is handed out once, then
    /// [`Error::RequestFinished`].
    pub(crate) fn take(&self) -> Result<Status> {
        match &mut *self.state.borrow_mut() {
            State::Complete(outcome) => match outcome.take() {
                Some(Ok(status)) => {
                    *outcome = Some(Ok(status));
                    Ok(status)
                }
                Some(Err(e)) => Err(e),
                None => Err(Error::RequestFinished),
            },
            _ => unreachable!("take before completion"),
        }
    }

    /// Ends the operation without waiting for its peer: cancels a receive not yet matched or
    /// a send not yet accepted, finishes a copy in progress. `error` makes the outcome, even
    /// of a send finished so.
    pub(crate) fn cancel(&self, error: impl Fn() -> Error) {
        if self.poll() {
            return;
        }
        if !self.try_cancel(&error) {
            *self.state.borrow_mut() = State::Complete(Some(Err(error())));
        }
    }

    /// MPI's cancel: cancels a receive not yet matched or a rendezvous send not yet accepted
    /// (true; `error` makes the outcome). False when the operation was complete, or is a send
    /// that the receiver had accepted: that one is finished now (a copy in progress never
    /// waits for user code) and completes with its status.
    pub(crate) fn try_cancel(&self, error: impl FnOnce() -> Error) -> bool {
        if self.poll() {
            return false;
        }
        let mut state = self.state.borrow_mut();
        match &mut *state {
            State::Send { send, status } => {
                let status = *status;
                if !self.ep.cancel_send(send.take().expect("a pending send")) {
                    *state = State::Complete(Some(Ok(status)));
                    return false;
                }
            }
            State::Recv { id, .. } => {
                let cancelled = self.ep.cancel_recv(*id);
                debug_assert!(cancelled, "an unmatched receive is still posted");
            }
            State::Complete(_) => return false,
        }
        *state = State::Complete(Some(Err(error())));
        true
    }
}

/// Waits until every one of `ops` is complete (not taking the outcomes). On an abort, cancels
/// those still pending and returns the error.
pub(crate) fn wait_ops(ops: &[&Op]) -> Result<()> {
    wait_ops_until(ops, |done| done.iter().all(|&d| d)).map(|_| ())
}

/// Completion flags of up to this many operations live on the stack (no allocation per wait).
const INLINE_FLAGS: usize = 16;

/// Waits until `enough` holds for the completion flags of `ops`; returns the index of the
/// first complete one (`None` for no operations).
pub(crate) fn wait_ops_until(
    ops: &[&Op],
    enough: impl Fn(&[bool]) -> bool,
) -> Result<Option<usize>> {
    let Some(first) = ops.first() else {
        return Ok(None);
    };
    let ep = &first.ep;
    if ops.iter().any(|o| !Rc::ptr_eq(&o.ep, ep)) {
        return Err(Error::MixedWorlds);
    }
    let mut inline = [false; INLINE_FLAGS];
    let mut heap = Vec::new();
    let done: &mut [bool] = if ops.len() <= INLINE_FLAGS {
        &mut inline[..ops.len()]
    } else {
        heap.resize(ops.len(), false);
        &mut heap
    };
    let r = ep.wait_until(
        What::Requests(ops.len()),
        true,
        || {
            ep.drain_all();
            for (d, op) in done.iter_mut().zip(ops) {
                *d = *d || op.poll();
            }
            enough(done).then_some(())
        },
        || ops.iter().any(|o| o.ready()),
    );
    match r {
        Ok(()) => Ok(done.iter().position(|&d| d)),
        Err(e) => {
            let rank = match e {
                Error::Aborted { rank } => rank,
                _ => -1,
            };
            for op in ops {
                op.cancel(|| Error::Aborted { rank });
            }
            Err(e)
        }
    }
}
