//! The hot path of `MPI_Send` and `MPI_Recv`: the calls of a latency loop, with as little
//! as possible between the C caller and pip-comm.
//!
//! A blocking call takes this path when its datatype is a predefined contiguous type (a size
//! from a constant table, [`crate::datatype::contiguous_predefined_size`]), its count and
//! buffer give a byte length without an error, its peer is a rank or `MPI_ANY_SOURCE` (not
//! `MPI_PROC_NULL`), and its communicator is in the rank's small cache of communicators
//! ([`crate::comm::cached`]: one that a blocking call used lately). Then it does exactly what
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
use pip_comm::prelude::*;
use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

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
        Ok(Err(e)) => raise("MPI_Send", On::Comm(comm), e.into()),
        Err(payload) => raise("MPI_Send", On::Comm(comm), panicked(payload)),
    })
}

/// `MPI_Recv`'s hot path: `Some(code)` if it took the call, `None` if the general path must.
///
/// # Safety
///
/// As `MPI_Recv`: `buf` has room for `count` elements of `datatype`; `status` is valid,
/// `MPI_STATUS_IGNORE` or null.
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
        Ok(Err(e)) => {
            // The general path's reading of the error (a truncation still fills the status).
            let mut direct = Incoming::Direct(buf.cast(), len);
            // SAFETY: the receive is over; `direct` is the caller's buffer, and `status` the
            // caller's status pointer (MPI's rules).
            match unsafe { report(received(Err(e), &mut direct), status) } {
                Ok(()) => MPI_SUCCESS,
                Err(e) => raise("MPI_Recv", On::Comm(comm), e),
            }
        }
        Err(payload) => raise("MPI_Recv", On::Comm(comm), panicked(payload)),
    })
}
