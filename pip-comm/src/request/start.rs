//! Starting non-blocking operations: the immediate sends of `Destination` and receives of
//! `Source`, which return a [`Request`].

use super::op::State;
use super::{Request, Scope};
use crate::datatype::{bytes_of, Buffer, BufferMut};
use crate::endpoint::{Mode, Started};
use crate::error::Result;
use crate::rank::{Rank, Tag};
use crate::status::Status;
use crate::world::SimpleCommunicator;

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
    let dst = comm.send_target(rank, tag)?;
    let data = buf.as_slice();
    let status = Status {
        source: comm.rank(),
        tag,
        count: data.len(),
    };
    let ep = &comm.ep;
    if mode == Mode::Synchronous && dst == ep.me {
        comm.send_typed(rank, tag, data, Mode::Synchronous)?;
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

/// Posts a receive into `buf` from `rank` of `comm` (or `ANY_SOURCE`) with `tag` (or
/// `ANY_TAG`); the request borrows `buf` for the scope.
pub(crate) fn post_receive<'scope, B: BufferMut + ?Sized>(
    scope: &'scope Scope<'scope, '_>,
    comm: &SimpleCommunicator,
    rank: Rank,
    buf: &'scope mut B,
    tag: Tag,
) -> Result<Request<'scope>> {
    let filter = comm.source_filter(rank, tag)?;
    let buf = buf.as_mut_slice();
    let (capacity, size) = (buf.len(), std::mem::size_of_val(buf));
    // SAFETY: `buf` is exclusively borrowed for `'scope`, and the scope completes or cancels
    // the receive before `'scope` ends (see `scope`).
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
