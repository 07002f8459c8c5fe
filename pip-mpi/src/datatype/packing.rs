//! Packing and unpacking: the data of elements of a datatype to and from one contiguous run of
//! bytes (the type's data in type-map order, MPI_PACKED's format here), and `MPI_Pack`,
//! `MPI_Unpack` and `MPI_Pack_size`.
//!
//! The elements' runs are visited in order with a run that continues the previous one merged
//! into it, across elements too: `count` elements of a contiguous type (or of a dense type,
//! one run as long as its extent) are one copy, and a vector column of a matrix is one copy
//! per block.

use super::Datatype;
use crate::error::{call_on, fail, On, Result, MPI_ERR_ARG, MPI_ERR_BUFFER, MPI_ERR_TRUNCATE};
use crate::handle::Handle;
use crate::state::count;
use std::ffi::{c_int, c_void};

/// Calls `f(offset, len)` for the runs of `count` elements of `t` (offsets from the buffer's
/// start), in order, merging a run into the previous one when it continues it; stops early
/// when `f` returns false.
fn runs(t: &Datatype, count: usize, mut f: impl FnMut(isize, usize) -> bool) {
    if t.size == 0 || count == 0 {
        return;
    }
    if let [(off, len)] = t.blocks[..] {
        if t.extent == len as isize {
            f(off, len * count);
            return;
        }
    }
    let mut pending: Option<(isize, usize)> = None;
    for i in 0..count {
        let base = (i as isize).wrapping_mul(t.extent);
        for &(off, len) in &t.blocks {
            let at = base.wrapping_add(off);
            match pending {
                Some((p, n)) if p.wrapping_add(n as isize) == at => pending = Some((p, n + len)),
                Some((p, n)) => {
                    if !f(p, n) {
                        return;
                    }
                    pending = Some((at, len));
                }
                None => pending = Some((at, len)),
            }
        }
    }
    if let Some((p, n)) = pending {
        f(p, n);
    }
}

/// Appends the data of `count` elements of `t` at `src` to `out`, in type-map order.
///
/// # Safety
///
/// Every block of every element is readable.
pub unsafe fn pack(t: &Datatype, count: usize, src: *const u8, out: &mut Vec<u8>) {
    out.reserve(t.size.saturating_mul(count));
    runs(t, count, |off, len| {
        // SAFETY: the caller guarantees every block of every element is readable.
        let run = unsafe { std::slice::from_raw_parts(src.wrapping_offset(off), len) };
        out.extend_from_slice(run);
        true
    });
}

/// Writes the data of `count` elements of `t` at `src` to the start of `out` (which must hold
/// `count * t.size` bytes, else this panics) and returns the number of bytes written.
///
/// # Safety
///
/// Every block of every element is readable and does not overlap `out`.
pub unsafe fn pack_into(t: &Datatype, count: usize, src: *const u8, out: &mut [u8]) -> usize {
    let total = t.size * count;
    assert!(
        out.len() >= total,
        "pack_into: {} bytes of room for {total}",
        out.len()
    );
    let mut at = 0;
    runs(t, count, |off, len| {
        // SAFETY: the caller guarantees the run is readable and apart from `out`, which has
        // room for it (checked above: the runs add up to `total`).
        unsafe {
            std::ptr::copy_nonoverlapping(src.wrapping_offset(off), out.as_mut_ptr().add(at), len)
        };
        at += len;
        true
    });
    at
}

/// Writes packed data `data` (as [`pack`] makes it) into elements of `t` at `dst`, as many
/// whole or partial elements as `data` holds.
///
/// # Safety
///
/// Every block of the elements that `data` covers is writable and does not overlap `data`.
pub unsafe fn unpack(t: &Datatype, data: &[u8], dst: *mut u8) {
    if t.size == 0 {
        return;
    }
    let count = data.len().div_ceil(t.size);
    let mut at = 0;
    runs(t, count, |off, len| {
        let n = len.min(data.len() - at);
        // SAFETY: the caller guarantees the run is writable and apart from `data`, which has
        // `n` bytes at `at`.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr().add(at), dst.wrapping_offset(off), n)
        };
        at += n;
        at < data.len()
    });
}

/// Reads `*position`, failing unless it lies within `0..=size` bytes.
///
/// # Safety
///
/// `position` is null or valid for reads.
unsafe fn position_in(position: *mut c_int, size: usize, what: &str) -> Result<usize> {
    let position = crate::comm::out(position)?;
    // SAFETY: checked non-null; the caller passes a valid int pointer.
    let p = unsafe { *position };
    match usize::try_from(p) {
        Ok(p) if p <= size => Ok(p),
        _ => fail(
            MPI_ERR_ARG,
            format!("position {p} is outside the {size}-byte {what} buffer"),
        ),
    }
}

/// The work of `MPI_Pack`: packs `n` elements of `t` at `inbuf` into `outbuf` (of `room`
/// bytes) at byte `at`; returns the position after them. `MPI_ERR_TRUNCATE` if they do not fit.
///
/// # Safety
///
/// `inbuf` holds the elements and `outbuf` `room` bytes, apart from each other; `at <= room`.
pub(super) unsafe fn pack_step(
    t: &Datatype,
    n: usize,
    inbuf: *const u8,
    outbuf: *mut u8,
    room: usize,
    at: usize,
) -> Result<usize> {
    let bytes = t.bytes(n)?;
    if bytes > room - at {
        return fail(
            MPI_ERR_TRUNCATE,
            format!(
                "{n} elements are {bytes} bytes packed; outbuf has {} left ({room} bytes, \
                 position {at})",
                room - at
            ),
        );
    }
    super::check_data(inbuf, t, n, "inbuf")?;
    if bytes > 0 && outbuf.is_null() {
        return fail(MPI_ERR_BUFFER, "outbuf is a null pointer with data to pack");
    }
    if bytes > 0 {
        // SAFETY: the caller guarantees `room` bytes at `outbuf`; `at + bytes <= room`.
        let out = unsafe { std::slice::from_raw_parts_mut(outbuf.add(at), bytes) };
        // SAFETY: the caller guarantees the elements are readable and apart from `outbuf`.
        unsafe { pack_into(t, n, inbuf, out) };
    }
    Ok(at + bytes)
}

/// The work of `MPI_Unpack`: unpacks `n` elements of `t` from `inbuf` (of `size` bytes) at
/// byte `at` into `outbuf`; returns the position after them. `MPI_ERR_TRUNCATE` if `inbuf`
/// holds fewer bytes than that.
///
/// # Safety
///
/// `inbuf` holds `size` bytes and `outbuf` the elements, apart from each other; `at <= size`.
pub(super) unsafe fn unpack_step(
    t: &Datatype,
    n: usize,
    inbuf: *const u8,
    size: usize,
    at: usize,
    outbuf: *mut u8,
) -> Result<usize> {
    let bytes = t.bytes(n)?;
    if bytes > size - at {
        return fail(
            MPI_ERR_TRUNCATE,
            format!(
                "{n} elements need {bytes} packed bytes; inbuf has {} left ({size} bytes, \
                 position {at})",
                size - at
            ),
        );
    }
    super::check_data(outbuf, t, n, "outbuf")?;
    if bytes > 0 && inbuf.is_null() {
        return fail(
            MPI_ERR_BUFFER,
            "inbuf is a null pointer with data to unpack",
        );
    }
    if bytes > 0 {
        // SAFETY: the caller guarantees `size` bytes at `inbuf`; `at + bytes <= size`.
        let data = unsafe { std::slice::from_raw_parts(inbuf.add(at), bytes) };
        // SAFETY: the caller guarantees the elements are writable and apart from `inbuf`.
        unsafe { unpack(t, data, outbuf) };
    }
    Ok(at + bytes)
}

/// `MPI_Pack`: appends `incount` elements of `datatype` from `inbuf` to the packed buffer
/// `outbuf` of `outsize` bytes at `*position`, and advances `*position`. The packed format is
/// the data in type-map order (the same bytes a message of the type carries); there is no
/// header. `MPI_ERR_TRUNCATE` if they do not fit.
#[no_mangle]
pub unsafe extern "C" fn MPI_Pack(
    inbuf: *const c_void,
    incount: c_int,
    datatype: Handle,
    outbuf: *mut c_void,
    outsize: c_int,
    position: *mut c_int,
    comm: Handle,
) -> c_int {
    call_on("MPI_Pack", On::Comm(comm), || {
        crate::comm::get(comm)?;
        let n = count(incount, crate::error::MPI_ERR_COUNT, "incount")?;
        let t = super::get_committed(datatype)?;
        let room = count(outsize, MPI_ERR_ARG, "outsize")?;
        // SAFETY: the caller passes a valid int pointer.
        let at = unsafe { position_in(position, room, "output") }?;
        // SAFETY: the caller's buffers hold the elements and `outsize` bytes, as MPI requires.
        let end = unsafe { pack_step(&t, n, inbuf as *const u8, outbuf as *mut u8, room, at) }?;
        // SAFETY: `position` was checked by `position_in`.
        unsafe { *position = end as c_int };
        Ok(())
    })
}

/// `MPI_Unpack`: reads `outcount` elements of `datatype` from the packed buffer `inbuf` of
/// `insize` bytes at `*position` into `outbuf`, and advances `*position`.
/// `MPI_ERR_TRUNCATE` if the packed buffer holds fewer bytes than that.
#[no_mangle]
pub unsafe extern "C" fn MPI_Unpack(
    inbuf: *const c_void,
    insize: c_int,
    position: *mut c_int,
    outbuf: *mut c_void,
    outcount: c_int,
    datatype: Handle,
    comm: Handle,
) -> c_int {
    call_on("MPI_Unpack", On::Comm(comm), || {
        crate::comm::get(comm)?;
        let n = count(outcount, crate::error::MPI_ERR_COUNT, "outcount")?;
        let t = super::get_committed(datatype)?;
        let size = count(insize, MPI_ERR_ARG, "insize")?;
        // SAFETY: the caller passes a valid int pointer.
        let at = unsafe { position_in(position, size, "input") }?;
        // SAFETY: the caller's buffers hold `insize` bytes and the elements, as MPI requires.
        let end = unsafe { unpack_step(&t, n, inbuf as *const u8, size, at, outbuf as *mut u8) }?;
        // SAFETY: `position` was checked by `position_in`.
        unsafe { *position = end as c_int };
        Ok(())
    })
}

/// `MPI_Pack_size`: the bytes `MPI_Pack` needs for `incount` elements of `datatype`: exactly
/// their data's size (the packed format has no header).
#[no_mangle]
pub unsafe extern "C" fn MPI_Pack_size(
    incount: c_int,
    datatype: Handle,
    comm: Handle,
    size: *mut c_int,
) -> c_int {
    call_on("MPI_Pack_size", On::Comm(comm), || {
        crate::comm::get(comm)?;
        let n = count(incount, crate::error::MPI_ERR_COUNT, "incount")?;
        let t = super::get_arg(datatype, "datatype")?;
        let size = crate::comm::out(size)?;
        let bytes = t.bytes(n)?;
        let Ok(bytes) = c_int::try_from(bytes) else {
            return fail(
                crate::error::MPI_ERR_COUNT,
                format!(
                    "{incount} elements of {} bytes need more than an int of bytes",
                    t.size
                ),
            );
        };
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *size = bytes };
        Ok(())
    })
}
