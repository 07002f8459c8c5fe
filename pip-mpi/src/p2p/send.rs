//! The send modes: `MPI_Send`, `MPI_Ssend`, `MPI_Rsend` and their immediate forms
//! `MPI_Isend`, `MPI_Issend`, `MPI_Irsend`.
//!
//! A standard send returns once the buffer may be reused: at once up to pip-comm's eager
//! limit (the data was copied into a ring slot), after the receiver copied it above. A
//! synchronous send returns once a receive has matched it. A ready send is a standard send
//! (MPI allows it: the mode only adds a promise about the receiver). The immediate forms start
//! the same operations as `pip_comm::raw` requests.

use super::{contiguous_len, elements, Done, Outgoing, PROC_NULL_STATUS};
use crate::comm::Comm;
use crate::datatype::Datatype;
use crate::error::{call_on, On, Result};
use crate::handle::{Handle, MpiStatus, MPI_PROC_NULL};
use crate::request::Pending;
use pip_comm::prelude::*;
use pip_comm::raw::{self, RawRequest, SendMode};
use std::ffi::{c_int, c_void};
use std::rc::Rc;

/// A blocking send in `mode` (the body of `MPI_Send`, `MPI_Ssend`, `MPI_Rsend`).
///
/// # Safety
///
/// `buf` holds `count` elements of `datatype` (MPI's rule).
unsafe fn blocking(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    mode: SendMode,
) -> Result<()> {
    crate::comm::with(comm, |c| {
        // SAFETY: forwarded from the caller.
        unsafe { send_on(c, buf, count, datatype, dest, tag, mode) }
    })
}

/// [`blocking`] on communicator `c`.
///
/// # Safety
///
/// As [`blocking`].
unsafe fn send_on(
    c: &Comm,
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    mode: SendMode,
) -> Result<()> {
    let fast = crate::datatype::contiguous_predefined_size(datatype)
        .and_then(|size| contiguous_len(buf, count, size));
    let msg = match fast {
        // A predefined contiguous type: the bytes as they are, without the rank's tables.
        Some(len) => Outgoing::Borrowed(buf.cast(), len),
        None => {
            let t = crate::datatype::get_committed(datatype)?;
            let n = elements(buf, count, &t)?;
            // SAFETY: `buf` holds `n` elements of `t` (the caller's promise).
            unsafe { Outgoing::new(buf, n, &t) }
        }
    };
    if dest == MPI_PROC_NULL {
        return Ok(());
    }
    // SAFETY: the user's buffer is not changed during a blocking send (MPI's rule).
    let data = unsafe { msg.slice() };
    let peer = c.pc.process_at_rank(dest);
    match mode {
        SendMode::Synchronous => peer.synchronous_send_with_tag(data, tag)?,
        SendMode::Standard | SendMode::Ready => peer.send_with_tag(data, tag)?,
    }
    Ok(())
}

/// `MPI_Send`: a standard-mode blocking send. Returns once `buf` may be reused.
#[no_mangle]
pub unsafe extern "C" fn MPI_Send(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
) -> c_int {
    // SAFETY: forwarded: the caller's buffer holds the elements, as MPI requires.
    match unsafe { super::hot::send(buf, count, datatype, dest, tag, comm) } {
        Some(code) => code,
        // SAFETY: as above.
        None => unsafe { send_general(buf, count, datatype, dest, tag, comm) },
    }
}

/// `MPI_Send` when the hot path does not take the call (kept out of the hot path).
///
/// # Safety
///
/// As `MPI_Send`.
#[cold]
#[inline(never)]
unsafe fn send_general(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Send", On::Comm(comm), || {
        // SAFETY: forwarded: the caller's buffer holds the elements, as MPI requires.
        unsafe { blocking(buf, count, datatype, dest, tag, comm, SendMode::Standard) }
    })
}

/// `MPI_Ssend`: returns once a receive has matched the message. To the calling rank itself
/// it needs a receive already posted (`MPI_Irecv`) that takes it, else it fails with
/// `MPI_ERR_OTHER` (it could never complete).
#[no_mangle]
pub unsafe extern "C" fn MPI_Ssend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Ssend", On::Comm(comm), || {
        // SAFETY: forwarded: the caller's buffer holds the elements, as MPI requires.
        unsafe { blocking(buf, count, datatype, dest, tag, comm, SendMode::Synchronous) }
    })
}

/// `MPI_Rsend`: the ready mode, sent as a standard send (MPI allows this).
#[no_mangle]
pub unsafe extern "C" fn MPI_Rsend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Rsend", On::Comm(comm), || {
        // SAFETY: forwarded: the caller's buffer holds the elements, as MPI requires.
        unsafe { blocking(buf, count, datatype, dest, tag, comm, SendMode::Ready) }
    })
}

/// An immediate send in flight. The packed copy (for a non-contiguous datatype) and the
/// communicator live as long as the operation.
struct SendOp {
    raw: RawRequest,
    _msg: Outgoing,
    _comm: Rc<Comm>,
}

impl Pending for SendOp {
    fn poll(&mut self) -> Option<Result<MpiStatus>> {
        // The completion calls drain the rank's messages once for all their requests.
        match self.raw.test_drained() {
            Ok(None) => None,
            Ok(Some(s)) => Some(Ok(super::status_of(s))),
            Err(e) => Some(Err(e.into())),
        }
    }

    fn ready(&self) -> bool {
        self.raw.ready()
    }
}

/// Starts sending `n` elements of `t` at `buf` (`n` checked by [`elements`]) to `dest` of `c`
/// in `mode`, as a request.
///
/// # Safety
///
/// `buf` holds the `n` elements and is not changed until the request completes.
pub unsafe fn start(
    c: &Rc<Comm>,
    t: &Datatype,
    buf: *const c_void,
    n: usize,
    dest: c_int,
    tag: c_int,
    mode: SendMode,
) -> Result<Box<dyn Pending>> {
    if dest == MPI_PROC_NULL {
        return Ok(Box::new(Done(Some(Ok(PROC_NULL_STATUS)))));
    }
    // SAFETY: forwarded from the caller.
    let msg = unsafe { Outgoing::new(buf, n, t) };
    let (p, len) = msg.bytes();
    // SAFETY: the bytes stay readable and unchanged until the request completes: the user's
    // (the caller's promise) or the packed copy, which the request owns.
    let raw = unsafe { raw::immediate_send(&c.pc, dest, tag, p, len, mode)? };
    Ok(started(raw, msg, c.clone()))
}

/// The request of a send that `raw` started, keeping its message and communicator alive.
pub(super) fn started(raw: RawRequest, msg: Outgoing, comm: Rc<Comm>) -> Box<dyn Pending> {
    Box::new(SendOp {
        raw,
        _msg: msg,
        _comm: comm,
    })
}

/// The body of `MPI_Isend`, `MPI_Issend` and `MPI_Irsend`.
///
/// # Safety
///
/// As [`start`]; `request` is valid for a write.
#[allow(clippy::too_many_arguments)]
unsafe fn immediate(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
    mode: SendMode,
) -> Result<()> {
    let c = crate::comm::get(comm)?;
    let t = crate::datatype::get_committed(datatype)?;
    let n = elements(buf, count, &t)?;
    let request = crate::comm::out(request)?;
    // SAFETY: forwarded from the caller.
    let op = unsafe { start(&c, &t, buf, n, dest, tag, mode)? };
    let h = crate::request::insert_on(op, On::Comm(comm));
    // SAFETY: checked non-null; the caller passes a valid request pointer.
    unsafe { request.write(h) };
    Ok(())
}

/// `MPI_Isend`: starts a standard-mode send.
#[no_mangle]
pub unsafe extern "C" fn MPI_Isend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    // SAFETY: forwarded (MPI's rules for the buffer and the request).
    if let Some(code) = unsafe { super::hot::isend(buf, count, datatype, dest, tag, comm, request) }
    {
        return code;
    }
    call_on("MPI_Isend", On::Comm(comm), || {
        // SAFETY: forwarded (MPI's rules for the buffer and the request).
        unsafe {
            immediate(
                buf,
                count,
                datatype,
                dest,
                tag,
                comm,
                request,
                SendMode::Standard,
            )
        }
    })
}

/// `MPI_Issend`: starts a synchronous send (complete once a receive has matched it, to the
/// calling rank itself too).
#[no_mangle]
pub unsafe extern "C" fn MPI_Issend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    call_on("MPI_Issend", On::Comm(comm), || {
        // SAFETY: forwarded (MPI's rules for the buffer and the request).
        unsafe {
            immediate(
                buf,
                count,
                datatype,
                dest,
                tag,
                comm,
                request,
                SendMode::Synchronous,
            )
        }
    })
}

/// `MPI_Irsend`: starts a ready-mode send (a standard send here).
#[no_mangle]
pub unsafe extern "C" fn MPI_Irsend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    call_on("MPI_Irsend", On::Comm(comm), || {
        // SAFETY: forwarded (MPI's rules for the buffer and the request).
        unsafe {
            immediate(
                buf,
                count,
                datatype,
                dest,
                tag,
                comm,
                request,
                SendMode::Ready,
            )
        }
    })
}
