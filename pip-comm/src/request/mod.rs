//! Non-blocking operations: immediate sends and receives that return a [`Request`], inside a
//! [`scope`] that guarantees no buffer is freed or touched while an operation on it is in
//! flight.
//!
//! ```
//! use pip_comm::prelude::*;
//! use pip_comm::request::{self, wait_all};
//!
//! pip_comm::run(2, |world| {
//!     let peer = world.process_at_rank(1 - world.rank());
//!     let out = vec![world.rank() as u64; 100_000];
//!     let mut inbox = vec![0u64; 100_000];
//!     request::scope(|scope| {
//!         // Both ranks post a receive and a send, then wait for both: no deadlock whatever
//!         // the size.
//!         let r = peer.immediate_receive_into(scope, &mut inbox[..]).unwrap();
//!         let s = peer.immediate_send(scope, &out[..]).unwrap();
//!         let statuses = wait_all(vec![r, s]).unwrap();
//!         assert_eq!(statuses[0].count, 100_000);
//!     });
//!     // The scope has ended: the buffers are ours again.
//!     assert!(inbox.iter().all(|&v| v == (1 - world.rank()) as u64));
//! })
//! .unwrap();
//! ```
//!
//! # Why a scope
//!
//! A request borrows its buffer for the whole scope (`'scope`), not just until it is waited
//! on, so the compiler refuses any use of the buffer inside the scope once an operation is
//! issued on it, and the buffer must outlive the scope:
//!
//! ```compile_fail,E0506
//! use pip_comm::prelude::*;
//! pip_comm::run(2, |world| {
//!     let mut buf = [0u8; 4];
//!     pip_comm::request::scope(|scope| {
//!         let r = world.any_process().immediate_receive_into(scope, &mut buf[..]).unwrap();
//!         buf[0] = 1; // error: `buf` is borrowed by the receive in flight
//!         r.wait().unwrap();
//!     });
//! })
//! .unwrap();
//! ```
//!
//! ```compile_fail,E0597
//! use pip_comm::prelude::*;
//! pip_comm::run(2, |world| {
//!     pip_comm::request::scope(|scope| {
//!         let data = vec![1u8; 1 << 20];
//!         // error: `data` would be freed at the end of the closure, while the scope may
//!         // still be sending it
//!         let _r = world.process_at_rank(1).immediate_send(scope, &data[..]).unwrap();
//!     });
//! })
//! .unwrap();
//! ```
//!
//! ```compile_fail,E0505
//! use pip_comm::prelude::*;
//! pip_comm::run(2, |world| {
//!     let data = vec![1u8; 1 << 20];
//!     pip_comm::request::scope(|scope| {
//!         let _r = world.process_at_rank(1).immediate_send(scope, &data[..]).unwrap();
//!         drop(data); // error: cannot move out of `data` while it is borrowed
//!     });
//! })
//! .unwrap();
//! ```
//!
//! When the scope's closure returns, the scope waits for every request that was not waited
//! on (a request may be dropped or even leaked with `std::mem::forget`: the scope, not the
//! request, keeps track). If the closure panics, the scope cancels what can be cancelled (a
//! receive not yet matched, a send not yet accepted) and finishes the rest (a copy in
//! progress never waits for user code) before the panic goes on. Either way, once `scope`
//! returns, no rank can touch the buffers any more.
//!
//! # Order
//!
//! MPI's matching order holds across blocking and non-blocking operations: receives match in
//! the order they were issued, messages from one sender in the order they were sent. A message completes a non-blocking receive whenever this rank is inside a
//! pip-comm call (any wait, test, send or receive): pip-comm has no progress thread.

pub(crate) mod op;
mod start;

pub(crate) use start::{post_receive, receive_op, send_op, start_send};

use crate::{Error, Result, Status};
use op::{wait_ops, wait_ops_until, Op, State};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;

/// The shortest operation list a scope sweeps.
const MIN_SWEEP: usize = 64;

/// Where non-blocking operations live: created by [`scope`], it lends its lifetime to every
/// buffer of an operation issued in it, and completes (or cancels) them all before `scope`
/// returns. See the [module documentation](self).
pub struct Scope<'scope, 'env: 'scope> {
    ops: RefCell<Vec<Rc<Op>>>,
    /// Sweep `ops` for finished operations when it reaches this length.
    sweep_at: Cell<usize>,
    /// Invariant in both lifetimes, as `std::thread::Scope`.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("operations", &self.ops.borrow().len())
            .finish()
    }
}

impl Scope<'_, '_> {
    fn register(&self, op: Rc<Op>) {
        let mut ops = self.ops.borrow_mut();
        // Forget operations that completed and whose request is gone, so long loops stay
        // small; only when the list has doubled since the last sweep, so registering stays
        // O(1) amortised.
        if ops.len() >= self.sweep_at.get() {
            ops.retain(|o| {
                Rc::strong_count(o) > 1 || !matches!(*o.state.borrow(), State::Complete(_))
            });
            self.sweep_at.set((2 * ops.len()).max(MIN_SWEEP));
        }
        ops.push(op);
    }

    /// Completes every operation (or, when `unwinding`, cancels what it can).
    fn finish(&self, unwinding: bool) {
        let ops = std::mem::take(&mut *self.ops.borrow_mut());
        for op in ops {
            if unwinding {
                op.cancel(|| Error::Cancelled);
            } else if op.poll() {
                // Already complete: nothing to wait for.
            } else if let Err(Error::Aborted { rank }) = wait_ops(&[&*op]) {
                op.cancel(|| Error::Aborted { rank });
            }
        }
    }
}

/// Runs `f` with a [`Scope`] for non-blocking operations and returns its result, once every
/// operation issued in the scope has completed (see the [module documentation](self)).
///
/// # Panics
///
/// Re-raises a panic of `f`, after cancelling or finishing its operations.
///
/// # Examples
///
/// ```
/// use pip_comm::prelude::*;
/// pip_comm::run(2, |world| {
///     let mut v = 0u32;
///     pip_comm::request::scope(|scope| {
///         if world.rank() == 0 {
///             let _ = world.process_at_rank(1).immediate_send(scope, &7u32).unwrap();
///             // Not waited for: the scope does it.
///         } else {
///             let r = world.process_at_rank(0).immediate_receive_into(scope, &mut v).unwrap();
///             assert_eq!(r.wait().unwrap().count, 1);
///         }
///     });
///     if world.rank() == 1 {
///         assert_eq!(v, 7);
///     }
/// })
/// .unwrap();
/// ```
pub fn scope<'env, F, R>(f: F) -> R
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
{
    struct Finish<'a, 'scope, 'env>(&'a Scope<'scope, 'env>);
    impl Drop for Finish<'_, '_, '_> {
        fn drop(&mut self) {
            self.0.finish(std::thread::panicking());
        }
    }
    let scope = Scope {
        ops: RefCell::new(Vec::new()),
        sweep_at: Cell::new(MIN_SWEEP),
        _scope: PhantomData,
        _env: PhantomData,
    };
    let finish = Finish(&scope);
    let r = f(&scope);
    drop(finish);
    r
}

/// A non-blocking operation in flight. Complete it with [`Request::wait`] or
/// [`Request::test`] (or [`wait_all`], [`wait_any`], [`test_all`]); one left unfinished is
/// completed by its [`Scope`] when the scope ends.
#[must_use = "a request is completed by wait or test (else by its scope's end)"]
pub struct Request<'scope> {
    op: Rc<Op>,
    _scope: PhantomData<&'scope ()>,
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.op.state.borrow() {
            State::Send { .. } => "send in flight",
            State::Recv { .. } => "receive posted",
            State::Complete(_) => "complete",
        };
        f.debug_struct("Request").field("state", &state).finish()
    }
}

impl<'scope> Request<'scope> {
    pub(in crate::request) fn new<'env>(scope: &'scope Scope<'scope, 'env>, op: Rc<Op>) -> Self {
        scope.register(op.clone());
        Request {
            op,
            _scope: PhantomData,
        }
    }

    /// Waits until the operation completes and returns its status: for a receive, as
    /// `Source::receive_into` (source, tag, count); for a send, this rank as the source,
    /// the tag and the number of elements sent.
    ///
    /// # Errors
    ///
    /// Those of the blocking operation: [`Error::Truncated`], [`Error::PartialElement`],
    /// [`Error::Aborted`] (the operation is then cancelled or finished).
    pub fn wait(self) -> Result<Status> {
        wait_ops(&[&*self.op])?;
        self.op.take()
    }

    /// Completes the operation if it can without waiting (MPI's `MPI_Test`): `Ok(None)`
    /// while it is still in flight, `Ok(Some(status))` once it has completed (the status as
    /// [`Request::wait`] gives it).
    ///
    /// Once complete, the request stays complete: a later `test` or `wait` returns the same
    /// status again. An error is returned once; a later `test` or `wait` gives
    /// [`Error::RequestFinished`].
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(1, |world| {
    ///     let mut v = 0u8;
    ///     pip_comm::request::scope(|scope| {
    ///         let me = world.this_process();
    ///         let mut r = me.immediate_receive_into(scope, &mut v).unwrap();
    ///         assert!(r.test().unwrap().is_none()); // nothing sent yet
    ///         me.send(&9u8).unwrap();
    ///         assert_eq!(r.test().unwrap().unwrap().count, 1);
    ///     });
    ///     assert_eq!(v, 9);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`Request::wait`], once the operation has completed; then
    /// [`Error::RequestFinished`].
    pub fn test(&mut self) -> Result<Option<Status>> {
        self.op.ep.drain_all();
        if self.op.poll() {
            self.op.take().map(Some)
        } else {
            Ok(None)
        }
    }

    /// True once the operation has completed (polling it once).
    pub fn is_complete(&self) -> bool {
        self.op.ep.drain_all();
        self.op.poll()
    }
}

/// Waits for every request and returns their statuses in order (MPI's `MPI_Waitall`).
///
/// # Errors
///
/// The first failed request's error (in request order), once all have completed;
/// [`Error::MixedWorlds`] for requests of two worlds.
pub fn wait_all(requests: Vec<Request<'_>>) -> Result<Vec<Status>> {
    let ops: Vec<&Op> = requests.iter().map(|r| &*r.op).collect();
    wait_ops(&ops)?;
    let outcomes: Vec<Result<Status>> = requests.iter().map(|r| r.op.take()).collect();
    outcomes.into_iter().collect()
}

/// Waits until one of the requests in `requests` completes and returns its index and
/// outcome (MPI's `MPI_Waitany`). As in MPI, indices are stable: the finished request is
/// taken out of its slot, which becomes `None` (MPI's `MPI_REQUEST_NULL`), and nothing else
/// moves, so the index names the same operation as when the slice was built. `None` slots
/// are skipped; when every slot is `None` (or the slice is empty) the result is `None`
/// (MPI's `MPI_UNDEFINED`), so `while let Some(..) = wait_any(&mut reqs)` completes them
/// all.
///
/// On an abort every pending request is cancelled and the first one still in the slice is
/// returned with the error; the others then come back one per call, each with its error.
///
/// # Examples
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::request::{scope, wait_any};
/// pip_comm::run(3, |world| {
///     if world.rank() == 0 {
///         let mut bufs = [0u32; 2];
///         let (a, b) = bufs.split_at_mut(1);
///         scope(|scope| {
///             let mut reqs = [
///                 Some(world.process_at_rank(1).immediate_receive_into(scope, &mut a[..]).unwrap()),
///                 Some(world.process_at_rank(2).immediate_receive_into(scope, &mut b[..]).unwrap()),
///             ];
///             let mut seen = 0;
///             while let Some((i, status)) = wait_any(&mut reqs) {
///                 // Slot i was the receive from rank i + 1, whatever finished before.
///                 assert_eq!(status.unwrap().source, i as i32 + 1);
///                 assert!(reqs[i].is_none());
///                 seen += 1;
///             }
///             assert_eq!(seen, 2);
///         });
///         assert_eq!(bufs, [10, 20]);
///     } else {
///         world.process_at_rank(0).send(&(world.rank() as u32 * 10)).unwrap();
///     }
/// })
/// .unwrap();
/// ```
pub fn wait_any(requests: &mut [Option<Request<'_>>]) -> Option<(usize, Result<Status>)> {
    let (slots, ops): (Vec<usize>, Vec<&Op>) = requests
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().map(|r| (i, &*r.op)))
        .unzip();
    let (i, outcome) = match wait_ops_until(&ops, |done| done.iter().any(|&d| d)) {
        Ok(None) => return None,
        Ok(Some(first)) => (slots[first], None),
        // Every request was cancelled; report the first.
        Err(e) => (slots[0], Some(e)),
    };
    let r = requests[i].take().expect("an active slot");
    let taken = r.op.take();
    Some((i, outcome.map_or(taken, Err)))
}

/// Completes all of `requests` if all can complete without waiting (MPI's `MPI_Testall`):
/// then empties `requests` and returns the statuses (or the first error); else leaves them
/// and returns `None`.
///
/// # Errors
///
/// As [`wait_all`].
pub fn test_all(requests: &mut Vec<Request<'_>>) -> Option<Result<Vec<Status>>> {
    if let Some(r) = requests.first() {
        r.op.ep.drain_all();
    }
    let mut all = true;
    for r in requests.iter() {
        all &= r.op.poll();
    }
    if !all {
        return None;
    }
    let outcomes: Vec<Result<Status>> = requests.drain(..).map(|r| r.op.take()).collect();
    Some(outcomes.into_iter().collect())
}

#[cfg(test)]
mod tests;
