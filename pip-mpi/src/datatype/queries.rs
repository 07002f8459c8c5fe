//! The C functions that ask about datatypes and received data: sizes and extents, addresses
//! (`MPI_BOTTOM` is address 0, so an address from `MPI_Get_address` is a displacement from
//! it), and `MPI_Get_count`/`MPI_Get_elements`, which read the byte count a status carries.

use super::Datatype;
use crate::error::{call, fail, Result, MPI_ERR_ARG};
use crate::handle::{Handle, MpiStatus, MPI_STATUS_IGNORE, MPI_UNDEFINED};
use crate::state::require_running;
use std::ffi::{c_int, c_void};

/// How many whole elements of `t` `bytes` bytes of data are; `None` if they are not a whole
/// number (a type without data: 0 elements).
pub fn count_in(t: &Datatype, bytes: usize) -> Option<usize> {
    if t.size == 0 {
        return Some(0);
    }
    (bytes % t.size == 0).then_some(bytes / t.size)
}

/// How many basic elements (the predefined types the type is made of, in type-map order)
/// `bytes` bytes of data of `t` hold, counting those of a last partial element of `t`; `None`
/// if the data ends inside a basic element.
pub fn elements_in(t: &Datatype, bytes: usize) -> Option<usize> {
    if t.size == 0 {
        return Some(0);
    }
    let per_element: usize = t.elements.iter().map(|e| e.1).sum();
    let mut n = (bytes / t.size).checked_mul(per_element)?;
    let mut rest = bytes % t.size;
    for &(size, many) in &t.elements {
        if rest == 0 {
            break;
        }
        let whole = (rest / size).min(many);
        n += whole;
        rest -= whole * size;
        if whole < many && rest > 0 {
            return None;
        }
    }
    Some(n)
}

/// The status behind `status` (not null, not `MPI_STATUS_IGNORE`).
///
/// # Safety
///
/// `status` is null, `MPI_STATUS_IGNORE` or valid for reads.
unsafe fn status_at(status: *const MpiStatus) -> Result<MpiStatus> {
    if status.is_null() || status as usize == MPI_STATUS_IGNORE {
        return fail(MPI_ERR_ARG, "status is a null pointer or MPI_STATUS_IGNORE");
    }
    // SAFETY: checked; the caller passes a valid status.
    Ok(unsafe { *status })
}

/// Writes `n` (or `MPI_UNDEFINED` for `None` or a value beyond an int) to `out`.
fn write_count(out: *mut c_int, n: Option<usize>) -> Result<()> {
    let out = crate::comm::out(out)?;
    let v = n
        .and_then(|n| c_int::try_from(n).ok())
        .unwrap_or(MPI_UNDEFINED);
    // SAFETY: checked non-null; the caller passes a valid int pointer.
    unsafe { *out = v };
    Ok(())
}

/// The byte count of a status (never negative).
fn bytes_of(s: &MpiStatus) -> usize {
    usize::try_from(s.count).unwrap_or(0)
}

/// `MPI_Get_count`: how many elements of `datatype` the status's message held; `MPI_UNDEFINED`
/// if its bytes are not a whole number of them.
#[no_mangle]
pub unsafe extern "C" fn MPI_Get_count(
    status: *const MpiStatus,
    datatype: Handle,
    count: *mut c_int,
) -> c_int {
    call("MPI_Get_count", || {
        // SAFETY: the caller passes a valid status.
        let s = unsafe { status_at(status) }?;
        let t = super::get_arg(datatype, "datatype")?;
        write_count(count, count_in(&t, bytes_of(&s)))
    })
}

/// `MPI_Get_elements`: how many basic elements the status's message held, counting those of a
/// partial last element of `datatype`; `MPI_UNDEFINED` if the data ends inside a basic
/// element. A pair type (`MPI_DOUBLE_INT`) counts as its two members.
#[no_mangle]
pub unsafe extern "C" fn MPI_Get_elements(
    status: *const MpiStatus,
    datatype: Handle,
    count: *mut c_int,
) -> c_int {
    call("MPI_Get_elements", || {
        // SAFETY: the caller passes a valid status.
        let s = unsafe { status_at(status) }?;
        let t = super::get_arg(datatype, "datatype")?;
        write_count(count, elements_in(&t, bytes_of(&s)))
    })
}

/// Writes `v` through output argument `p`.
fn put<T>(p: *mut T, v: T) -> Result<()> {
    let p = crate::comm::out(p)?;
    // SAFETY: checked non-null; the caller passes a valid pointer, as MPI requires.
    unsafe { p.write(v) };
    Ok(())
}

/// The datatype of `h`, once MPI runs.
fn datatype(h: Handle) -> Result<std::rc::Rc<Datatype>> {
    require_running()?;
    super::get_arg(h, "datatype")
}

/// `MPI_Type_size`: the bytes of data in one element (`MPI_UNDEFINED` beyond an int).
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_size(datatype: Handle, size: *mut c_int) -> c_int {
    call("MPI_Type_size", || {
        let t = self::datatype(datatype)?;
        put(size, c_int::try_from(t.size).unwrap_or(MPI_UNDEFINED))
    })
}

/// `MPI_Type_size_x`: the bytes of data in one element, as an `MPI_Count`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_size_x(datatype: Handle, size: *mut i64) -> c_int {
    call("MPI_Type_size_x", || {
        let t = self::datatype(datatype)?;
        put(size, t.size as i64)
    })
}

/// `MPI_Type_get_extent`: the lower bound and the extent (see `derived` for how they are
/// computed).
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_get_extent(
    datatype: Handle,
    lb: *mut isize,
    extent: *mut isize,
) -> c_int {
    call("MPI_Type_get_extent", || {
        let t = self::datatype(datatype)?;
        crate::comm::out(extent)?;
        put(lb, t.lb)?;
        put(extent, t.extent)
    })
}

/// `MPI_Type_get_true_extent`: the first byte of the data and the span of the data, ignoring
/// the bounds set by `MPI_Type_create_resized` and a struct's padding.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_get_true_extent(
    datatype: Handle,
    true_lb: *mut isize,
    true_extent: *mut isize,
) -> c_int {
    call("MPI_Type_get_true_extent", || {
        let t = self::datatype(datatype)?;
        crate::comm::out(true_extent)?;
        put(true_lb, t.true_lb)?;
        put(true_extent, t.true_ub - t.true_lb)
    })
}

/// `MPI_Get_address`: the address of `location` as an `MPI_Aint`. `MPI_BOTTOM` is address 0,
/// so such addresses serve as displacements of a type used with the buffer `MPI_BOTTOM`.
/// It may be called before `MPI_Init` (it needs no state).
#[no_mangle]
pub unsafe extern "C" fn MPI_Get_address(location: *const c_void, address: *mut isize) -> c_int {
    call("MPI_Get_address", || put(address, location as isize))
}

/// `MPI_Aint_add`: `base + disp` (wrapping, as address arithmetic in C would).
#[no_mangle]
pub extern "C" fn MPI_Aint_add(base: isize, disp: isize) -> isize {
    base.wrapping_add(disp)
}

/// `MPI_Aint_diff`: `addr1 - addr2` (wrapping).
#[no_mangle]
pub extern "C" fn MPI_Aint_diff(addr1: isize, addr2: isize) -> isize {
    addr1.wrapping_sub(addr2)
}
