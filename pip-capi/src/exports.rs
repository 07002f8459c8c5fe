//! Address exchange: the unnamed export (`pip_export`/`pip_import`), the named exports
//! (`pip_named_export`/`pip_named_import`/`pip_named_tryimport`; their printf-style forms are
//! inline in `pip.h` and call the `*_name` functions here) and the aux pointer.
//!
//! All of them go through the root's [`RootOps`](pip_core::abi::RootOps), with the caller's
//! identity from [`crate::whoami`], so they work the same in every copy of the library.

use crate::whoami::{check_pipid, who, Who};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Sets the caller's unnamed export (one per task, and one for the root). `EINVAL` for `NULL`,
/// `EPERM` outside a PiP job.
///
/// # Safety
///
/// None beyond C's: `exp` is stored, never dereferenced.
#[no_mangle]
pub unsafe extern "C" fn pip_export(exp: *mut c_void) -> c_int {
    let w = who();
    let (Some(abi), Some(me)) = (w.abi(), w.core_id()) else {
        return libc::EPERM;
    };
    if exp.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: a live root's op.
    unsafe { (abi.ops.export)(abi, me, exp) }
}

/// Reads the unnamed export of `pipid` (`NULL` if it has exported nothing); never blocks.
/// Errors: `EPERM`, `EINVAL` (`expp` is `NULL`, or `PIP_PIPID_ANY`), `ERANGE` (no such pipid).
///
/// # Safety
///
/// `expp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_import(pipid: c_int, expp: *mut *mut c_void) -> c_int {
    let w = who();
    let Some(abi) = w.abi() else {
        return libc::EPERM;
    };
    if expp.is_null() {
        return libc::EINVAL;
    }
    let target = match check_pipid(w, pipid) {
        Ok(t) => t,
        Err(e) => return e,
    };
    // SAFETY: a live root's op; `expp` is valid.
    unsafe { (abi.ops.import)(abi, target, expp) }
}

/// The bytes of a name (`NULL` is the empty name).
///
/// # Safety
/// `name` is null or NUL-terminated.
unsafe fn name_bytes<'a>(name: *const c_char) -> &'a [u8] {
    if name.is_null() {
        b""
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { CStr::from_ptr(name) }.to_bytes()
    }
}

/// `pip_named_export` with the name already formatted: exports `exp` under `name`, waking the
/// tasks blocked importing it. Errors: `EPERM` (outside a PiP job), `EINVAL` (`exp` is `NULL`),
/// `EBUSY` (the caller already exported that name).
///
/// # Safety
///
/// `name` is null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pip_named_export_name(exp: *mut c_void, name: *const c_char) -> c_int {
    let w = who();
    let (Some(abi), Some(me)) = (w.abi(), w.core_id()) else {
        return libc::EPERM;
    };
    if exp.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let n = unsafe { name_bytes(name) };
    // SAFETY: a live root's op with a valid name.
    unsafe { (abi.ops.named_export)(abi, me, n.as_ptr(), n.len(), exp) }
}

/// # Safety
/// As [`pip_named_import_name`].
unsafe fn named_import(
    pipid: c_int,
    expp: *mut *mut c_void,
    name: *const c_char,
    block: bool,
) -> c_int {
    let w = who();
    let (Some(abi), Some(me)) = (w.abi(), w.core_id()) else {
        return libc::EPERM;
    };
    if expp.is_null() {
        return libc::EINVAL;
    }
    let from = match check_pipid(w, pipid) {
        Ok(t) => t,
        Err(e) => return e,
    };
    // SAFETY: guaranteed by the caller.
    let n = unsafe { name_bytes(name) };
    // SAFETY: a live root's op with a valid name and out pointer.
    unsafe { (abi.ops.named_import)(abi, me, from, n.as_ptr(), n.len(), block as c_int, expp) }
}

/// `pip_named_import` with the name already formatted: waits until `pipid` exports `name`.
/// Errors: `EPERM`, `EINVAL`/`ERANGE` (bad pipid), `EDEADLK` (importing from oneself a name not
/// exported), `ECANCELED` (the task ended without exporting it).
///
/// # Safety
///
/// `expp` is null or valid; `name` is null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pip_named_import_name(
    pipid: c_int,
    expp: *mut *mut c_void,
    name: *const c_char,
) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { named_import(pipid, expp, name, true) }
}

/// `pip_named_tryimport` with the name already formatted: as [`pip_named_import_name`] but
/// `EAGAIN` instead of waiting.
///
/// # Safety
///
/// `expp` is null or valid; `name` is null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pip_named_tryimport_name(
    pipid: c_int,
    expp: *mut *mut c_void,
    name: *const c_char,
) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { named_import(pipid, expp, name, false) }
}

/// The root's aux pointer (the root has no task slot in pip-core).
static ROOT_AUX: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// Sets the caller's aux pointer. `EPERM` outside a PiP job.
///
/// # Safety
///
/// None beyond C's: `aux` is stored, never dereferenced.
#[no_mangle]
pub unsafe extern "C" fn pip_set_aux(aux: *mut c_void) -> c_int {
    match who() {
        Who::Nobody => libc::EPERM,
        Who::Root(_) => {
            // SYNC(whoami#root-identity): the root's aux pointer: Release store, Acquire load
            ROOT_AUX.store(aux, Ordering::Release);
            0
        }
        Who::Task(abi, me) => {
            let mut v = aux;
            // SAFETY: a live root's op; `v` is a valid in/out place.
            unsafe { (abi.ops.aux)(abi, me, 1, &mut v) }
        }
    }
}

/// Gives the caller's aux pointer (`pip_spawn_program_t.aux`, or what `pip_set_aux` set).
/// `EPERM` outside a PiP job, `EINVAL` for a `NULL` `auxp`.
///
/// # Safety
///
/// `auxp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_aux(auxp: *mut *mut c_void) -> c_int {
    let w = who();
    if let Who::Nobody = w {
        return libc::EPERM;
    }
    // SAFETY: the caller passes null or a valid pointer.
    let Some(out) = (unsafe { auxp.as_mut() }) else {
        return libc::EINVAL;
    };
    match w {
        Who::Task(abi, me) => {
            // SAFETY: a live root's op; `out` is a valid in/out place.
            unsafe { (abi.ops.aux)(abi, me, 0, out) }
        }
        _ => {
            // SYNC(whoami#root-identity): the root's aux pointer: Release store, Acquire load
            *out = ROOT_AUX.load(Ordering::Acquire);
            0
        }
    }
}
