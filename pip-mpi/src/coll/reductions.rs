//! The C entry points of the reductions (the mechanism is in `reduce`).

use super::reduce::{reduce, Native, Red};
use super::{check_op, check_root, in_place, ints, Bytes, Typed};
use crate::comm::{self, Comm};
use crate::datatype;
use crate::error::{call_on, On, Result};
use crate::handle::Handle;
use std::ffi::{c_int, c_void};

/// The input of a reduction: `sendbuf`, or with `MPI_IN_PLACE` a copy of `recvbuf`.
///
/// # Safety
///
/// The buffer read holds `t` readable elements.
unsafe fn input(
    sendbuf: *const c_void,
    recvbuf: *const c_void,
    t: &Typed,
) -> Result<(Option<Native>, *const u8)> {
    if in_place(sendbuf) {
        t.check_buffer(recvbuf, "recvbuf")?;
        // SAFETY: forwarded from the caller.
        let mut copy = unsafe { Native::copy_of(recvbuf, t) };
        let p = copy.ptr().cast_const();
        return Ok((Some(copy), p));
    }
    t.check_buffer(sendbuf, "sendbuf")?;
    Ok((None, sendbuf.cast()))
}

/// The body of the reductions to every rank (`MPI_Allreduce`, `MPI_Scan`, `MPI_Exscan`).
///
/// # Safety
///
/// The buffers hold `count` elements of `datatype`.
unsafe fn everyone(
    red: Red,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    comm: Handle,
) -> Result<()> {
    let c = comm::get(comm)?;
    let t = Typed::new(count, datatype, "count")?;
    check_op(op, &t)?;
    t.check_buffer(recvbuf, "recvbuf")?;
    // SAFETY: forwarded from the caller; the in-place input is a copy.
    unsafe {
        let (_keep, send) = input(sendbuf, recvbuf, &t)?;
        reduce(&c, red, op, &t, send, recvbuf.cast())
    }
}

/// `MPI_Reduce`: every rank's `count` elements combined with `op` into the root's `recvbuf`.
/// `MPI_IN_PLACE` as the root's `sendbuf`: its input is `recvbuf`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Reduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    root: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Reduce", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let t = Typed::new(count, datatype, "count")?;
        check_root(&c, root)?;
        check_op(op, &t)?;
        // SAFETY: the caller passes the buffers MPI_Reduce describes; the in-place input is a copy.
        unsafe {
            if c.rank() != root {
                t.check_buffer(sendbuf, "sendbuf")?;
                return reduce(
                    &c,
                    Red::Reduce(root),
                    op,
                    &t,
                    sendbuf.cast(),
                    std::ptr::null_mut(),
                );
            }
            t.check_buffer(recvbuf, "recvbuf")?;
            let (_keep, send) = input(sendbuf, recvbuf, &t)?;
            reduce(&c, Red::Reduce(root), op, &t, send, recvbuf.cast())
        }
    })
}

/// `MPI_Allreduce`: every rank's elements combined with `op` into every rank's `recvbuf`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Allreduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    comm: Handle,
) -> c_int {
    // SAFETY: the caller passes the buffers MPI_Allreduce describes.
    call_on("MPI_Allreduce", On::Comm(comm), || unsafe {
        everyone(Red::All, sendbuf, recvbuf, count, datatype, op, comm)
    })
}

/// `MPI_Scan`: rank `r` gets the combination of ranks `0..=r`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Scan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    comm: Handle,
) -> c_int {
    // SAFETY: the caller passes the buffers MPI_Scan describes.
    call_on("MPI_Scan", On::Comm(comm), || unsafe {
        everyone(Red::Scan, sendbuf, recvbuf, count, datatype, op, comm)
    })
}

/// `MPI_Exscan`: rank `r > 0` gets the combination of ranks `0..r`; rank 0's `recvbuf` is
/// left as it was.
#[no_mangle]
pub unsafe extern "C" fn MPI_Exscan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
    comm: Handle,
) -> c_int {
    // SAFETY: the caller passes the buffers MPI_Exscan describes.
    call_on("MPI_Exscan", On::Comm(comm), || unsafe {
        everyone(Red::Exscan, sendbuf, recvbuf, count, datatype, op, comm)
    })
}

/// Reduces the whole vector `total` on every rank and keeps `mine` elements from element
/// `at` in `recvbuf`.
///
/// # Safety
///
/// The buffers hold what the reduce-scatters describe.
unsafe fn scatter_result(
    c: &Comm,
    op: Handle,
    total: &Typed,
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    at: usize,
    mine: usize,
) -> Result<()> {
    check_op(op, total)?;
    let part = total.with(mine);
    // SAFETY: forwarded from the caller; the in-place input is a copy of the whole vector.
    unsafe {
        let (_keep, send) = input(sendbuf, recvbuf, total)?;
        part.check_buffer(recvbuf, "recvbuf")?;
        let mut result = Native::new(total);
        reduce(c, Red::All, op, total, send, result.ptr())?;
        let from = result.ptr().wrapping_offset(at as isize * total.dt.extent);
        datatype::unpack(
            &part.dt,
            Bytes::new(from.cast(), &part).get(),
            recvbuf.cast(),
        );
    }
    Ok(())
}

/// `MPI_Reduce_scatter_block`: the combination of every rank's `recvcount * size` elements,
/// block `r` to rank `r`. With `MPI_IN_PLACE` the input is `recvbuf` (the whole vector).
#[no_mangle]
pub unsafe extern "C" fn MPI_Reduce_scatter_block(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcount: c_int,
    datatype: Handle,
    op: Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Reduce_scatter_block", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let t = Typed::new(recvcount, datatype, "recvcount")?;
        let total = t.with(t.n * c.size() as usize);
        let at = t.n * c.rank() as usize;
        // SAFETY: the caller passes the buffers MPI_Reduce_scatter_block describes.
        unsafe { scatter_result(&c, op, &total, sendbuf, recvbuf, at, t.n) }
    })
}

/// `MPI_Reduce_scatter`: the combination of every rank's `sum(recvcounts)` elements,
/// `recvcounts[r]` of them (after those of the lower ranks) to rank `r`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Reduce_scatter(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    datatype: Handle,
    op: Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Reduce_scatter", On::Comm(comm), || {
        let c = comm::get(comm)?;
        // SAFETY: the caller passes one count per rank.
        let counts = unsafe { ints(recvcounts, c.size() as usize, "recvcounts", true)? };
        let me = c.rank() as usize;
        let sum: isize = counts.iter().sum();
        let total = Typed::new(
            c_int::try_from(sum).map_err(|_| {
                crate::error::Error::new(
                    crate::error::MPI_ERR_COUNT,
                    "the sum of recvcounts exceeds an int",
                )
            })?,
            datatype,
            "the sum of recvcounts",
        )?;
        let at = counts[..me].iter().sum::<isize>() as usize;
        // SAFETY: the caller passes the buffers MPI_Reduce_scatter describes.
        unsafe { scatter_result(&c, op, &total, sendbuf, recvbuf, at, counts[me] as usize) }
    })
}
