//! The blocking data-movement collectives with a count and a displacement per rank (the `v`
//! variants): `MPI_Gatherv`, `MPI_Scatterv`, `MPI_Allgatherv`, `MPI_Alltoallv`, over pip-comm's
//! `varcount` collectives on bytes ([`Pieces`]).

use super::{check_root, in_place, ints, Bytes, Landing, Pieces, Typed};
use crate::comm;
use crate::datatype;
use crate::error::{call_on, On, Result};
use crate::handle::Handle;
use pip_comm::prelude::*;
use std::ffi::{c_int, c_void};

/// The pieces of a `v` buffer: `counts` and `displs` read from C for every rank.
///
/// # Safety
///
/// `counts` and `displs` are null or point to `n` ints.
unsafe fn pieces(
    buf: *const c_void,
    dtype: Handle,
    counts: *const c_int,
    displs: *const c_int,
    n: usize,
    names: (&str, &str),
) -> Result<Pieces> {
    let dt = datatype::get_committed(dtype)?;
    // SAFETY: forwarded from the caller.
    let (c, d) = unsafe {
        (
            ints(counts, n, names.0, true)?,
            ints(displs, n, names.1, false)?,
        )
    };
    let total: usize = c.iter().map(|&x| x as usize).sum();
    Typed {
        h: dtype,
        dt: dt.clone(),
        n: total,
    }
    .check_buffer(buf, "the buffer")?;
    Ok(Pieces::new(buf, &dt, &c, &d))
}

/// The send data of a rank: `sendbuf`'s elements (checked), borrowed or packed.
///
/// # Safety
///
/// `sendbuf` holds `sendcount` elements of `sendtype`.
unsafe fn send_data<'a>(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
) -> Result<Bytes<'a>> {
    let s = Typed::new(sendcount, sendtype, "sendcount")?;
    s.check_buffer(sendbuf, "sendbuf")?;
    // SAFETY: forwarded from the caller.
    Ok(unsafe { Bytes::new(sendbuf, &s) })
}

/// `MPI_Gatherv`: rank `r`'s elements into the root's `recvbuf` at `displs[r]` (in extents
/// of `recvtype`). `MPI_IN_PLACE` as the root's `sendbuf`: its piece is already in place.
#[no_mangle]
pub unsafe extern "C" fn MPI_Gatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: Handle,
    root: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Gatherv", On::Comm(comm), || {
        let c = comm::get(comm)?;
        check_root(&c, root)?;
        let at = c.pc.process_at_rank(root);
        let (me, n) = (c.rank() as usize, c.size() as usize);
        // SAFETY: the caller passes the buffers and arrays MPI_Gatherv describes; an own piece
        // read in place is copied before the receive buffer is borrowed.
        unsafe {
            if c.rank() != root {
                at.gather_varcount_into(send_data(sendbuf, sendcount, sendtype)?.get())?;
                return Ok(());
            }
            let mut p = pieces(
                recvbuf,
                recvtype,
                recvcounts,
                displs,
                n,
                ("recvcounts", "displs"),
            )?;
            let mine = if in_place(sendbuf) {
                Bytes::from(p.piece(me))
            } else {
                send_data(sendbuf, sendcount, sendtype)?
            };
            at.gather_varcount_into_root(mine.get(), &mut p.recv())?;
            p.finish();
        }
        Ok(())
    })
}

/// `MPI_Scatterv`: `sendcounts[r]` elements at `displs[r]` of the root's `sendbuf` to rank
/// `r`. `MPI_IN_PLACE` as the root's `recvbuf`: its piece stays in `sendbuf`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Scatterv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    displs: *const c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: Handle,
    root: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Scatterv", On::Comm(comm), || {
        let c = comm::get(comm)?;
        check_root(&c, root)?;
        let at = c.pc.process_at_rank(root);
        let (me, n) = (c.rank() as usize, c.size() as usize);
        // SAFETY: the caller passes the buffers and arrays MPI_Scatterv describes.
        unsafe {
            if c.rank() == root {
                let mut p = pieces(
                    sendbuf,
                    sendtype,
                    sendcounts,
                    displs,
                    n,
                    ("sendcounts", "displs"),
                )?;
                let own = p.byte_counts()[me];
                if in_place(recvbuf) {
                    let mut discard = vec![0u8; own];
                    at.scatter_varcount_into_root(&p.send(), &mut discard[..])?;
                } else {
                    let r = Typed::new(recvcount, recvtype, "recvcount")?;
                    r.check_buffer(recvbuf, "recvbuf")?;
                    let mut l = Landing::new(recvbuf, &r);
                    at.scatter_varcount_into_root(&p.send(), l.get())?;
                    l.finish();
                }
            } else {
                let r = Typed::new(recvcount, recvtype, "recvcount")?;
                r.check_buffer(recvbuf, "recvbuf")?;
                let mut l = Landing::new(recvbuf, &r);
                at.scatter_varcount_into(l.get())?;
                l.finish();
            }
        }
        Ok(())
    })
}

/// `MPI_Allgatherv`: rank `r`'s elements into every rank's `recvbuf` at `displs[r]`.
/// `MPI_IN_PLACE` as `sendbuf`: each rank's piece is already in place.
#[no_mangle]
pub unsafe extern "C" fn MPI_Allgatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Allgatherv", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let (me, n) = (c.rank() as usize, c.size() as usize);
        // SAFETY: the caller passes the buffers and arrays MPI_Allgatherv describes; an own
        // piece read in place is copied before the receive buffer is borrowed.
        unsafe {
            let mut p = pieces(
                recvbuf,
                recvtype,
                recvcounts,
                displs,
                n,
                ("recvcounts", "displs"),
            )?;
            let mine = if in_place(sendbuf) {
                Bytes::from(p.piece(me))
            } else {
                send_data(sendbuf, sendcount, sendtype)?
            };
            c.pc.all_gather_varcount_into(mine.get(), &mut p.recv())?;
            p.finish();
        }
        Ok(())
    })
}

/// `MPI_Alltoallv`: `sendcounts[j]` elements at `sdispls[j]` of rank `i`'s `sendbuf` to
/// `rdispls[i]` of rank `j`'s `recvbuf`. `MPI_IN_PLACE` as `sendbuf`: the data is taken from
/// `recvbuf` (with `recvcounts` and `rdispls`).
#[no_mangle]
pub unsafe extern "C" fn MPI_Alltoallv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    sendtype: Handle,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    recvtype: Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Alltoallv", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let n = c.size() as usize;
        // SAFETY: the caller passes the buffers and arrays MPI_Alltoallv describes; in place,
        // the send data is copied before the receive buffer is borrowed.
        unsafe {
            let mut rp = pieces(
                recvbuf,
                recvtype,
                recvcounts,
                rdispls,
                n,
                ("recvcounts", "rdispls"),
            )?;
            if in_place(sendbuf) {
                let data: Vec<u8> = (0..n).flat_map(|r| rp.piece(r)).collect();
                let counts = rp.byte_counts().to_vec();
                let send = Partition::contiguous(&data[..], &counts);
                c.pc.all_to_all_varcount_into(&send, &mut rp.recv())?;
            } else {
                let mut sp = pieces(
                    sendbuf,
                    sendtype,
                    sendcounts,
                    sdispls,
                    n,
                    ("sendcounts", "sdispls"),
                )?;
                c.pc.all_to_all_varcount_into(&sp.send(), &mut rp.recv())?;
            }
            rp.finish();
        }
        Ok(())
    })
}
