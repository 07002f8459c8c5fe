//! The hot path of `MPI_Send`, `MPI_Recv`, `MPI_Isend` and `MPI_Irecv`: the calls of
//! latency and bandwidth loops, with as little as possible between the C caller and pip-comm.
//!
//! A call takes this path when its datatype is a predefined contiguous type (a size
//! from a constant table, [`crate::datatype::contiguous_predefined_size`]), its count and
//! buffer give a byte length without an error, its peer is a rank or `MPI_ANY_SOURCE` (not
//! `MPI_PROC_NULL`), its request pointer (for the immediate calls) is not null, and its
//! communicator is in the rank's small cache of communicators ([`crate::comm::cached`]: one
//! that a blocking call used lately). An immediate call's request holds a counted reference to
//! the communicator, as the general path's does. Then it does exactly what
//! the general path does with those arguments (the same pip-comm call on the same bytes, the
//! same status), minus the general path's steps that these arguments make needless: the look
//! at the rank's tables, the reference counts, the closures of the error wrapper. Every other
//! call, and every call whose answer is an error, goes the general way or through the same
//! error functions, so errors, their messages and their handlers are the same on both paths.
//! A panic inside pip-comm is caught here too, as [`crate::error::call_on`] catches it: it
//! never unwinds into C.

use super::recv::report;
use super::{contiguous_len, put, received, status_of, Incoming};
use crate::comm::Comm;
use crate::error::{panicked, raise, On, MPI_SUCCESS};
use crate::handle::{Handle, MpiStatus, MPI_PROC_NULL};
use crate::request::insert_on;
use pip_comm::prelude::*;
use pip_comm::raw::{self, SendMode};
use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::rc::Rc;

/// The byte length of `count` elements of `datatype` at `buf` and the communicator of handle
/// `comm`, when a call with these arguments can take the hot path.
fn eligible(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    peer: c_int,
    comm: Handle,
) -> Option<(usize, NonNull<Comm>)> {
    let size = crate::datatype::contiguous_predefined_size(datatype)?;
    let len = contiguous_len(buf, count, size)?;
    if peer == MPI_PROC_NULL {
        return None;
    }
    Some((len, crate::comm::cached(comm)?))
}

/// `MPI_Send`'s hot path: `Some(code)` if it took the call, `None` if the general path must.
///
/// # Safety
///
/// As `MPI_Send`: `buf` holds `count` elements of `datatype`.
#[inline(always)]
pub unsafe fn send(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
) -> Option<c_int> {
    let (len, c) = eligible(buf, count, datatype, dest, comm)?;
    let data = if len == 0 {
        &[][..]
    } else {
        // SAFETY: `buf` is not null (`contiguous_len`) and holds `len` bytes that stay
        // unchanged during a blocking send (MPI's rules).
        unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
    };
    let sent = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the rank's table holds the cached communicator during this call, which frees
        // none (`comm::cached`).
        let c = unsafe { c.as_ref() };
        c.pc.process_at_rank(dest).send_with_tag(data, tag)
    }));
    Some(match sent {
        Ok(Ok(())) => MPI_SUCCESS,
        failed => send_failed(comm, failed),
    })
}

/// The error code of a hot-path send that failed or panicked (kept out of the hot path).
#[cold]
#[inline(never)]
fn send_failed(comm: Handle, failed: std::thread::Result<pip_comm::Result<()>>) -> c_int {
    let e = match failed {
        Ok(Ok(())) => return MPI_SUCCESS,
        Ok(Err(e)) => e.into(),
        Err(payload) => panicked(payload),
    };
    raise("MPI_Send", On::Comm(comm), e)
}

/// `MPI_Recv`'s hot path: `Some(code)` if it took the call, `None` if the general path must.
///
/// # Safety
///
/// As `MPI_Recv`: `buf` has room for `count` elements of `datatype`; `status` is valid,
/// `MPI_STATUS_IGNORE` or null.
#[inline(always)]
pub unsafe fn recv(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    source: c_int,
    tag: c_int,
    comm: Handle,
    status: *mut MpiStatus,
) -> Option<c_int> {
    let (len, c) = eligible(buf, count, datatype, source, comm)?;
    let into = if len == 0 {
        &mut [][..]
    } else {
        // SAFETY: `buf` is not null (`contiguous_len`) and its `len` bytes are ours until the
        // blocking receive returns (MPI's rules).
        unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) }
    };
    let got = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in `send`.
        let c = unsafe { c.as_ref() };
        c.pc.process_at_rank(source)
            .receive_into_with_tag(into, tag)
    }));
    Some(match got {
        Ok(Ok(s)) => {
            // SAFETY: the caller's status pointer (MPI's rules).
            unsafe { put(status, &status_of(s)) };
            MPI_SUCCESS
        }
        // SAFETY: the receive is over; the buffer and the status are the caller's.
        failed => unsafe { recv_failed(buf, len, comm, status, failed) },
    })
}

/// The error code of a hot-path receive that failed or panicked, with the status of a
/// truncation written as the general path writes it (kept out of the hot path).
///
/// # Safety
///
/// `buf` holds the `len` bytes received into; `status` is the caller's status pointer.
#[cold]
#[inline(never)]
unsafe fn recv_failed(
    buf: *mut c_void,
    len: usize,
    comm: Handle,
    status: *mut MpiStatus,
    failed: std::thread::Result<pip_comm::Result<pip_comm::Status>>,
) -> c_int {
    let e = match failed {
        Ok(r) => {
            // The general path's reading of the outcome (a truncation fills the status too).
            let mut direct = Incoming::Direct(buf.cast(), len);
            // SAFETY: the receive is over; `direct` is the caller's buffer, and `status` the
            // caller's status pointer (MPI's rules).
            match unsafe { report(received(r, &mut direct), status) } {
                Ok(()) => return MPI_SUCCESS,
                Err(e) => e,
            }
        }
        Err(payload) => panicked(payload),
    };
    raise("MPI_Recv", On::Comm(comm), e)
}

/// A counted reference to the cached communicator `c`, for a request to keep.
///
/// # Safety
///
/// `c` comes from [`crate::comm::cached`] during this call.
unsafe fn counted(c: NonNull<Comm>) -> Rc<Comm> {
    let p = c.as_ptr().cast_const();
    // SAFETY: `p` is `Rc::as_ptr` of the table's reference, which is alive (the cache's
    // promise); one more strong count makes the new `Rc` the request's own.
    unsafe {
        Rc::increment_strong_count(p);
        Rc::from_raw(p)
    }
}

/// `MPI_Isend`'s hot path: `Some(code)` if it took the call, `None` if the general path must.
///
/// # Safety
///
/// As `MPI_Isend`: `buf` holds `count` elements of `datatype`, unchanged until the request
/// completes; `request` is valid for a write or null.
pub unsafe fn isend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> Option<c_int> {
    if request.is_null() {
        return None;
    }
    let (len, c) = eligible(buf, count, datatype, dest, comm)?;
    let started = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the communicator is cached during this call.
        let c = unsafe { counted(c) };
        // SAFETY: the user's `len` bytes stay readable and unchanged until the request
        // completes (MPI's rule for `MPI_Isend`).
        let raw =
            unsafe { raw::immediate_send(&c.pc, dest, tag, buf.cast(), len, SendMode::Standard) }?;
        let msg = super::Outgoing::Borrowed(buf.cast(), len);
        Ok::<_, pip_comm::Error>(super::send::started(raw, msg, c))
    }));
    // SAFETY: checked non-null; the caller passes a valid request pointer.
    Some(unsafe { store("MPI_Isend", comm, request, started) })
}

/// Stores the request an immediate call `name` started and writes its handle to `request`;
/// or raises the error (or the panic) it ended with, on `comm`.
///
/// # Safety
///
/// `request` is valid for a write.
unsafe fn store(
    name: &'static str,
    comm: Handle,
    request: *mut c_int,
    started: std::thread::Result<pip_comm::Result<Box<dyn crate::request::Pending>>>,
) -> c_int {
    match started {
        Ok(Ok(op)) => {
            // SAFETY: the caller's promise.
            unsafe { request.write(insert_on(op, On::Comm(comm))) };
            MPI_SUCCESS
        }
        Ok(Err(e)) => raise(name, On::Comm(comm), e.into()),
        Err(payload) => raise(name, On::Comm(comm), panicked(payload)),
    }
}

/// `MPI_Irecv`'s hot path: `Some(code)` if it took the call, `None` if the general path must.
///
/// # Safety
///
/// As `MPI_Irecv`: `buf` has room for `count` elements of `datatype`, the request's until it
/// completes; `request` is valid for a write or null.
pub unsafe fn irecv(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    source: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> Option<c_int> {
    if request.is_null() {
        return None;
    }
    let (len, c) = eligible(buf, count, datatype, source, comm)?;
    let posted = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the communicator is cached during this call.
        let c = unsafe { counted(c) };
        // SAFETY: the user's `len` bytes are the request's until it completes (MPI's rule for
        // `MPI_Irecv`).
        let raw = unsafe { raw::immediate_receive(&c.pc, source, tag, buf.cast(), len) }?;
        let into = Incoming::Direct(buf.cast(), len);
        Ok::<_, pip_comm::Error>(super::recv::posted(raw, into, c))
    }));
    // SAFETY: checked non-null; the caller passes a valid request pointer.
    Some(unsafe { store("MPI_Irecv", comm, request, posted) })
}
