//! Questions: who am I, how many tasks, which mode. They work in a task without `pip_init` (the
//! task is initialised before its `main` runs, as with PiP) and give `EPERM` outside a PiP job.

use crate::whoami::{self, check_pipid, who, Who};
use std::ffi::{c_char, c_int};

/// Writes `value` to `*out`: `EPERM` outside a PiP job; a `NULL` `out` is `EINVAL`, or (with
/// `null_ok`) 0, as PiP answers for `pip_get_pipid`, `pip_get_ntasks` and `pip_get_mode`.
///
/// # Safety
/// `out` is null or valid for a write.
unsafe fn answer(out: *mut c_int, null_ok: bool, value: impl FnOnce(Who) -> c_int) -> c_int {
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
        None if null_ok => 0,
        None => libc::EINVAL,
    }
}

/// The caller's pipid: `PIP_PIPID_ROOT` in the root. A `NULL` `pipidp` is not an error (0).
///
/// # Safety
///
/// `pipidp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_pipid(pipidp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(pipidp, true, |w| whoami::c_pipid(w.core_id().unwrap_or(0))) }
}

/// The number of tasks the root was initialised for. A `NULL` `ntasksp` is not an error.
///
/// # Safety
///
/// `ntasksp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_ntasks(ntasksp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(ntasksp, true, |w| w.abi().map_or(0, |a| a.ntasks as c_int)) }
}

/// The execution mode: `PIP_MODE_PTHREAD` or `PIP_MODE_PROCESS` (which `pip_init` accepts
/// back in its `opts`). A `NULL` `modep` is not an error.
///
/// # Safety
///
/// `modep` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_get_mode(modep: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe {
        answer(modep, true, |w| {
            w.abi().map_or(0, |a| whoami::mode_bits(a) as c_int)
        })
    }
}

/// The execution mode's name, `"pthread"` (`PIP_ENV_MODE_PTHREAD`) or `"process"`
/// (`PIP_ENV_MODE_PROCESS`); `NULL` outside a PiP job.
#[no_mangle]
pub extern "C" fn pip_get_mode_str() -> *const c_char {
    let w = who();
    match w.abi() {
        None => std::ptr::null(),
        Some(_) if whoami::is_process_mode(w) => c"process".as_ptr(),
        Some(_) => c"pthread".as_ptr(),
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

/// 1 if tasks are threads (the pthread mode), 0 in the process mode.
///
/// # Safety
///
/// `flagp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_is_threaded(flagp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(flagp, false, |w| !whoami::is_process_mode(w) as c_int) }
}

/// 1 if tasks share the root's file descriptors (the pthread mode), 0 in the process mode.
///
/// # Safety
///
/// `flagp` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_is_shared_fd(flagp: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { answer(flagp, false, |w| !whoami::is_process_mode(w) as c_int) }
}

/// The system id of task `pipid`: its `pthread_t` in the pthread mode, its process id in the
/// process mode. Errors: `EPERM`, `EINVAL` (`idp` is `NULL`,
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
    let process = whoami::is_process_mode(w);
    if let Who::Task(_, me) = w {
        if me == target {
            *out = if process {
                crate::info::pip_gettid() as usize
            } else {
                // SAFETY: pthread_self has no preconditions.
                unsafe { libc::pthread_self() as usize }
            };
            return 0;
        }
    }
    match whoami::task_thread(target) {
        Ok((tid, thread)) => {
            *out = if process {
                tid as usize
            } else {
                thread as usize
            };
            0
        }
        Err(e) => e,
    }
}
