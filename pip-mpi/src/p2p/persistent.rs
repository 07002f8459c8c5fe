//! Persistent requests: `MPI_Send_init`, `MPI_Ssend_init`, `MPI_Recv_init`, `MPI_Start`,
//! `MPI_Startall`.
//!
//! A persistent request keeps its arguments (the communicator and datatype themselves, so
//! freeing their handles meanwhile does no harm) in a closure that starts a new operation,
//! exactly as `MPI_Isend`/`MPI_Issend`/`MPI_Irecv` would, on each `MPI_Start`. It is inactive
//! until started and again once a completion call has reported it (see `request`'s *Life of
//! a request*). The arguments are checked when the request is made, so `MPI_Start` fails only
//! for what can change meanwhile.

use super::elements;
use crate::comm::Comm;
use crate::error::{call_on, fail, On, Result, MPI_ERR_RANK, MPI_ERR_TAG};
use crate::handle::{Handle, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_PROC_NULL};
use pip_comm::raw::SendMode;
use std::ffi::{c_int, c_void};

/// Checks that `rank` names a peer of `c` (or `MPI_PROC_NULL`, or `MPI_ANY_SOURCE` for a
/// receive).
fn check_rank(c: &Comm, rank: c_int, receive: bool) -> Result<()> {
    if rank == MPI_PROC_NULL || (receive && rank == MPI_ANY_SOURCE) || (0..c.size()).contains(&rank)
    {
        return Ok(());
    }
    let what = if receive { "source" } else { "destination" };
    fail(
        MPI_ERR_RANK,
        format!(
            "the {what} {rank} is not a rank of the communicator (0..{})",
            c.size()
        ),
    )
}

/// Checks a tag (`MPI_ANY_TAG` is allowed for a receive).
fn check_tag(tag: c_int, receive: bool) -> Result<()> {
    if (0..=pip_comm::MAX_TAG).contains(&tag) || (receive && tag == MPI_ANY_TAG) {
        return Ok(());
    }
    fail(
        MPI_ERR_TAG,
        format!(
            "tag {tag} is invalid: tags are 0..={} (MPI_ANY_TAG only in a receive)",
            pip_comm::MAX_TAG
        ),
    )
}

/// Makes a persistent send in `mode` (the body of `MPI_Send_init` and `MPI_Ssend_init`).
///
/// # Safety
///
/// `buf` holds the elements whenever the request is started (MPI's rule); `request` is valid
/// for a write.
#[allow(clippy::too_many_arguments)]
unsafe fn send_init(
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
    check_rank(&c, dest, false)?;
    check_tag(tag, false)?;
    let starter = Box::new(move || {
        // SAFETY: the caller's buffer holds the elements and stays unchanged while the
        // started request is in flight (MPI's rule for persistent sends).
        unsafe { super::send::start(&c, &t, buf, n, dest, tag, mode) }
    });
    let h = crate::request::insert_persistent(starter, On::Comm(comm));
    // SAFETY: checked non-null; the caller passes a valid request pointer.
    unsafe { request.write(h) };
    Ok(())
}

/// `MPI_Send_init`: a persistent standard-mode send.
#[no_mangle]
pub unsafe extern "C" fn MPI_Send_init(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    call_on("MPI_Send_init", On::Comm(comm), || {
        // SAFETY: forwarded (MPI's rules for the buffer and the request).
        unsafe {
            send_init(
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

/// `MPI_Ssend_init`: a persistent synchronous send.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ssend_init(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    call_on("MPI_Ssend_init", On::Comm(comm), || {
        // SAFETY: forwarded (MPI's rules for the buffer and the request).
        unsafe {
            send_init(
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

/// `MPI_Recv_init`: a persistent receive.
#[no_mangle]
pub unsafe extern "C" fn MPI_Recv_init(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    source: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    call_on("MPI_Recv_init", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let t = crate::datatype::get_committed(datatype)?;
        let n = elements(buf, count, &t)?;
        let request = crate::comm::out(request)?;
        check_rank(&c, source, true)?;
        check_tag(tag, true)?;
        let starter = Box::new(move || {
            // SAFETY: the caller's buffer holds the elements and is the started request's
            // until it completes (MPI's rule for persistent receives).
            unsafe { super::recv::start(&c, &t, buf, n, source, tag) }
        });
        let h = crate::request::insert_persistent(starter, On::Comm(comm));
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        unsafe { request.write(h) };
        Ok(())
    })
}

/// `MPI_Start`: starts an inactive persistent request.
#[no_mangle]
pub unsafe extern "C" fn MPI_Start(request: *mut c_int) -> c_int {
    // SAFETY: the caller passes a valid request pointer.
    let on = unsafe { super::complete::errors_on(request, 1) };
    call_on("MPI_Start", on, || {
        let request = crate::comm::out(request)?;
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        crate::request::start(unsafe { *request })
    })
}

/// `MPI_Startall`: starts `count` inactive persistent requests, in order; it stops at the
/// first that fails.
#[no_mangle]
pub unsafe extern "C" fn MPI_Startall(count: c_int, requests: *mut c_int) -> c_int {
    // SAFETY: the caller passes an array of `count` requests.
    let on = unsafe { super::complete::errors_on(requests, count) };
    call_on("MPI_Startall", on, || {
        let n = crate::state::count(count, crate::error::MPI_ERR_COUNT, "count")?;
        if n == 0 {
            return Ok(());
        }
        let requests = crate::comm::out(requests)?;
        for i in 0..n {
            // SAFETY: checked non-null; the caller passes an array of `count` requests.
            crate::request::start(unsafe { *requests.add(i) })?;
        }
        Ok(())
    })
}
