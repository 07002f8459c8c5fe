//! Receives: `MPI_Recv`, `MPI_Irecv`, and the send-receives `MPI_Sendrecv` and
//! `MPI_Sendrecv_replace`.
//!
//! A send-receive posts its receive and starts its send as `pip_comm::raw` requests, then
//! waits for both, so two ranks may exchange messages of any size with each other (each
//! one's rendezvous finds the other's receive posted). `MPI_Sendrecv_replace` receives into a
//! temporary buffer, sends from the user's, and copies the temporary buffer in once both are
//! complete.

use super::{
    contiguous_len, elements, outcome, put, received, Done, Incoming, Outgoing, Received,
    PROC_NULL_STATUS,
};
use crate::comm::Comm;
use crate::datatype::Datatype;
use crate::error::{call_on, On, Result};
use crate::handle::{Handle, MpiStatus, MPI_PROC_NULL};
use crate::request::Pending;
use pip_comm::prelude::*;
use pip_comm::raw::{self, RawRequest, SendMode};
use std::ffi::{c_int, c_void};
use std::rc::Rc;

/// Reports a receive to the caller: the status written (also on truncation), the error
/// returned.
///
/// # Safety
///
/// As [`put`].
pub(super) unsafe fn report(r: Received, status: *mut MpiStatus) -> Result<()> {
    match r {
        Ok(s) => {
            // SAFETY: forwarded from the caller.
            unsafe { put(status, &s) };
            Ok(())
        }
        Err((e, s)) => {
            if let Some(s) = s {
                // SAFETY: forwarded from the caller.
                unsafe { put(status, &s) };
            }
            Err(e)
        }
    }
}

/// `MPI_Recv`: receives a message from `source` (or `MPI_ANY_SOURCE`) with `tag` (or
/// `MPI_ANY_TAG`). The status counts bytes. A longer message fills the buffer and fails with
/// `MPI_ERR_TRUNCATE` (the status says what was received).
#[no_mangle]
pub unsafe extern "C" fn MPI_Recv(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    source: c_int,
    tag: c_int,
    comm: Handle,
    status: *mut MpiStatus,
) -> c_int {
    // SAFETY: forwarded: MPI's rules for the buffer and the status.
    match unsafe { super::hot::recv(buf, count, datatype, source, tag, comm, status) } {
        Some(code) => code,
        // SAFETY: as above.
        None => unsafe { recv_general(buf, count, datatype, source, tag, comm, status) },
    }
}

/// `MPI_Recv` when the hot path does not take the call (kept out of the hot path).
///
/// # Safety
///
/// As `MPI_Recv`.
#[cold]
#[inline(never)]
unsafe fn recv_general(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    source: c_int,
    tag: c_int,
    comm: Handle,
    status: *mut MpiStatus,
) -> c_int {
    call_on("MPI_Recv", On::Comm(comm), || {
        // The communicator is borrowed, not counted: the fast path.
        crate::comm::with(comm, |c| {
            let fast = crate::datatype::contiguous_predefined_size(datatype)
                .and_then(|size| contiguous_len(buf, count, size));
            let mut into = match fast {
                // A predefined contiguous type: straight into the buffer, without the rank's
                // tables.
                Some(len) => Incoming::Direct(buf.cast(), len),
                None => {
                    let t = crate::datatype::get_committed(datatype)?;
                    let n = elements(buf, count, &t)?;
                    Incoming::new(buf, n, &t)
                }
            };
            if source == MPI_PROC_NULL {
                // SAFETY: the caller passes a valid status or MPI_STATUS_IGNORE.
                unsafe { put(status, &PROC_NULL_STATUS) };
                return Ok(());
            }
            // SAFETY: the user's buffer is ours until the blocking receive returns (MPI's rule).
            let r =
                c.pc.process_at_rank(source)
                    .receive_into_with_tag(unsafe { into.slice() }, tag);
            // SAFETY: the buffer holds `n` elements of `t`; the status pointer is valid (MPI's
            // rules).
            unsafe { report(received(r, &mut into), status) }
        })
    })
}

/// An immediate receive in flight, with its temporary buffer for a non-contiguous datatype
/// and its communicator.
struct RecvOp {
    raw: RawRequest,
    into: Incoming,
    _comm: Rc<Comm>,
}

impl Pending for RecvOp {
    fn poll(&mut self) -> Option<Result<MpiStatus>> {
        // The completion calls drain the rank's messages once for all their requests.
        let r = match self.raw.test_drained() {
            Ok(None) => return None,
            Ok(Some(s)) => Ok(s),
            Err(pip_comm::Error::Cancelled) => {
                return Some(Ok(MpiStatus {
                    cancelled: 1,
                    ..crate::request::EMPTY
                }))
            }
            Err(e) => Err(e),
        };
        // SAFETY: the user's buffer holds the receive's elements until the request completes
        // (MPI's rule for `MPI_Irecv`), which is now.
        Some(outcome(unsafe { received(r, &mut self.into) }))
    }

    fn ready(&self) -> bool {
        self.raw.ready()
    }

    fn cancel(&mut self) -> bool {
        self.raw.cancel()
    }
}

/// Posts a receive of `n` elements of `t` at `buf` (`n` checked by [`elements`]) from
/// `source` of `c`, as a request.
///
/// # Safety
///
/// `buf` holds the `n` elements and is not otherwise accessed until the request completes.
pub unsafe fn start(
    c: &Rc<Comm>,
    t: &Rc<Datatype>,
    buf: *mut c_void,
    n: usize,
    source: c_int,
    tag: c_int,
) -> Result<Box<dyn Pending>> {
    if source == MPI_PROC_NULL {
        return Ok(Box::new(Done(Some(Ok(PROC_NULL_STATUS)))));
    }
    let mut into = Incoming::new(buf, n, t);
    let (p, len) = into.target();
    // SAFETY: the target is the user's buffer (the caller's promise) or the temporary buffer
    // the request owns; either stays valid until the request completes.
    let raw = unsafe { raw::immediate_receive(&c.pc, source, tag, p, len)? };
    Ok(posted(raw, into, c.clone()))
}

/// The request of a receive that `raw` posted into `into`, keeping the communicator alive.
pub(super) fn posted(raw: RawRequest, into: Incoming, comm: Rc<Comm>) -> Box<dyn Pending> {
    Box::new(RecvOp {
        raw,
        into,
        _comm: comm,
    })
}

/// `MPI_Irecv`: posts a receive; complete it with `MPI_Wait` or `MPI_Test` (or their
/// forms over several requests), cancel it with `MPI_Cancel` while unmatched.
#[no_mangle]
pub unsafe extern "C" fn MPI_Irecv(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    source: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    if let Some(code) =
        // SAFETY: forwarded (MPI's rules for the buffer and the request).
        unsafe { super::hot::irecv(buf, count, datatype, source, tag, comm, request) }
    {
        return code;
    }
    call_on("MPI_Irecv", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let t = crate::datatype::get_committed(datatype)?;
        let n = elements(buf, count, &t)?;
        let request = crate::comm::out(request)?;
        // SAFETY: the user's buffer is the request's until it completes (MPI's rule).
        let op = unsafe { start(&c, &t, buf, n, source, tag)? };
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        unsafe { request.write(crate::request::insert_on(op, On::Comm(comm))) };
        Ok(())
    })
}

/// Completes a raw request that is being abandoned: cancelled if it can be, else waited for
/// (so that no buffer is used after the call returns).
fn settle(r: &RawRequest) {
    if !r.cancel() {
        let _ = r.wait();
    }
}

/// Sends `msg` to `dest` and receives into `into` from `source` at once, and waits for both.
///
/// # Safety
///
/// `msg` and `into` are valid (see [`Outgoing::slice`] and [`Incoming::slice`]) until this
/// returns, and the user's elements behind `into` are writable.
#[allow(clippy::too_many_arguments)]
unsafe fn exchange(
    c: &Comm,
    msg: &Outgoing,
    dest: c_int,
    sendtag: c_int,
    into: &mut Incoming,
    source: c_int,
    recvtag: c_int,
) -> Received {
    let recv = if source == MPI_PROC_NULL {
        None
    } else {
        let (p, len) = into.target();
        // SAFETY: the target stays valid until this function returns, and the receive is
        // complete (or cancelled) before then.
        let r = unsafe { raw::immediate_receive(&c.pc, source, recvtag, p, len) };
        Some(r.map_err(|e| (e.into(), None))?)
    };
    let send = if dest == MPI_PROC_NULL {
        None
    } else {
        let (p, len) = msg.bytes();
        // SAFETY: the message stays valid until this function returns, and the send is
        // complete (or settled) before then.
        match unsafe { raw::immediate_send(&c.pc, dest, sendtag, p, len, SendMode::Standard) } {
            Ok(s) => Some(s),
            Err(e) => {
                recv.as_ref().map(settle);
                return Err((e.into(), None));
            }
        }
    };
    let waited = raw::wait_until(
        &c.pc,
        || {
            recv.as_ref().is_none_or(RawRequest::is_complete)
                && send.as_ref().is_none_or(RawRequest::is_complete)
        },
        || {
            recv.as_ref().is_some_and(RawRequest::ready)
                || send.as_ref().is_some_and(RawRequest::ready)
        },
    );
    if let Err(e) = waited {
        recv.as_ref().map(settle);
        send.as_ref().map(settle);
        return Err((e.into(), None));
    }
    if let Some(s) = send {
        s.wait().map_err(|e| (e.into(), None))?;
    }
    match recv {
        None => Ok(PROC_NULL_STATUS),
        // SAFETY: forwarded from the caller.
        Some(r) => unsafe { received(r.wait(), into) },
    }
}

/// `MPI_Sendrecv`: sends to `dest` and receives from `source` at once; returns when both are
/// complete. Either may be `MPI_PROC_NULL`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Sendrecv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    dest: c_int,
    sendtag: c_int,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    source: c_int,
    recvtag: c_int,
    comm: Handle,
    status: *mut MpiStatus,
) -> c_int {
    call_on("MPI_Sendrecv", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let st = crate::datatype::get_committed(sendtype)?;
        let rt = crate::datatype::get_committed(recvtype)?;
        let sn = elements(sendbuf, sendcount, &st)?;
        let rn = elements(recvbuf, recvcount, &rt)?;
        // SAFETY: the send buffer holds `sn` elements (MPI's rule).
        let msg = unsafe { Outgoing::new(sendbuf, sn, &st) };
        let mut into = Incoming::new(recvbuf, rn, &rt);
        // SAFETY: both buffers are the call's until it returns; the status pointer is valid
        // (MPI's rules).
        unsafe {
            report(
                exchange(&c, &msg, dest, sendtag, &mut into, source, recvtag),
                status,
            )
        }
    })
}

/// `MPI_Sendrecv_replace`: sends the buffer's elements to `dest` and replaces them with the
/// message received from `source` (received into a temporary buffer first).
#[no_mangle]
pub unsafe extern "C" fn MPI_Sendrecv_replace(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    sendtag: c_int,
    source: c_int,
    recvtag: c_int,
    comm: Handle,
    status: *mut MpiStatus,
) -> c_int {
    call_on("MPI_Sendrecv_replace", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let t = crate::datatype::get_committed(datatype)?;
        let n = elements(buf, count, &t)?;
        // SAFETY: the buffer holds `n` elements (MPI's rule); it is only read until the
        // exchange is complete.
        let msg = unsafe { Outgoing::new(buf, n, &t) };
        let mut into = Incoming::Packed {
            tmp: vec![0; n * t.size],
            dst: buf.cast(),
            t: t.clone(),
        };
        // SAFETY: as above; the temporary buffer is copied into the user's elements only
        // once the send has completed.
        unsafe {
            report(
                exchange(&c, &msg, dest, sendtag, &mut into, source, recvtag),
                status,
            )
        }
    })
}
