//! Questions: who am I, how many tasks, which mode. They work in a task without `pip_init` (the
//! task is initialised before its `main` runs, as with PiP) and give `EPERM` outside a PiP job.

use crate::consts::*;
use crate::whoami::{self, check_pipid, who, Who};
use std::ffi::{c_char, c_int};

/// Writes `value` to `*out`: `EINVAL` for a `NULL` `out`, `EPERM` outside a PiP job.
///
/// # Safety
/// `out` is null or valid for a write.
unsafe fn answer(out: *mut c_int, value: impl FnOnce(Who) -> c_int) -> c_int {
    let w = who();
    if let Who::Nobody = w {
        return libc::EPERM;
    }
    // SAFETY: guaranteed by the caller.
    match unsafe { out.as_mut() } {
        Some(o) => {
            *o = value(w);
            0
        }
        None => libc::EINVAL,
    }
}

/// The caller's pipid: `PIP_PIPID_ROOT` in the root.
///
/// # Safety
///
/// `pipidp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_pipid(pipidp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(pipidp, |w| whoami::c_pipid(w.core_id().unwrap_or(0))) }
}

/// The number of tasks the root was initialised for.
///
/// # Safety
///
/// `ntasksp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_ntasks(ntasksp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(ntasksp, |w| w.abi().map_or(0, |a| a.ntasks as c_int)) }
}

/// The execution mode: always `PIP_MODE_PTHREAD`.
///
/// # Safety
///
/// `modep` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_mode(modep: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(modep, |_| PIP_MODE_PTHREAD as c_int) }
}

/// The execution mode's name, `"pthread"` (`PIP_ENV_MODE_PTHREAD`); `NULL` outside a PiP job.
#[no_mangle]
pub extern "C" fn pip_get_mode_str() -> *const c_char {
    match who() {
        Who::Nobody => std::ptr::null(),
        _ => c"pthread".as_ptr(),
    }
}

/// 1 in an initialised root and in a task, else 0.
#[no_mangle]
pub extern "C" fn pip_is_initialized() -> c_int {
    !matches!(who(), Who::Nobody) as c_int
}

/// 1 in the root (after `pip_init`), else 0.
#[no_mangle]
pub extern "C" fn pip_isa_root() -> c_int {
    matches!(who(), Who::Root(_)) as c_int
}

/// 1 in a task, else 0.
#[no_mangle]
pub extern "C" fn pip_isa_task() -> c_int {
    matches!(who(), Who::Task(..)) as c_int
}

/// 1: tasks are threads.
///
/// # Safety
///
/// `flagp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_is_threaded(flagp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(flagp, |_| 1) }
}

/// 1: tasks share the root's file descriptors.
///
/// # Safety
///
/// `flagp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_is_shared_fd(flagp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(flagp, |_| 1) }
}

/// The system id of task `pipid`: its `pthread_t`. Errors: `EPERM`, `EINVAL` (`idp` is `NULL`,
/// the root, `PIP_PIPID_ANY`), `ERANGE` (no such pipid), `ESRCH` (the task is not running).
///
/// # Safety
///
/// `idp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_system_id(pipid: c_int, idp: *mut usize) -> c_int {
    let w = who();
    if let Who::Nobody = w {
        return libc::EPERM;
    }
    // SAFETY: the caller passes null or a valid pointer.
    let Some(out) = (unsafe { idp.as_mut() }) else {
        return libc::EINVAL;
    };
    let target = match check_pipid(w, pipid) {
        Ok(t) if t < 0 => return libc::EINVAL,
        Ok(t) => t,
        Err(e) => return e,
    };
    if let Who::Task(_, me) = w {
        if me == target {
            // SAFETY: pthread_self has no preconditions.
            *out = unsafe { libc::pthread_self() } as usize;
            return 0;
        }
    }
    match whoami::task_thread(target) {
        Ok((_, thread)) => {
            *out = thread as usize;
            0
        }
        Err(e) => e,
    }
}
