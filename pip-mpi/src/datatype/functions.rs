//! The C functions that make, commit, free, copy and name datatypes. Each checks its
//! arguments (negative counts are `MPI_ERR_COUNT`, negative block lengths and null arrays with
//! entries `MPI_ERR_ARG`, `MPI_DATATYPE_NULL` or a freed handle `MPI_ERR_TYPE`) and then hands
//! the work to [`super::derived`].

use super::{derived, Datatype};
use crate::error::{call, fail, Result, MPI_ERR_ARG, MPI_ERR_COUNT, MPI_ERR_TYPE};
use crate::handle::{Handle, MPI_DATATYPE_NULL, MPI_MAX_OBJECT_NAME};
use crate::state::{count, require_running};
use std::ffi::{c_char, c_int, CStr};
use std::rc::Rc;

/// The `n` entries of C array `p` (named `what` in errors): none when `n` is 0, else `p` must
/// not be null.
///
/// # Safety
///
/// `p` is null or points to `n` readable entries that outlive the call.
unsafe fn array<'a, T>(p: *const T, n: usize, what: &str) -> Result<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return fail(
            MPI_ERR_ARG,
            format!("{what} is a null pointer and count is {n}"),
        );
    }
    // SAFETY: checked non-null; the caller guarantees `n` readable entries.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// The block lengths of `array_of_blocklengths`, none negative.
fn blocklengths(lengths: &[c_int]) -> Result<Vec<usize>> {
    lengths
        .iter()
        .enumerate()
        .map(|(i, &b)| count(b, MPI_ERR_ARG, &format!("array_of_blocklengths[{i}]")))
        .collect()
}

/// Checks that MPI runs, the count is not negative and the new type's handle can be written:
/// what every constructor does first.
fn start(n: c_int, newtype: *mut Handle) -> Result<(usize, *mut Handle)> {
    require_running()?;
    let n = count(n, MPI_ERR_COUNT, "count")?;
    Ok((n, crate::comm::out(newtype)?))
}

/// Stores `t` and writes its handle to `newtype`.
///
/// # Safety
///
/// `newtype` is valid for a write.
unsafe fn store(newtype: *mut Handle, t: Datatype) -> Result<()> {
    let h = super::insert(t);
    // SAFETY: the caller guarantees a valid handle pointer.
    unsafe { *newtype = h };
    Ok(())
}

/// `MPI_Type_contiguous`: `count` copies of `oldtype`, one after the other.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_contiguous(
    count: c_int,
    oldtype: Handle,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_contiguous", || {
        let (n, newtype) = start(count, newtype)?;
        let old = super::get_arg(oldtype, "oldtype")?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, derived::contiguous(n, &old)?) }
    })
}

/// `MPI_Type_vector`: `count` blocks of `blocklength` copies of `oldtype`, `stride` extents of
/// `oldtype` apart (negative strides allowed).
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_vector(
    count: c_int,
    blocklength: c_int,
    stride: c_int,
    oldtype: Handle,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_vector", || {
        let (n, newtype) = start(count, newtype)?;
        let b = crate::state::count(blocklength, MPI_ERR_ARG, "blocklength")?;
        let old = super::get_arg(oldtype, "oldtype")?;
        let bytes = derived::scale(&[stride], old.extent)?[0];
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, derived::hvector(n, b, bytes, &old)?) }
    })
}

/// `MPI_Type_create_hvector`: as `MPI_Type_vector` with the stride in bytes.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_create_hvector(
    count: c_int,
    blocklength: c_int,
    stride: isize,
    oldtype: Handle,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_create_hvector", || {
        let (n, newtype) = start(count, newtype)?;
        let b = crate::state::count(blocklength, MPI_ERR_ARG, "blocklength")?;
        let old = super::get_arg(oldtype, "oldtype")?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, derived::hvector(n, b, stride, &old)?) }
    })
}

/// `MPI_Type_indexed`: block `i` of `array_of_blocklengths[i]` copies of `oldtype` at
/// `array_of_displacements[i]` extents of `oldtype`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_indexed(
    count: c_int,
    array_of_blocklengths: *const c_int,
    array_of_displacements: *const c_int,
    oldtype: Handle,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_indexed", || {
        let (n, newtype) = start(count, newtype)?;
        // SAFETY: the caller passes arrays of `count` entries, as MPI requires.
        let (lengths, disps) = unsafe {
            (
                array(array_of_blocklengths, n, "array_of_blocklengths")?,
                array(array_of_displacements, n, "array_of_displacements")?,
            )
        };
        let old = super::get_arg(oldtype, "oldtype")?;
        let t = derived::hindexed(
            &blocklengths(lengths)?,
            &derived::scale(disps, old.extent)?,
            &old,
        )?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, t) }
    })
}

/// `MPI_Type_create_hindexed`: as `MPI_Type_indexed` with the displacements in bytes.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_create_hindexed(
    count: c_int,
    array_of_blocklengths: *const c_int,
    array_of_displacements: *const isize,
    oldtype: Handle,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_create_hindexed", || {
        let (n, newtype) = start(count, newtype)?;
        // SAFETY: the caller passes arrays of `count` entries, as MPI requires.
        let (lengths, disps) = unsafe {
            (
                array(array_of_blocklengths, n, "array_of_blocklengths")?,
                array(array_of_displacements, n, "array_of_displacements")?,
            )
        };
        let old = super::get_arg(oldtype, "oldtype")?;
        let t = derived::hindexed(&blocklengths(lengths)?, disps, &old)?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, t) }
    })
}

/// `MPI_Type_create_indexed_block`: as `MPI_Type_indexed` with one block length for all.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_create_indexed_block(
    count: c_int,
    blocklength: c_int,
    array_of_displacements: *const c_int,
    oldtype: Handle,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_create_indexed_block", || {
        let (n, newtype) = start(count, newtype)?;
        let b = crate::state::count(blocklength, MPI_ERR_ARG, "blocklength")?;
        // SAFETY: the caller passes an array of `count` entries, as MPI requires.
        let disps = unsafe { array(array_of_displacements, n, "array_of_displacements")? };
        let old = super::get_arg(oldtype, "oldtype")?;
        let t = derived::hindexed(&vec![b; n], &derived::scale(disps, old.extent)?, &old)?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, t) }
    })
}

/// `MPI_Type_create_struct`: block `i` of `array_of_blocklengths[i]` copies of
/// `array_of_types[i]` at byte `array_of_displacements[i]`; the extent is padded to the
/// alignment of the largest member, as C pads a struct.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_create_struct(
    count: c_int,
    array_of_blocklengths: *const c_int,
    array_of_displacements: *const isize,
    array_of_types: *const Handle,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_create_struct", || {
        let (n, newtype) = start(count, newtype)?;
        // SAFETY: the caller passes arrays of `count` entries, as MPI requires.
        let (lengths, disps, handles) = unsafe {
            (
                array(array_of_blocklengths, n, "array_of_blocklengths")?,
                array(array_of_displacements, n, "array_of_displacements")?,
                array(array_of_types, n, "array_of_types")?,
            )
        };
        let types = handles
            .iter()
            .enumerate()
            .map(|(i, &h)| super::get_arg(h, &format!("array_of_types[{i}]")))
            .collect::<Result<Vec<Rc<Datatype>>>>()?;
        let refs: Vec<&Datatype> = types.iter().map(|t| &**t).collect();
        let t = derived::structure(&blocklengths(lengths)?, disps, &refs)?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, t) }
    })
}

/// `MPI_Type_create_resized`: `oldtype`'s data with lower bound `lb` and extent `extent`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_create_resized(
    oldtype: Handle,
    lb: isize,
    extent: isize,
    newtype: *mut Handle,
) -> c_int {
    call("MPI_Type_create_resized", || {
        let (_, newtype) = start(0, newtype)?;
        let old = super::get_arg(oldtype, "oldtype")?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, derived::resized(&old, lb, extent)?) }
    })
}

/// `MPI_Type_dup`: a copy of `oldtype` (committed if it is), with no name.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_dup(oldtype: Handle, newtype: *mut Handle) -> c_int {
    call("MPI_Type_dup", || {
        let (_, newtype) = start(0, newtype)?;
        let old = super::get_arg(oldtype, "oldtype")?;
        // SAFETY: `start` checked the pointer; the caller passes a valid handle pointer.
        unsafe { store(newtype, derived::dup(&old)) }
    })
}

/// Reads the handle `*datatype` (for commit and free).
///
/// # Safety
///
/// `datatype` is null or valid for reads.
unsafe fn handle_at(datatype: *mut Handle) -> Result<(*mut Handle, Handle)> {
    require_running()?;
    let p = crate::comm::out(datatype)?;
    // SAFETY: checked non-null; the caller passes a valid handle pointer.
    Ok((p, unsafe { *p }))
}

/// `MPI_Type_commit`: makes the type usable in communication (a predefined or already
/// committed type is left as it is).
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_commit(datatype: *mut Handle) -> c_int {
    call("MPI_Type_commit", || {
        // SAFETY: the caller passes a valid handle pointer.
        let (_, h) = unsafe { handle_at(datatype) }?;
        let t = super::get_arg(h, "datatype")?;
        if t.committed {
            return Ok(());
        }
        super::replace(
            h,
            Datatype {
                committed: true,
                ..(*t).clone()
            },
        )
    })
}

/// `MPI_Type_free`: frees a derived type and sets the handle to `MPI_DATATYPE_NULL`.
/// Operations in flight that use the type keep their own reference to it, and types made from
/// it are not affected. Predefined types cannot be freed (`MPI_ERR_TYPE`).
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_free(datatype: *mut Handle) -> c_int {
    call("MPI_Type_free", || {
        // SAFETY: the caller passes a valid handle pointer.
        let (p, h) = unsafe { handle_at(datatype) }?;
        let t = super::get_arg(h, "datatype")?;
        if t.predefined {
            return fail(
                MPI_ERR_TYPE,
                format!("{} is a predefined datatype: it cannot be freed", t.name),
            );
        }
        super::remove(h)?;
        // SAFETY: `handle_at` checked the pointer.
        unsafe { *p = MPI_DATATYPE_NULL };
        Ok(())
    })
}

/// `MPI_Type_get_name`: the type's name: a predefined type's is its constant's name
/// (`"MPI_INT"`), a derived type's is empty until `MPI_Type_set_name`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_get_name(
    datatype: Handle,
    type_name: *mut c_char,
    resultlen: *mut c_int,
) -> c_int {
    call("MPI_Type_get_name", || {
        require_running()?;
        let t = super::get_arg(datatype, "datatype")?;
        let (name, len) = (crate::comm::out(type_name)?, crate::comm::out(resultlen)?);
        let bytes = t.name.as_bytes();
        let n = bytes.len().min(MPI_MAX_OBJECT_NAME - 1);
        // SAFETY: checked non-null; the caller passes a buffer of MPI_MAX_OBJECT_NAME chars
        // and a valid int pointer, as MPI requires; `n + 1` is at most that.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), name as *mut u8, n);
            *name.add(n) = 0;
            *len = n as c_int;
        }
        Ok(())
    })
}

/// `MPI_Type_set_name`: names the type (for this rank); a name longer than
/// `MPI_MAX_OBJECT_NAME - 1` bytes is cut to that length. Predefined types may be renamed.
#[no_mangle]
pub unsafe extern "C" fn MPI_Type_set_name(datatype: Handle, type_name: *const c_char) -> c_int {
    call("MPI_Type_set_name", || {
        require_running()?;
        let t = super::get_arg(datatype, "datatype")?;
        if type_name.is_null() {
            return fail(MPI_ERR_ARG, "type_name is a null pointer");
        }
        // SAFETY: checked non-null; the caller passes a NUL-terminated string.
        let given = unsafe { CStr::from_ptr(type_name) }.to_bytes();
        let n = given.len().min(MPI_MAX_OBJECT_NAME - 1);
        let mut name = String::from_utf8_lossy(&given[..n]).into_owned();
        while name.len() > MPI_MAX_OBJECT_NAME - 1 {
            name.pop();
        }
        super::replace(
            datatype,
            Datatype {
                name,
                ..(*t).clone()
            },
        )
    })
}

#[cfg(test)]
mod checks {
    use super::*;

    #[test]
    fn null_arrays_are_refused_only_with_entries() {
        // SAFETY: a null pointer with no entries is never read.
        assert!(unsafe { array::<c_int>(std::ptr::null(), 0, "a") }
            .unwrap()
            .is_empty());
        // SAFETY: a null pointer with entries is refused before any read.
        let e =
            unsafe { array::<c_int>(std::ptr::null(), 2, "array_of_displacements") }.unwrap_err();
        assert_eq!(e.class, MPI_ERR_ARG);
        assert!(
            e.message.contains("array_of_displacements"),
            "{}",
            e.message
        );
        let e = blocklengths(&[1, -2]).unwrap_err();
        assert_eq!(e.class, MPI_ERR_ARG);
        assert!(
            e.message.contains("array_of_blocklengths[1]"),
            "{}",
            e.message
        );
        assert!(e.message.contains("-2"), "{}", e.message);
    }
}
