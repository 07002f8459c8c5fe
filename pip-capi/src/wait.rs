//! The root's waits (`pip_wait`, `pip_trywait`, `pip_wait_any`, `pip_trywait_any`) and its
//! kills of every task (`pip_kill_all_tasks`, `pip_kill_all_child_tasks`), on the job that
//! [`crate::job`] keeps.

use crate::consts::*;
use crate::job::job;
use crate::whoami::{self, check_pipid, who, Who};
use pip_core::ExitStatus;
use std::ffi::c_int;

/// Checks a pipid given to a wait: `EDEADLK` for the root (or the caller, the root), `EINVAL`
/// for a negative pipid that is not one of PiP's special ids (PiP v2.0's answer; the other
/// calls say `ERANGE` for it), `ERANGE` for one past the tasks.
fn wait_target(pipid: c_int) -> Result<usize, c_int> {
    let w = who();
    match w {
        Who::Nobody | Who::Task(..) => return Err(libc::EPERM),
        Who::Root(_) => {}
    }
    if pipid < 0 && pipid != PIP_PIPID_ROOT && pipid != PIP_PIPID_MYSELF {
        return Err(libc::EINVAL);
    }
    match check_pipid(w, pipid)? {
        p if p < 0 => Err(libc::EDEADLK),
        p => Ok(p as usize),
    }
}

/// # Safety
/// `status` is null or valid.
unsafe fn put_status(status: *mut c_int, st: ExitStatus) {
    // SAFETY: guaranteed by the caller.
    if let Some(s) = unsafe { status.as_mut() } {
        *s = st.wait_status();
    }
}

/// Waits for task `pipid` to end; `*status` gets a `wait(2)`-style status (`WIFEXITED`,
/// `WEXITSTATUS`, `WIFSIGNALED`, `WTERMSIG`). Errors: `EPERM` (not the root), `EDEADLK` (the
/// root), `ERANGE`/`EINVAL` (bad pipid), `ECHILD` (never spawned, or already waited for).
///
/// # Safety
///
/// `status` is null or valid.
#[no_mangle]
pub unsafe extern "C" fn pip_wait(pipid: c_int, status: *mut c_int) -> c_int {
    let p = match wait_target(pipid) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut job = job();
    let Some(root) = job.as_mut() else {
        return libc::EPERM;
    };
    match root.wait(p) {
        // SAFETY: the caller passes null or a valid pointer.
        Ok(st) => unsafe {
            put_status(status, st);
            0
        },
        Err(e) => e.errno(),
    }
}

/// Like [`pip_wait`] but does not block: `ECHILD` while the task is still running.
///
/// # Safety
///
/// `status` is null or valid.
#[no_mangle]
pub unsafe extern "C" fn pip_trywait(pipid: c_int, status: *mut c_int) -> c_int {
    let p = match wait_target(pipid) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut job = job();
    let Some(root) = job.as_mut() else {
        return libc::EPERM;
    };
    match root.try_wait(p) {
        // SAFETY: the caller passes null or a valid pointer.
        Ok(Some(st)) => unsafe {
            put_status(status, st);
            0
        },
        Ok(None) => libc::ECHILD,
        Err(e) => e.errno(),
    }
}

/// # Safety
/// `pipid` and `status` are null or valid.
unsafe fn any(pipid: *mut c_int, status: *mut c_int, block: bool) -> c_int {
    if !matches!(who(), Who::Root(_)) {
        return libc::EPERM;
    }
    let mut job = job();
    let Some(root) = job.as_mut() else {
        return libc::EPERM;
    };
    let r = if block {
        root.wait_any().map(Some)
    } else {
        root.try_wait_any()
    };
    match r {
        Ok(Some((p, st))) => {
            // SAFETY: the caller passes null or valid pointers.
            unsafe {
                if let Some(out) = pipid.as_mut() {
                    *out = p as c_int;
                }
                put_status(status, st);
            }
            0
        }
        Ok(None) => libc::ECHILD,
        Err(e) => e.errno(),
    }
}

/// Waits for any task to end: its pipid and status. `ECHILD` when no task is left to wait for.
///
/// # Safety
///
/// `pipid` and `status` are null or valid.
#[no_mangle]
pub unsafe extern "C" fn pip_wait_any(pipid: *mut c_int, status: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { any(pipid, status, true) }
}

/// Like [`pip_wait_any`] but does not block: `ECHILD` when no task has ended yet (or none is
/// left).
///
/// # Safety
///
/// `pipid` and `status` are null or valid.
#[no_mangle]
pub unsafe extern "C" fn pip_trywait_any(pipid: *mut c_int, status: *mut c_int) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { any(pipid, status, false) }
}

/// Kills every running task (they are reported as killed by `SIGKILL`). `EPERM` unless called
/// by the root.
#[no_mangle]
pub extern "C" fn pip_kill_all_tasks() -> c_int {
    let Who::Root(abi) = who() else {
        return libc::EPERM;
    };
    for p in 0..abi.ntasks as c_int {
        whoami::task_kill(p, libc::SIGKILL);
    }
    0
}

/// PiP v2.4.1's name of [`pip_kill_all_tasks`].
#[no_mangle]
pub extern "C" fn pip_kill_all_child_tasks() -> c_int {
    pip_kill_all_tasks()
}
