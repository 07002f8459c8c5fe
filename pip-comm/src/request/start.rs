//! Starting non-blocking operations: the immediate sends of `Destination` and receives of
//! `Source`, which return a [`Request`], and the byte-level operations under them, which
//! [`crate::raw`] uses too.

use super::op::{Op, State};
use super::{Request, Scope};
use crate::datatype::{bytes_of, Buffer, BufferMut};
use crate::endpoint::{Mode, Started};
use crate::error::Result;
use crate::rank::{Rank, Tag};
use crate::status::Status;
use crate::world::SimpleCommunicator;
use std::rc::Rc;

/// Starts sending `buf` to `rank` of `comm` with `tag` in `mode`; the request borrows `buf`
/// for the scope.
pub(crate) fn start_send<'scope, B: Buffer + ?Sized>(
    scope: &'scope Scope<'scope, '_>,
    comm: &SimpleCommunicator,
    rank: Rank,
    buf: &'scope B,
    tag: Tag,
    mode: Mode,
) -> Result<Request<'scope>> {
    let data = buf.as_slice();
    if mode == Mode::Synchronous && comm.send_target(rank, tag)? == comm.ep.me {
        // In a scope a synchronous send to oneself completes at once if a posted receive takes
        // it, else fails (`SynchronousSendToSelf`), as the blocking one does.
        comm.send_typed(rank, tag, data, Mode::Synchronous)?;
        let status = Status {
            source: comm.rank(),
            tag,
            count: data.len(),
        };
        let op = Op::new(&comm.ep, State::Complete(Some(Ok(status))));
        return Ok(Request::new(scope, op));
    }
    let op = send_op(comm, rank, tag, bytes_of(data), data.len(), mode)?;
    Ok(Request::new(scope, op))
}

/// Starts sending the bytes `data` to `rank` of `comm` with `tag` in `mode`: an operation
/// whose status gives `count` (the length in the caller's elements). A rendezvous send
/// (a synchronous one included, to this rank too: it completes once a receive takes it)
/// reads `data` until it completes or is cancelled: the caller keeps it alive and unchanged
/// until then.
pub(crate) fn send_op(
    comm: &SimpleCommunicator,
    rank: Rank,
    tag: Tag,
    data: &[u8],
    count: usize,
    mode: Mode,
) -> Result<Rc<Op>> {
    let dst = comm.send_target(rank, tag)?;
    let status = Status {
        source: comm.rank(),
        tag,
        count,
    };
    let ep = &comm.ep;
    let state = match ep.start_send(dst, comm.ctx, tag, data, mode)? {
        Started::Done => State::Complete(Some(Ok(status))),
        Started::Rndv(send) => State::Send {
            send: Some(send),
            status,
        },
    };
    Ok(Op::new(ep, state))
}

/// Posts a receive into `buf` from `rank` of `comm` (or `ANY_SOURCE`) with `tag` (or
/// `ANY_TAG`); the request borrows `buf` for the scope.
pub(crate) fn post_receive<'scope, B: BufferMut + ?Sized>(
    scope: &'scope Scope<'scope, '_>,
    comm: &SimpleCommunicator,
    rank: Rank,
    buf: &'scope mut B,
    tag: Tag,
) -> Result<Request<'scope>> {
    let buf = buf.as_mut_slice();
    let (capacity, bytes) = (buf.len(), std::mem::size_of_val(buf));
    // SAFETY: `buf` is exclusively borrowed for `'scope`, and the scope completes or cancels
    // the receive before `'scope` ends (see `scope`).
    let op = unsafe {
        receive_op(
            comm,
            rank,
            tag,
            buf.as_mut_ptr().cast::<u8>(),
            bytes,
            (capacity, std::mem::size_of::<B::Item>()),
        )?
    };
    Ok(Request::new(scope, op))
}

/// Posts a receive into the `bytes` bytes at `dst` from `rank` of `comm` (or `ANY_SOURCE`)
/// with `tag` (or `ANY_TAG`). `elements` is the buffer as its status counts it: capacity in
/// elements and element size (`(bytes, 1)` for a status in bytes).
///
/// # Safety
///
/// `dst` is valid for writes of `bytes` bytes (and non-null, aligned for the element type)
/// and not otherwise accessed until the operation completes or is cancelled.
pub(crate) unsafe fn receive_op(
    comm: &SimpleCommunicator,
    rank: Rank,
    tag: Tag,
    dst: *mut u8,
    bytes: usize,
    elements: (usize, usize),
) -> Result<Rc<Op>> {
    let filter = comm.source_filter(rank, tag)?;
    // SAFETY: forwarded from the caller.
    let (id, target) = unsafe { comm.ep.post_recv(filter, dst, bytes) };
    let state = State::Recv {
        id,
        target,
        capacity: elements.0,
        size: elements.1,
        group: comm.group.clone(),
    };
    Ok(Op::new(&comm.ep, state))
}
