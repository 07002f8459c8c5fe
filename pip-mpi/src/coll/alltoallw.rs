//! `MPI_Alltoallw`: an all-to-all with a count, a byte displacement and a datatype per peer,
//! as one [`Schedule`] step of raw point-to-point operations (every receive, then every send)
//! on the internal communicator, waited for at once. A non-contiguous piece is packed into a
//! temporary before sending, or received into one and unpacked after.

use super::schedule::{Schedule, Step};
use super::{in_place, ints, Bytes, Typed};
use crate::comm::{self, Comm};
use crate::datatype::{self, Datatype};
use crate::error::{call_on, fail, On, Result, MPI_ERR_ARG};
use crate::handle::Handle;
use crate::request::Pending;
use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::rc::Rc;

/// Runs `s` to completion, waiting with pip-comm's wait policy.
pub(super) fn run(c: &Comm, s: Schedule) -> Result<()> {
    let s = RefCell::new(s);
    let mut out = None;
    pip_comm::raw::wait_until(
        &c.internal,
        || match s.borrow_mut().poll() {
            Some(r) => {
                out = Some(r);
                true
            }
            None => false,
        },
        || s.borrow().ready(),
    )?;
    out.expect("a finished schedule").map(|_| ())
}

/// `n` datatype handles from C.
///
/// # Safety
///
/// `p` is null or points to `n` handles.
unsafe fn types(p: *const Handle, n: usize, what: &str) -> Result<Vec<Handle>> {
    if p.is_null() {
        return fail(MPI_ERR_ARG, format!("{what} is a null pointer"));
    }
    // SAFETY: forwarded from the caller.
    Ok(unsafe { std::slice::from_raw_parts(p, n) }.to_vec())
}

/// One side's pieces: (elements, datatype handle, byte displacement) per peer.
struct Side {
    counts: Vec<isize>,
    displs: Vec<isize>,
    types: Vec<Handle>,
}

impl Side {
    /// # Safety
    ///
    /// The arrays are null or hold `n` entries.
    unsafe fn read(
        counts: *const c_int,
        displs: *const c_int,
        types_: *const Handle,
        n: usize,
        names: [&str; 3],
    ) -> Result<Side> {
        // SAFETY: forwarded from the caller.
        unsafe {
            Ok(Side {
                counts: ints(counts, n, names[0], true)?,
                displs: ints(displs, n, names[1], false)?,
                types: types(types_, n, names[2])?,
            })
        }
    }

    fn piece(&self, base: *const c_void, r: usize) -> Result<(Typed, *mut u8)> {
        let t = Typed::new(self.counts[r] as c_int, self.types[r], "a count")?;
        t.check_buffer(base, "the buffer")?;
        Ok((t, (base as *mut u8).wrapping_offset(self.displs[r])))
    }
}

/// `MPI_Alltoallw`: `sendcounts[j]` elements of `sendtypes[j]` at byte `sdispls[j]` of rank
/// `i`'s `sendbuf` to byte `rdispls[i]` of rank `j`'s `recvbuf` as `recvtypes[i]`.
/// `MPI_IN_PLACE` as `sendbuf`: the data is taken from `recvbuf` (with the receive arguments).
#[no_mangle]
pub unsafe extern "C" fn MPI_Alltoallw(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    sendtypes: *const Handle,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    recvtypes: *const Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Alltoallw", On::Comm(comm), || {
        let c = comm::get(comm)?;
        let n = c.size() as usize;
        // SAFETY: the caller passes the arrays MPI_Alltoallw describes.
        let recv = unsafe {
            Side::read(
                recvcounts,
                rdispls,
                recvtypes,
                n,
                ["recvcounts", "rdispls", "recvtypes"],
            )?
        };
        let mut s = Schedule::new(c.clone());
        let mut step = Step::default();
        let mut unpacks: Vec<(Rc<Datatype>, *const u8, usize, *mut u8)> = Vec::new();
        for r in 0..n {
            let (t, at) = recv.piece(recvbuf, r)?;
            if t.dt.is_contiguous() {
                step.recv(r as c_int, at, t.bytes());
            } else {
                let tmp = s.temp(t.bytes());
                step.recv(r as c_int, tmp, t.bytes());
                unpacks.push((t.dt.clone(), tmp, t.bytes(), at));
            }
        }
        // The send data: copied first in place (the receives write where it lies).
        let (side, base) = if in_place(sendbuf) {
            (None, recvbuf.cast_const())
        } else {
            // SAFETY: as above.
            (
                Some(unsafe {
                    Side::read(
                        sendcounts,
                        sdispls,
                        sendtypes,
                        n,
                        ["sendcounts", "sdispls", "sendtypes"],
                    )?
                }),
                sendbuf,
            )
        };
        let send = side.as_ref().unwrap_or(&recv);
        for r in 0..n {
            let (t, at) = send.piece(base, r)?;
            let data = if t.dt.is_contiguous() && side.is_some() {
                at.cast_const()
            } else {
                // SAFETY: the caller passes `t` at `at`.
                let packed = unsafe { Bytes::new(at.cast(), &t) };
                s.keep(packed.get()).cast_const()
            };
            step.send(r as c_int, data, t.bytes());
        }
        step.then = Some(Box::new(move || {
            for (dt, tmp, len, at) in unpacks {
                // SAFETY: the temporary holds `len` received bytes; the caller's buffer has
                // the piece's elements at `at`.
                unsafe { datatype::unpack(&dt, std::slice::from_raw_parts(tmp, len), at) };
            }
            Ok(())
        }));
        s.push(step);
        // SAFETY: the user's buffers stay valid during this blocking call; temporaries are
        // owned by the schedule.
        let s = unsafe { s.start()? };
        run(&c, s)
    })
}
