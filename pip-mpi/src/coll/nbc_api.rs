//! The C entry points of the non-blocking collectives: each checks its arguments as its
//! blocking form does, builds and starts its schedule (`nonblocking`) and returns it as a
//! request, which `MPI_Wait`, `MPI_Test` and their relatives complete.

use super::nonblocking::{iall, ibarrier, ibcast, igather, ireduce, iscatter};
use super::reduce::Native;
use super::schedule::Schedule;
use super::{check_op, check_root, in_place, Typed};
use crate::comm::{self, out};
use crate::error::{call_on, On, Result};
use crate::handle::Handle;
use std::ffi::{c_int, c_void};

/// Stores `s` as a request and writes its handle to `request`.
///
/// # Safety
///
/// `request` is a valid `MPI_Request` pointer (checked non-null before building).
unsafe fn give(s: Schedule, request: *mut Handle) -> Result<()> {
    let h = crate::request::insert(Box::new(s));
    // SAFETY: forwarded from the caller.
    unsafe { *request = h };
    Ok(())
}

/// `MPI_Ibarrier`: completes once every rank has called it.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ibarrier(comm: Handle, request: *mut Handle) -> c_int {
    call_on("MPI_Ibarrier", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let request = out(request)?;
        // SAFETY: `request` is non-null, from the caller.
        unsafe { give(ibarrier(c)?, request) }
    })
}

/// `MPI_Ibcast`: the root's `count` elements into every rank's buffer, at completion.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ibcast(
    buffer: *mut c_void,
    count: c_int,
    datatype: Handle,
    root: c_int,
    comm: Handle,
    request: *mut Handle,
) -> c_int {
    call_on("MPI_Ibcast", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let t = Typed::new(count, datatype, "count")?;
        check_root(&c, root)?;
        t.check_buffer(buffer, "buffer")?;
        let request = out(request)?;
        // SAFETY: the caller keeps the buffer valid until the request completes.
        unsafe { give(ibcast(c, buffer, &t, root)?, request) }
    })
}

/// The send side of a gather-like call: `None` for `MPI_IN_PLACE` where `allowed`.
fn send_side(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    allowed: bool,
) -> Result<Option<(*const c_void, Typed)>> {
    if allowed && in_place(sendbuf) {
        return Ok(None);
    }
    let s = Typed::new(sendcount, sendtype, "sendcount")?;
    s.check_buffer(sendbuf, "sendbuf")?;
    Ok(Some((sendbuf, s)))
}

/// `MPI_Igather`: `MPI_Gather` as a request.
#[no_mangle]
pub unsafe extern "C" fn MPI_Igather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    root: c_int,
    comm: Handle,
    request: *mut Handle,
) -> c_int {
    call_on("MPI_Igather", On::Comm(comm), || {
        let c = comm::get(comm)?;
        check_root(&c, root)?;
        let at_root = c.rank() == root;
        let send = send_side(sendbuf, sendcount, sendtype, at_root)?;
        let r = if at_root {
            let r = Typed::new(recvcount, recvtype, "recvcount")?;
            r.with(r.n * c.size() as usize)
                .check_buffer(recvbuf, "recvbuf")?;
            r
        } else {
            Typed::new(0, sendtype, "recvcount")?
        };
        let request = out(request)?;
        // SAFETY: the caller keeps the buffers valid until the request completes.
        unsafe { give(igather(c, send, (recvbuf, r), root)?, request) }
    })
}

/// `MPI_Iscatter`: `MPI_Scatter` as a request.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iscatter(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    root: c_int,
    comm: Handle,
    request: *mut Handle,
) -> c_int {
    call_on("MPI_Iscatter", On::Comm(comm), || {
        let c = comm::get(comm)?;
        check_root(&c, root)?;
        let at_root = c.rank() == root;
        let recv = if at_root && in_place(recvbuf) {
            None
        } else {
            let r = Typed::new(recvcount, recvtype, "recvcount")?;
            r.check_buffer(recvbuf, "recvbuf")?;
            Some((recvbuf, r))
        };
        let s = if at_root {
            let s = Typed::new(sendcount, sendtype, "sendcount")?;
            s.with(s.n * c.size() as usize)
                .check_buffer(sendbuf, "sendbuf")?;
            s
        } else {
            Typed::new(0, recvtype, "sendcount")?
        };
        let request = out(request)?;
        // SAFETY: the caller keeps the buffers valid until the request completes.
        unsafe { give(iscatter(c, (sendbuf, s), recv, root)?, request) }
    })
}

/// The body of `MPI_Iallgather` and `MPI_Ialltoall`.
///
/// # Safety
///
/// The caller keeps the buffers valid until the request completes.
#[allow(clippy::too_many_arguments)]
unsafe fn all(
    alltoall: bool,
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    comm: Handle,
    request: *mut Handle,
) -> Result<()> {
    let c = comm::get(comm)?;
    let r = Typed::new(recvcount, recvtype, "recvcount")?;
    r.with(r.n * c.size() as usize)
        .check_buffer(recvbuf, "recvbuf")?;
    let send = send_side(sendbuf, sendcount, sendtype, true)?;
    if let Some((p, s)) = &send {
        let blocks = if alltoall { c.size() as usize } else { 1 };
        s.with(s.n * blocks).check_buffer(*p, "sendbuf")?;
    }
    let request = out(request)?;
    // SAFETY: forwarded from the caller.
    unsafe { give(iall(c, send, (recvbuf, r), alltoall)?, request) }
}

/// `MPI_Iallgather`: `MPI_Allgather` as a request.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iallgather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    comm: Handle,
    request: *mut Handle,
) -> c_int {
    // SAFETY: the caller keeps the buffers valid until the request completes.
    call_on("MPI_Iallgather", On::Comm(comm), || unsafe {
        all(
            false, sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request,
        )
    })
}

/// `MPI_Ialltoall`: `MPI_Alltoall` as a request.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ialltoall(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    comm: Handle,
    request: *mut Handle,
) -> c_int {
    // SAFETY: the caller keeps the buffers valid until the request completes.
    call_on("MPI_Ialltoall", On::Comm(comm), || unsafe {
        all(
            true, sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request,
        )
    })
}

/// The body of `MPI_Ireduce` (`root` `Some`) and `MPI_Iallreduce`.
///
/// # Safety
///
/// The caller keeps the buffers valid until the request completes.
#[allow(clippy::too_many_arguments)]
unsafe fn reduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    root: Option<c_int>,
    comm: Handle,
    request: *mut Handle,
) -> Result<()> {
    let c = comm::get(comm)?;
    let t = Typed::new(count, datatype, "count")?;
    if let Some(root) = root {
        check_root(&c, root)?;
    }
    check_op(op, &t)?;
    let gets_result = root.is_none_or(|r| r == c.rank());
    if gets_result {
        t.check_buffer(recvbuf, "recvbuf")?;
    }
    let mut copy = None;
    let send = if gets_result && in_place(sendbuf) {
        // SAFETY: forwarded from the caller; the copy is packed into the schedule at once.
        let mut n = unsafe { Native::copy_of(recvbuf, &t) };
        let p = n.ptr().cast_const().cast::<c_void>();
        copy = Some(n);
        p
    } else {
        t.check_buffer(sendbuf, "sendbuf")?;
        sendbuf
    };
    let request = out(request)?;
    // SAFETY: forwarded from the caller; the schedule copies the input at the call, so the
    // in-place copy may go after.
    let s = unsafe { ireduce(c, send, recvbuf, &t, op, root)? };
    drop(copy);
    // SAFETY: as above.
    unsafe { give(s, request) }
}

/// `MPI_Ireduce`: `MPI_Reduce` as a request (the root folds the inputs in rank order).
#[no_mangle]
pub unsafe extern "C" fn MPI_Ireduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    root: c_int,
    comm: Handle,
    request: *mut Handle,
) -> c_int {
    // SAFETY: the caller keeps the buffers valid until the request completes.
    call_on("MPI_Ireduce", On::Comm(comm), || unsafe {
        reduce(
            sendbuf,
            recvbuf,
            count,
            datatype,
            op,
            Some(root),
            comm,
            request,
        )
    })
}

/// `MPI_Iallreduce`: `MPI_Allreduce` as a request (reduced at rank 0, then sent to all).
#[no_mangle]
pub unsafe extern "C" fn MPI_Iallreduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    comm: Handle,
    request: *mut Handle,
) -> c_int {
    // SAFETY: the caller keeps the buffers valid until the request completes.
    call_on("MPI_Iallreduce", On::Comm(comm), || unsafe {
        reduce(sendbuf, recvbuf, count, datatype, op, None, comm, request)
    })
}
