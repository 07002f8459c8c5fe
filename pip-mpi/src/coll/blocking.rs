//! The blocking data-movement collectives with one count per rank: `MPI_Barrier`,
//! `MPI_Bcast`, `MPI_Gather`, `MPI_Scatter`, `MPI_Allgather`, `MPI_Alltoall`, over pip-comm's
//! collectives on bytes (see the parent module).

use super::{check_root, in_place, Bytes, Landing, Typed};
use crate::comm::{self, Comm};
use crate::error::{call_on, On, Result};
use crate::handle::Handle;
use pip_comm::prelude::*;
use std::ffi::{c_int, c_void};

/// The `i`-th block of `t.n` elements in a buffer of them.
pub(super) fn block(p: *const c_void, t: &Typed, i: usize) -> *mut c_void {
    (p as *mut u8)
        .wrapping_offset(i as isize * t.n as isize * t.dt.extent)
        .cast()
}

/// `MPI_Barrier`: pip-comm's barrier on the communicator.
#[no_mangle]
pub unsafe extern "C" fn MPI_Barrier(comm: Handle) -> c_int {
    call_on("MPI_Barrier", On::Comm(comm), || {
        comm::get(comm)?.pc.barrier()?;
        Ok(())
    })
}

/// `MPI_Bcast`: the root's `count` elements into every rank's buffer.
#[no_mangle]
pub unsafe extern "C" fn MPI_Bcast(
    buffer: *mut c_void,
    count: c_int,
    datatype: Handle,
    root: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Bcast", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let t = Typed::new(count, datatype, "count")?;
        check_root(&c, root)?;
        t.check_buffer(buffer, "buffer")?;
        // SAFETY: the caller passes `count` elements of `datatype` at `buffer`.
        unsafe { bcast(&c, buffer, &t, root) }
    })
}

/// Broadcasts `t` at `p` from `root`.
///
/// # Safety
///
/// `p` holds `t.n` elements of `t.dt` (readable at the root, writable elsewhere).
pub(super) unsafe fn bcast(c: &Comm, p: *mut c_void, t: &Typed, root: c_int) -> Result<()> {
    // SAFETY: forwarded from the caller.
    let mut landing = unsafe { Landing::new(p, t) };
    if c.rank() == root && !t.dt.is_contiguous() {
        // SAFETY: forwarded from the caller.
        let data = unsafe { Bytes::new(p, t) };
        landing.get().copy_from_slice(data.get());
    }
    c.pc.process_at_rank(root).broadcast_into(landing.get())?;
    if c.rank() != root {
        landing.finish();
    }
    Ok(())
}

/// `MPI_Gather`: every rank's `sendcount` elements into the root's `recvbuf`, in rank order.
/// `MPI_IN_PLACE` as the root's `sendbuf` leaves its own block where it is.
#[no_mangle]
pub unsafe extern "C" fn MPI_Gather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    root: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Gather", On::Comm(comm), || {
        let c = comm::get(comm)?;
        check_root(&c, root)?;
        let at = c.pc.process_at_rank(root);
        if c.rank() != root {
            let s = Typed::new(sendcount, sendtype, "sendcount")?;
            s.check_buffer(sendbuf, "sendbuf")?;
            // SAFETY: the caller passes `sendcount` elements of `sendtype` at `sendbuf`.
            let data = unsafe { Bytes::new(sendbuf, &s) };
            at.gather_into(data.get())?;
            return Ok(());
        }
        let r = Typed::new(recvcount, recvtype, "recvcount")?;
        let all = r.with(r.n * c.size() as usize);
        all.check_buffer(recvbuf, "recvbuf")?;
        // SAFETY: the caller passes the buffers MPI_Gather describes; an own block read in
        // place is copied before the receive buffer is borrowed.
        unsafe {
            let mine = own_block(sendbuf, sendcount, sendtype, recvbuf, &r, c.rank() as usize)?;
            let mut landing = Landing::new(recvbuf, &all);
            at.gather_into_root(mine.get(), landing.get())?;
            landing.finish();
        }
        Ok(())
    })
}

/// The bytes a rank contributes: its send buffer, or (`MPI_IN_PLACE`) block `me` of the
/// receive buffer `recvbuf` of blocks of `r`, copied.
///
/// # Safety
///
/// The buffer read is valid for its elements.
unsafe fn own_block(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *const c_void,
    r: &Typed,
    me: usize,
) -> Result<Bytes<'static>> {
    if in_place(sendbuf) {
        r.check_buffer(recvbuf, "recvbuf")?;
        // SAFETY: forwarded from the caller.
        return Ok(unsafe { Bytes::new(block(recvbuf, r, me), r) }.into_owned());
    }
    let s = Typed::new(sendcount, sendtype, "sendcount")?;
    s.check_buffer(sendbuf, "sendbuf")?;
    // SAFETY: forwarded from the caller.
    Ok(unsafe { Bytes::new(sendbuf, &s) })
}

/// `MPI_Scatter`: block `r` of the root's `sendbuf` to rank `r`. `MPI_IN_PLACE` as the
/// root's `recvbuf` leaves its own block in `sendbuf`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Scatter(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    root: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Scatter", On::Comm(comm), || {
        let c = comm::get(comm)?;
        check_root(&c, root)?;
        let at = c.pc.process_at_rank(root);
        let mine = c.rank() == root;
        let recv = if mine && in_place(recvbuf) {
            None
        } else {
            let r = Typed::new(recvcount, recvtype, "recvcount")?;
            r.check_buffer(recvbuf, "recvbuf")?;
            Some(r)
        };
        // SAFETY: the caller passes the buffers MPI_Scatter describes.
        unsafe {
            let mut landing = recv.as_ref().map(|r| Landing::new(recvbuf, r));
            if mine {
                let s = Typed::new(sendcount, sendtype, "sendcount")?;
                let all = s.with(s.n * c.size() as usize);
                all.check_buffer(sendbuf, "sendbuf")?;
                let data = Bytes::new(sendbuf, &all);
                match &mut landing {
                    Some(l) => at.scatter_into_root(data.get(), l.get())?,
                    None => at.scatter_in_place_root(data.get())?,
                }
            } else {
                at.scatter_into(landing.as_mut().expect("a receive buffer").get())?;
            }
            if let Some(l) = landing {
                l.finish();
            }
        }
        Ok(())
    })
}

/// `MPI_Allgather`: every rank's block into every rank's `recvbuf`, in rank order.
/// `MPI_IN_PLACE` as `sendbuf`: each rank's block is already in place.
#[no_mangle]
pub unsafe extern "C" fn MPI_Allgather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Allgather", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let r = Typed::new(recvcount, recvtype, "recvcount")?;
        let all = r.with(r.n * c.size() as usize);
        all.check_buffer(recvbuf, "recvbuf")?;
        // SAFETY: the caller passes the buffers MPI_Allgather describes; an own block read in
        // place is copied before the receive buffer is borrowed.
        unsafe {
            let mine = own_block(sendbuf, sendcount, sendtype, recvbuf, &r, c.rank() as usize)?;
            let mut landing = Landing::new(recvbuf, &all);
            c.pc.all_gather_into(mine.get(), landing.get())?;
            landing.finish();
        }
        Ok(())
    })
}

/// `MPI_Alltoall`: block `j` of rank `i`'s `sendbuf` to block `i` of rank `j`'s `recvbuf`.
/// `MPI_IN_PLACE` as `sendbuf`: the blocks are taken from `recvbuf`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Alltoall(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Alltoall", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let n = c.size() as usize;
        let r = Typed::new(recvcount, recvtype, "recvcount")?;
        let all = r.with(r.n * n);
        all.check_buffer(recvbuf, "recvbuf")?;
        // SAFETY: the caller passes the buffers MPI_Alltoall describes; in place, the send
        // data is copied before the receive buffer is borrowed.
        unsafe {
            let data = if in_place(sendbuf) {
                Bytes::new(recvbuf, &all).into_owned()
            } else {
                let s = Typed::new(sendcount, sendtype, "sendcount")?;
                let s = s.with(s.n * n);
                s.check_buffer(sendbuf, "sendbuf")?;
                Bytes::new(sendbuf, &s)
            };
            let mut landing = Landing::new(recvbuf, &all);
            c.pc.all_to_all_into(data.get(), landing.get())?;
            landing.finish();
        }
        Ok(())
    })
}
