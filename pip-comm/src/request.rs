//! Non-blocking operations: immediate sends and receives that return a [`Request`], inside a
//! [`scope`] that guarantees no buffer is freed or touched while an operation on it is in
//! flight.
//!
//! ```
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

use crate::datatype::{bytes_of, Buffer, BufferMut};
use crate::endpoint::{Endpoint, Mode, RecvTarget, RndvSend, Started};
use crate::p2p::{status_sized, AnyProcess, Process};
use crate::watchdog::What;
use crate::world::Group;
use crate::{Error, Rank, Result, Status, Tag, ANY_TAG};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;

/// The state of one operation, shared by its request and its scope.
struct Op {
    ep: Rc<Endpoint>,
    state: RefCell<State>,
}

enum State {
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
    fn new(ep: &Rc<Endpoint>, state: State) -> Rc<Op> {
        Rc::new(Op {
            ep: ep.clone(),
            state: RefCell::new(state),
        })
    }

    /// Polls once; true when complete.
    fn poll(&self) -> bool {
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
                        None => a.source as Rank,
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
    fn ready(&self) -> bool {
        match &*self.state.borrow() {
            State::Complete(_) => true,
            State::Send { send, .. } => send.as_ref().is_some_and(|s| self.ep.send_ready(s)),
            State::Recv { target, .. } => target.is_done(),
        }
    }

    /// Takes the outcome of a complete operation. A success stays behind (a later call
    /// returns the same status); an error is handed out once, then
    /// [`Error::RequestFinished`].
    fn take(&self) -> Result<Status> {
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
    /// a send not yet accepted, finishes a copy in progress. `error` makes the outcome.
    fn cancel(&self, error: impl FnOnce() -> Error) {
        if self.poll() {
            return;
        }
        let mut state = self.state.borrow_mut();
        match &mut *state {
            State::Send { send, .. } => {
                self.ep.cancel_send(send.take().expect("a pending send"));
            }
            State::Recv { id, .. } => {
                let cancelled = self.ep.cancel_recv(*id);
                debug_assert!(cancelled, "an unmatched receive is still posted");
            }
            State::Complete(_) => {}
        }
        *state = State::Complete(Some(Err(error())));
    }
}

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
    fn new<'env>(scope: &'scope Scope<'scope, 'env>, ep: &Rc<Endpoint>, state: State) -> Self {
        let op = Op::new(ep, state);
        scope.register(op.clone());
        Request {
            op,
            _scope: PhantomData,
        }
    }

    /// Waits until the operation completes and returns its status: for a receive, as
    /// [`Process::receive_into`] (source, tag, count); for a send, this rank as the source,
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

/// Waits until every one of `ops` is complete (not taking the outcomes). On an abort, cancels
/// those still pending and returns the error.
fn wait_ops(ops: &[&Op]) -> Result<()> {
    wait_ops_until(ops, |done| done.iter().all(|&d| d)).map(|_| ())
}

/// Completion flags of up to this many operations live on the stack (no allocation per wait).
const INLINE_FLAGS: usize = 16;

/// Waits until `enough` holds for the completion flags of `ops`; returns the index of the
/// first complete one (`None` for no operations).
fn wait_ops_until(ops: &[&Op], enough: impl Fn(&[bool]) -> bool) -> Result<Option<usize>> {
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

impl<'a> Process<'a> {
    /// Starts sending `buf` with tag 0 and returns at once (MPI's `MPI_Isend`). `buf` stays
    /// borrowed until the scope ends. Eager messages are complete at once; larger ones when
    /// the receiver has copied them.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], [`Error::Aborted`].
    pub fn immediate_send<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
    ) -> Result<Request<'scope>> {
        self.immediate_send_with_tag(scope, buf, 0)
    }

    /// [`Process::immediate_send`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_send`], and [`Error::InvalidTag`].
    pub fn immediate_send_with_tag<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
        tag: Tag,
    ) -> Result<Request<'scope>> {
        self.start_send(scope, buf, tag, Mode::Standard)
    }

    /// Starts a synchronous send with tag 0 (MPI's `MPI_Issend`): the request completes only
    /// once the receiver has matched the message.
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     let peer = world.process_at_rank(1 - world.rank());
    ///     if world.rank() == 0 {
    ///         pip_comm::request::scope(|scope| {
    ///             let r = peer.immediate_synchronous_send(scope, &5u16).unwrap();
    ///             assert_eq!(r.wait().unwrap().count, 1); // rank 1 has matched it
    ///         });
    ///     } else {
    ///         assert_eq!(peer.receive::<u16>().unwrap().0, 5);
    ///     }
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_send`]; [`Error::SynchronousSendToSelf`] to this rank itself
    /// unless a posted receive takes it now.
    pub fn immediate_synchronous_send<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
    ) -> Result<Request<'scope>> {
        self.immediate_synchronous_send_with_tag(scope, buf, 0)
    }

    /// [`Process::immediate_synchronous_send`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_send_with_tag`]; [`Error::SynchronousSendToSelf`] to this rank
    /// itself unless a posted receive takes it now.
    pub fn immediate_synchronous_send_with_tag<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
        tag: Tag,
    ) -> Result<Request<'scope>> {
        self.start_send(scope, buf, tag, Mode::Synchronous)
    }

    /// The same as [`Process::immediate_send`].
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_send`].
    pub fn isend<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
    ) -> Result<Request<'scope>> {
        self.immediate_send(scope, buf)
    }

    fn start_send<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
        tag: Tag,
        mode: Mode,
    ) -> Result<Request<'scope>> {
        let comm = self.comm();
        let dst = comm.send_target(self.rank, tag)?;
        let data = buf.as_slice();
        let status = Status {
            source: comm.rank(),
            tag,
            count: data.len(),
        };
        let ep = &comm.ep;
        if mode == Mode::Synchronous && dst == ep.me {
            comm.process_at_rank(self.rank)
                .synchronous_send_with_tag(data, tag)?;
            return Ok(Request::new(scope, ep, State::Complete(Some(Ok(status)))));
        }
        let state = match ep.start_send(dst, comm.ctx, tag, bytes_of(data), mode)? {
            Started::Done => State::Complete(Some(Ok(status))),
            Started::Rndv(send) => State::Send {
                send: Some(send),
                status,
            },
        };
        Ok(Request::new(scope, ep, state))
    }

    /// Posts a receive into `buf` of the next message from this peer (any tag) and returns at
    /// once (MPI's `MPI_Irecv`). `buf` stays borrowed until the scope ends.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`]. Errors of the receive itself (truncation, ...) come from
    /// the request's completion.
    pub fn immediate_receive_into<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
    ) -> Result<Request<'scope>> {
        self.immediate_receive_into_with_tag(scope, buf, ANY_TAG)
    }

    /// [`Process::immediate_receive_into`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_receive_into`], and [`Error::InvalidTag`].
    pub fn immediate_receive_into_with_tag<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
        tag: Tag,
    ) -> Result<Request<'scope>> {
        let comm = self.comm();
        let filter = comm.source_filter(self.rank, tag)?;
        let buf = buf.as_mut_slice();
        let (capacity, size) = (buf.len(), std::mem::size_of_val(buf));
        // SAFETY: `buf` is exclusively borrowed for `'scope`, and the scope completes or
        // cancels the receive before `'scope` ends (see `scope`).
        let (id, target) = unsafe {
            comm.ep
                .post_recv(filter, buf.as_mut_ptr().cast::<u8>(), size)
        };
        let state = State::Recv {
            id,
            target,
            capacity,
            size: std::mem::size_of::<B::Item>(),
            group: comm.group.clone(),
        };
        Ok(Request::new(scope, &comm.ep, state))
    }

    /// The same as [`Process::immediate_receive_into`].
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_receive_into`].
    pub fn irecv<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
    ) -> Result<Request<'scope>> {
        self.immediate_receive_into(scope, buf)
    }
}

impl AnyProcess<'_> {
    /// Posts a receive into `buf` of the next message from any rank (any tag); see
    /// [`Process::immediate_receive_into`].
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_receive_into`].
    pub fn immediate_receive_into<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
    ) -> Result<Request<'scope>> {
        self.any().immediate_receive_into(scope, buf)
    }

    /// Posts a receive into `buf` of the next message from any rank with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Process::immediate_receive_into_with_tag`].
    pub fn immediate_receive_into_with_tag<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
        tag: Tag,
    ) -> Result<Request<'scope>> {
        self.any().immediate_receive_into_with_tag(scope, buf, tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_loop_of_requests_keeps_the_scope_small() {
        crate::run(1, |world| {
            let me = world.this_process();
            let mut inbox = vec![0u32; 10_000];
            scope(|scope| {
                let mut longest = 0;
                for (i, slot) in inbox.iter_mut().enumerate() {
                    me.send(&(i as u32)).unwrap();
                    // Waited for at once: done with, so a sweep may forget it.
                    let r = me.immediate_receive_into(scope, slot).unwrap();
                    assert_eq!(r.wait().unwrap().count, 1);
                    longest = longest.max(scope.ops.borrow().len());
                }
                assert!(
                    longest <= 2 * MIN_SWEEP,
                    "the scope held {longest} operations"
                );
            });
            assert!(inbox.iter().enumerate().all(|(i, &v)| v == i as u32));
        })
        .unwrap();
    }
}
