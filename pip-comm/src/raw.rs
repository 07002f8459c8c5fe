//! Non-blocking point-to-point operations on raw byte buffers, without a scope: for language
//! bindings (such as a C MPI library) whose caller keeps each buffer alive until its
//! operation completes.
//!
//! [`immediate_send`] and [`immediate_receive`] start an operation on `len` bytes at a pointer
//! and return a [`RawRequest`]; [`RawRequest::test`], [`RawRequest::wait`] and
//! [`RawRequest::cancel`] are MPI's `MPI_Test`, `MPI_Wait` and `MPI_Cancel`. Statuses count
//! bytes. They are the operations of [`crate::request`] (same matching, same order, same
//! protocols), with the compiler's guarantee about buffers replaced by the caller's promise:
//! the functions that start an operation are `unsafe`.
//!
//! ```
//! use pip_comm::prelude::*;
//! use pip_comm::raw::{self, SendMode};
//!
//! pip_comm::run(2, |world| {
//!     let peer = 1 - world.rank();
//!     let out = [world.rank() as u8; 64];
//!     let mut inbox = [0u8; 64];
//!     // SAFETY: both buffers outlive the requests, which are waited for below, and are not
//!     // touched meanwhile.
//!     let (r, s) = unsafe {
//!         (
//!             raw::immediate_receive(&world, peer, 5, inbox.as_mut_ptr(), inbox.len()).unwrap(),
//!             raw::immediate_send(&world, peer, 5, out.as_ptr(), out.len(), SendMode::Standard)
//!                 .unwrap(),
//!         )
//!     };
//!     raw::wait_until(&world, || r.is_complete() && s.is_complete(), || r.ready() || s.ready())
//!         .unwrap();
//!     assert_eq!(r.wait().unwrap().count, 64); // bytes
//!     s.wait().unwrap();
//!     assert_eq!(inbox, [peer as u8; 64]);
//! })
//! .unwrap();
//! ```
//!
//! # Progress
//!
//! As everywhere in pip-comm, messages move only while this rank is inside a pip-comm call:
//! [`RawRequest::test`], [`RawRequest::is_complete`] and [`progress`] drain the incoming rings
//! once; [`RawRequest::wait`] and [`wait_until`] wait with the rank's wait policy (spin,
//! yield, sleep on the bell), visible to the watchdog and the wait board.
//!
//! # Truncation
//!
//! A receive of a message longer than its buffer completes with [`Error::Truncated`], as a
//! blocking receive: its `sender` and `tag` are the status' source and tag, `buffer_len`
//! bytes were received (the buffer is full) and `message_len` is the message's length in
//! bytes. That is what a binding puts in `MPI_Status` (with `MPI_ERR_TRUNCATE`).
//!
//! # Dropping a request
//!
//! Dropping a [`RawRequest`] in flight does not cancel its operation (MPI's
//! `MPI_Request_free`): a receive stays posted and takes its message later, a send stays
//! offered until the receiver copies it. The buffer must then stay valid for good.

use crate::endpoint::Mode;
use crate::error::{Error, Result};
use crate::rank::{Rank, Tag};
use crate::request::op::{wait_ops, Op, State};
use crate::request::{receive_op, send_op};
use crate::status::Status;
use crate::watchdog::What;
use crate::world::SimpleCommunicator;
use std::ptr::NonNull;
use std::rc::Rc;

/// How a send completes (MPI's send modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// `MPI_Isend`: complete at once up to the eager limit (the data is copied into a slot),
    /// else once the receiver has copied it.
    Standard,
    /// `MPI_Issend`: complete only once a receive has matched the message, whatever its
    /// size (to this rank itself too: a later receive of this rank completes it).
    Synchronous,
    /// `MPI_Irsend`: the caller promises that the receive is posted; sent as
    /// [`SendMode::Standard`] (which MPI allows).
    Ready,
}

impl SendMode {
    fn engine(self) -> Mode {
        match self {
            SendMode::Standard | SendMode::Ready => Mode::Standard,
            SendMode::Synchronous => Mode::Synchronous,
        }
    }
}

/// A non-blocking operation started by [`immediate_send`] or [`immediate_receive`]. Neither
/// `Send` nor `Sync`: it stays on its rank's thread. See the [module documentation](self).
pub struct RawRequest {
    op: Rc<Op>,
}

impl std::fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawRequest")
            .field(
                "complete",
                &matches!(*self.op.state.borrow(), State::Complete(_)),
            )
            .finish()
    }
}

impl RawRequest {
    /// Completes the operation if it can without waiting (`MPI_Test`): drains the incoming
    /// messages and polls once. `Ok(None)` while in flight, else the status (`count` in
    /// bytes): for a receive the sender, tag and length received; for a send this rank, the
    /// tag and the length sent. A success stays: a later call returns the same status.
    ///
    /// # Errors
    ///
    /// Once, when the operation completed with one: [`Error::Truncated`] (see the [module
    /// documentation](self#truncation)), [`Error::Cancelled`] after [`RawRequest::cancel`],
    /// [`Error::Aborted`]; then [`Error::RequestFinished`].
    pub fn test(&self) -> Result<Option<Status>> {
        if self.is_complete() {
            self.op.take().map(Some)
        } else {
            Ok(None)
        }
    }

    /// [`RawRequest::test`] without draining the incoming messages first: for a caller that
    /// checks many requests after draining once ([`progress`], or inside [`wait_until`], whose
    /// loop drains before every check). Without a drain since the message arrived, a receive
    /// stays `Ok(None)`.
    ///
    /// # Errors
    ///
    /// As [`RawRequest::test`].
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::raw::{self, SendMode};
    ///
    /// pip_comm::run(1, |world| {
    ///     let (out, mut inbox) = ([7u8; 8], [0u8; 8]);
    ///     // SAFETY: both buffers outlive the requests, which complete below.
    ///     let (r, s) = unsafe {
    ///         (
    ///             raw::immediate_receive(&world, 0, 1, inbox.as_mut_ptr(), 8).unwrap(),
    ///             raw::immediate_send(&world, 0, 1, out.as_ptr(), 8, SendMode::Standard).unwrap(),
    ///         )
    ///     };
    ///     raw::progress(&world); // once for both
    ///     assert_eq!(r.test_drained().unwrap().unwrap().count, 8);
    ///     assert!(s.test_drained().unwrap().is_some());
    /// })
    /// .unwrap();
    /// ```
    pub fn test_drained(&self) -> Result<Option<Status>> {
        if self.op.poll() {
            self.op.take().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Waits until the operation completes (`MPI_Wait`), with the rank's wait policy, and
    /// returns its status as [`RawRequest::test`] does.
    ///
    /// # Errors
    ///
    /// Those of [`RawRequest::test`]. On [`Error::Aborted`] the operation is cancelled or
    /// finished first, so its buffer is free.
    pub fn wait(&self) -> Result<Status> {
        wait_ops(&[&*self.op])?;
        self.op.take()
    }

    /// True once the operation has completed (draining the incoming messages and polling it
    /// once).
    pub fn is_complete(&self) -> bool {
        self.op.ep.drain_all();
        self.op.poll()
    }

    /// True when polling may achieve something without this rank's help (a cheap check for
    /// the `ready` argument of [`wait_until`]; true once complete).
    pub fn ready(&self) -> bool {
        self.op.ready()
    }

    /// Cancels the operation if it has not matched (`MPI_Cancel`): true when cancelled (the
    /// request then completes with [`Error::Cancelled`] and its buffer is free), false when
    /// it cannot be (it completes normally).
    ///
    /// A receive can be cancelled until a message has matched it. A send can be cancelled
    /// while it is a rendezvous offer that no receive has accepted: a standard send longer
    /// than the eager limit, or a synchronous send. An eager send, or a standard send to this
    /// rank itself (buffered), is complete at once and cannot be; nor a send whose data the
    /// receiver is copying (that copy is finished first, never waiting for user code).
    pub fn cancel(&self) -> bool {
        self.op.try_cancel(|| Error::Cancelled)
    }
}

/// The pointer for `len` bytes at `buf`: any non-null pointer serves zero bytes.
fn non_null(buf: *mut u8, len: usize) -> *mut u8 {
    if len == 0 {
        NonNull::dangling().as_ptr()
    } else {
        debug_assert!(!buf.is_null(), "a null buffer of {len} bytes");
        buf
    }
}

/// Starts sending the `len` bytes at `buf` to rank `dest` of `comm` with `tag`, in `mode`
/// (`MPI_Isend`, `MPI_Issend`, `MPI_Irsend`). The status counts bytes.
///
/// # Safety
///
/// `buf` is readable for `len` bytes (it may be null when `len` is 0) and not written until
/// the request completes (or for good if the request is dropped in flight).
///
/// # Errors
///
/// [`Error::RankOutOfRange`], [`Error::AnySourceNotAllowed`], [`Error::InvalidTag`],
/// [`Error::Aborted`].
pub unsafe fn immediate_send(
    comm: &SimpleCommunicator,
    dest: Rank,
    tag: Tag,
    buf: *const u8,
    len: usize,
    mode: SendMode,
) -> Result<RawRequest> {
    // SAFETY: the caller keeps the `len` bytes at `buf` readable and unchanged until the
    // request completes; the slice is not used past that (`send_op` reads it until then).
    let data = unsafe { std::slice::from_raw_parts(non_null(buf.cast_mut(), len), len) };
    let op = send_op(comm, dest, tag, data, len, mode.engine())?;
    Ok(RawRequest { op })
}

/// Posts a receive into the `len` bytes at `buf` from rank `source` of `comm` (or
/// [`ANY_SOURCE`](crate::ANY_SOURCE)) with `tag` (or [`ANY_TAG`](crate::ANY_TAG))
/// (`MPI_Irecv`). The status counts bytes.
///
/// # Safety
///
/// `buf` is writable for `len` bytes (it may be null when `len` is 0) and not otherwise
/// accessed until the request completes (or for good if the request is dropped in flight).
///
/// # Errors
///
/// [`Error::RankOutOfRange`], [`Error::InvalidTag`].
pub unsafe fn immediate_receive(
    comm: &SimpleCommunicator,
    source: Rank,
    tag: Tag,
    buf: *mut u8,
    len: usize,
) -> Result<RawRequest> {
    // SAFETY: forwarded from the caller; a dangling pointer for zero bytes is never written.
    let op = unsafe { receive_op(comm, source, tag, non_null(buf, len), len, (len, 1))? };
    Ok(RawRequest { op })
}

/// Waits with the rank's wait policy (spin, yield, sleep on the bell; visible to the
/// watchdog) until `done()` returns true, draining incoming messages before each call.
/// Before sleeping it calls `ready()`, which must be true whenever polling may achieve
/// something that no message to this rank announces: whenever one of the caller's raw
/// requests could complete without this rank's help (`reqs.iter().any(RawRequest::ready)`),
/// or another condition that `done` watches could change. So a binding waits for a mix of
/// operations (`MPI_Waitall`, `MPI_Waitany`, its own collectives built from raw requests).
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::raw::{self, SendMode};
///
/// pip_comm::run(3, |world| {
///     if world.rank() == 0 {
///         let mut inbox = [[0u8; 4]; 2];
///         let [a, b] = &mut inbox;
///         // SAFETY: the buffers outlive the requests, complete before they are read.
///         let reqs = unsafe {
///             [
///                 raw::immediate_receive(&world, 1, 0, a.as_mut_ptr(), 4).unwrap(),
///                 raw::immediate_receive(&world, 2, 0, b.as_mut_ptr(), 4).unwrap(),
///             ]
///         };
///         // MPI_Waitall over both.
///         raw::wait_until(
///             &world,
///             || reqs.iter().all(|r| r.is_complete()),
///             || reqs.iter().any(|r| r.ready()),
///         )
///         .unwrap();
///         assert_eq!(inbox, [[1; 4], [2; 4]]);
///     } else {
///         let v = [world.rank() as u8; 4];
///         // SAFETY: `v` outlives the request, waited for at once.
///         let s = unsafe { raw::immediate_send(&world, 0, 0, v.as_ptr(), 4, SendMode::Standard) };
///         s.unwrap().wait().unwrap();
///     }
/// })
/// .unwrap();
/// ```
///
/// # Errors
///
/// [`Error::Aborted`] when a rank of the world panicked (the requests are left as they are:
/// cancel them).
pub fn wait_until(
    comm: &SimpleCommunicator,
    mut done: impl FnMut() -> bool,
    ready: impl Fn() -> bool,
) -> Result<()> {
    let ep = &comm.ep;
    ep.wait_until(
        What::Requests(0),
        true,
        || {
            ep.drain_all();
            done().then_some(())
        },
        ready,
    )
}

/// Moves the messages that have arrived to their posted receives or the unexpected queue,
/// once, without waiting (progress for `MPI_Test*` and `MPI_Iprobe` loops).
///
/// ```
/// pip_comm::run(1, |world| pip_comm::raw::progress(&world)).unwrap();
/// ```
pub fn progress(comm: &SimpleCommunicator) {
    comm.ep.drain_all();
}
