//! Buffered sends: `MPI_Buffer_attach`, `MPI_Buffer_detach`, `MPI_Bsend`, `MPI_Ibsend`.
//!
//! # The attached buffer
//!
//! A rank attaches at most one buffer. A buffered send copies its message (packed, for a
//! non-contiguous datatype) into a free stretch of that buffer and starts a standard send
//! from there, so the call returns at once and the user's buffer is free. Each message takes
//! its size plus `MPI_BSEND_OVERHEAD` bytes of the buffer (the overhead is the accounting MPI
//! tells programs to size their buffer with; the bookkeeping itself lives outside the
//! buffer), placed first-fit among the stretches of the messages still in flight. A message
//! that does not fit fails with `MPI_ERR_BUFFER` and says how much was free.
//!
//! The sends in flight are kept in offset order. Each buffered send first drops those that
//! completed (an eager send completes at once; a rendezvous one once the receiver has copied
//! it), freeing their stretches. `MPI_Buffer_detach` waits until every buffered send has
//! completed, then gives the buffer back.

use super::{elements, Done, Outgoing, PROC_NULL_STATUS};
use crate::error::{call, call_on, fail, On, Result, MPI_ERR_ARG, MPI_ERR_BUFFER};
use crate::handle::{Handle, MPI_BSEND_OVERHEAD, MPI_COMM_WORLD, MPI_PROC_NULL};
use pip_comm::raw::{self, RawRequest, SendMode};
use std::cell::RefCell;
use std::ffi::{c_int, c_void};

/// A buffered send in flight: its stretch of the buffer and its request.
struct Live {
    at: usize,
    len: usize,
    raw: RawRequest,
}

/// The attached buffer.
struct Attached {
    base: *mut u8,
    size: usize,
    /// The sends in flight, by offset.
    live: Vec<Live>,
}

impl Attached {
    /// Drops the sends that have completed.
    fn reap(&mut self) {
        self.live.retain(|l| !l.raw.is_complete());
    }

    /// Where a stretch of `len` bytes fits (see [`first_fit`]).
    fn fit(&self, len: usize) -> Option<(usize, usize)> {
        first_fit(self.live.iter().map(|l| (l.at, l.len)), self.size, len)
    }

    /// The bytes not taken by sends in flight.
    fn free(&self) -> usize {
        self.size - self.live.iter().map(|l| l.len).sum::<usize>()
    }
}

/// The first free stretch of `len` bytes in a buffer of `size` bytes whose taken stretches
/// are `taken` (offset, length), in offset order: the index to insert the new stretch at, and
/// its offset.
fn first_fit(
    taken: impl Iterator<Item = (usize, usize)>,
    size: usize,
    len: usize,
) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut count = 0;
    for (i, (at, n)) in taken.enumerate() {
        if at - from >= len {
            return Some((i, from));
        }
        from = at + n;
        count = i + 1;
    }
    (size - from >= len).then_some((count, from))
}

thread_local! {
    static ATTACHED: RefCell<Option<Attached>> = const { RefCell::new(None) };
}

/// `MPI_Buffer_attach`: gives the library `size` bytes at `buffer` for buffered sends (one
/// buffer per rank).
#[no_mangle]
pub unsafe extern "C" fn MPI_Buffer_attach(buffer: *mut c_void, size: c_int) -> c_int {
    call("MPI_Buffer_attach", || {
        crate::state::require_running()?;
        let Ok(size) = usize::try_from(size) else {
            return fail(
                MPI_ERR_ARG,
                format!("the buffer's size is negative ({size})"),
            );
        };
        if buffer.is_null() && size > 0 {
            return fail(
                MPI_ERR_BUFFER,
                format!("the buffer is NULL but its size is {size}"),
            );
        }
        ATTACHED.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(old) = a.as_ref() {
                return fail(
                    MPI_ERR_BUFFER,
                    format!(
                        "a buffer of {} bytes is already attached: detach it first",
                        old.size
                    ),
                );
            }
            *a = Some(Attached {
                base: buffer.cast(),
                size,
                live: Vec::new(),
            });
            Ok(())
        })
    })
}

/// `MPI_Buffer_detach`: waits until every buffered send has completed, then returns the
/// attached buffer's address (in `*(void **)buffer_addr`) and size. With no buffer attached
/// it returns NULL and 0.
#[no_mangle]
pub unsafe extern "C" fn MPI_Buffer_detach(buffer_addr: *mut c_void, size: *mut c_int) -> c_int {
    call("MPI_Buffer_detach", || {
        let world = crate::comm::get(MPI_COMM_WORLD)?;
        let addr = crate::comm::out(buffer_addr.cast::<*mut c_void>())?;
        let size = crate::comm::out(size)?;
        let taken = ATTACHED.with(|a| a.borrow_mut().take());
        let (base, bytes) = match taken {
            None => (std::ptr::null_mut(), 0),
            Some(a) => {
                let waited = raw::wait_until(
                    &world.pc,
                    || a.live.iter().all(|l| l.raw.is_complete()),
                    || a.live.iter().any(|l| l.raw.ready()),
                );
                if let Err(e) = waited {
                    ATTACHED.with(|slot| *slot.borrow_mut() = Some(a));
                    return Err(e.into());
                }
                (a.base, a.size)
            }
        };
        // SAFETY: checked non-null; the caller passes valid pointers (MPI's rules).
        unsafe {
            addr.write(base.cast());
            size.write(bytes as c_int);
        }
        Ok(())
    })
}

/// Copies the message into the attached buffer and starts sending it from there.
///
/// # Safety
///
/// `buf` holds `count` elements of `datatype` (MPI's rule).
unsafe fn buffered(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
) -> Result<()> {
    let c = crate::comm::get(comm)?;
    let t = crate::datatype::get_committed(datatype)?;
    let n = elements(buf, count, &t)?;
    if dest == MPI_PROC_NULL {
        return Ok(());
    }
    // SAFETY: forwarded from the caller.
    let msg = unsafe { Outgoing::new(buf, n, &t) };
    let (src, len) = msg.bytes();
    let need = len + MPI_BSEND_OVERHEAD as usize;
    ATTACHED.with(|a| {
        let mut a = a.borrow_mut();
        let Some(a) = a.as_mut() else {
            return fail(
                MPI_ERR_BUFFER,
                format!("no buffer is attached for a buffered send of {len} bytes (call MPI_Buffer_attach)"),
            );
        };
        a.reap();
        let Some((i, at)) = a.fit(need) else {
            return fail(
                MPI_ERR_BUFFER,
                format!(
                    "the attached buffer has no room for a buffered send of {len} bytes \
                     ({need} with MPI_BSEND_OVERHEAD): {} of its {} bytes are free \
                     ({} buffered sends are in flight)",
                    a.free(),
                    a.size,
                    a.live.len()
                ),
            );
        };
        // The data goes after the overhead's bytes of its stretch.
        let place = a.base.wrapping_add(at + MPI_BSEND_OVERHEAD as usize);
        // SAFETY: the stretch lies within the attached buffer (fit checked it) and no send in
        // flight uses it; the message's bytes are readable (the caller's promise or our copy).
        unsafe { std::ptr::copy_nonoverlapping(src, place, len) };
        // SAFETY: the stretch stays reserved, and the buffer attached, until the send completes
        // (detach waits for it).
        let raw = unsafe { raw::immediate_send(&c.pc, dest, tag, place, len, SendMode::Standard)? };
        a.live.insert(i, Live { at, len: need, raw });
        Ok(())
    })
}

/// `MPI_Bsend`: copies the message into the attached buffer and returns; the send goes on
/// from there. `MPI_ERR_BUFFER` when no buffer is attached or the message (plus
/// `MPI_BSEND_OVERHEAD`) does not fit in its free space.
#[no_mangle]
pub unsafe extern "C" fn MPI_Bsend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Bsend", On::Comm(comm), || {
        // SAFETY: forwarded: the caller's buffer holds the elements, as MPI requires.
        unsafe { buffered(buf, count, datatype, dest, tag, comm) }
    })
}

/// `MPI_Ibsend`: as `MPI_Bsend`, which finishes within the call; the request is complete.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ibsend(
    buf: *const c_void,
    count: c_int,
    datatype: Handle,
    dest: c_int,
    tag: c_int,
    comm: Handle,
    request: *mut c_int,
) -> c_int {
    call_on("MPI_Ibsend", On::Comm(comm), || {
        let request = crate::comm::out(request)?;
        // SAFETY: forwarded: the caller's buffer holds the elements, as MPI requires.
        unsafe { buffered(buf, count, datatype, dest, tag, comm)? };
        let status = if dest == MPI_PROC_NULL {
            PROC_NULL_STATUS
        } else {
            crate::request::EMPTY
        };
        let h = crate::request::insert_on(Box::new(Done(Some(Ok(status)))), On::Comm(comm));
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        unsafe { request.write(h) };
        Ok(())
    })
}

/// Forgets the attached buffer and its sends (for `MPI_Finalize`, after its barrier; the
/// buffer is the program's).
pub fn finalize() {
    if let Some(a) = ATTACHED.with(|a| a.borrow_mut().take()) {
        std::mem::forget(a.live);
    }
}

#[cfg(test)]
mod tests {
    use super::first_fit;

    #[test]
    fn stretches_are_placed_first_fit_between_those_in_flight() {
        let none: [(usize, usize); 0] = [];
        assert_eq!(first_fit(none.into_iter(), 100, 100), Some((0, 0)));
        assert_eq!(first_fit(none.into_iter(), 100, 101), None);
        // Taken: 10..30 and 50..60.
        let taken = [(10, 20), (50, 10)];
        assert_eq!(first_fit(taken.into_iter(), 100, 10), Some((0, 0)));
        assert_eq!(first_fit(taken.into_iter(), 100, 20), Some((1, 30)));
        assert_eq!(first_fit(taken.into_iter(), 100, 40), Some((2, 60)));
        assert_eq!(first_fit(taken.into_iter(), 100, 41), None);
    }
}
