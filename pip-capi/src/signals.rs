//! Ending and signalling: `pip_exit`, `pip_kill`, `pip_abort`, `pip_sigmask`,
//! `pip_signal_wait`.
//!
//! In the pthread mode tasks are threads: signals go to one thread with `tgkill`, masks are per
//! thread, and a signal whose default action would end the process ends only the task it was
//! sent to (pip-core's handler). In the process mode a task is a process: signals go to it with
//! `kill`. Either way `pip_wait` reports a task that a signal ended with
//! `WIFSIGNALED`/`WTERMSIG`.

use crate::whoami::{self, check_pipid, who, Who};
use pip_core::abi::PIPID_ROOT;
use std::ffi::{c_int, c_void};

extern "C" {
    fn pthread_exit(retval: *mut c_void) -> !;
}

/// Ends the caller as returning `status` from `main` would: in a task, only that task (its
/// after hook runs and its output is flushed); in the root (or outside a PiP job), the process,
/// as `exit` does. On a thread a task created, ends that thread.
#[no_mangle]
pub extern "C-unwind" fn pip_exit(status: c_int) -> ! {
    if let Who::Task(abi, _) = who() {
        // SAFETY: a live root's op; it does not return on a task's main thread.
        unsafe { (abi.ops.task_exit)(abi, status) };
        // SAFETY: a thread that is not the task's main thread ends alone.
        unsafe { pthread_exit(std::ptr::null_mut()) }
    }
    // SAFETY: exit (pip-core's interposer, or libc's) has no preconditions.
    unsafe { libc::exit(status) }
}

/// Sends `signal` to `pipid` (a task, `PIP_PIPID_ROOT`, or `PIP_PIPID_MYSELF`). `SIGKILL` to a
/// task ends only that task. Errors: `EPERM` (outside a PiP job), `EINVAL` (not a signal
/// number, `PIP_PIPID_ANY`), `ERANGE` (no such pipid), `ESRCH` (the task is not running).
#[no_mangle]
pub extern "C" fn pip_kill(pipid: c_int, signal: c_int) -> c_int {
    let w = who();
    let target = match check_pipid(w, pipid) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if !(0..=64).contains(&signal) {
        return libc::EINVAL;
    }
    if target == PIPID_ROOT {
        let (pid, tid) = whoami::root_ids(w);
        // SAFETY: tgkill is a plain system call; a wrong tid gives ESRCH.
        let rc = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, signal) };
        return if rc == 0 {
            0
        } else {
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::ESRCH)
        };
    }
    whoami::task_kill(target, signal)
}

/// Ends the whole job at once: every task and the root, which dies of `SIGABRT`.
///
/// In the pthread mode the tasks are threads of the root's process, so `SIGABRT` with its
/// default action ends them all. In the process mode the tasks are processes of their own: the
/// caller kills every task first, then sends `SIGABRT` to the root, then aborts itself.
#[no_mangle]
pub extern "C" fn pip_abort() -> ! {
    let w = who();
    if let Some(abi) = w.abi() {
        let me = w.core_id().unwrap_or(PIPID_ROOT);
        for p in (0..abi.ntasks as c_int).filter(|&p| p != me) {
            whoami::task_kill(p, libc::SIGKILL);
        }
        if me != PIPID_ROOT && whoami::is_process_mode(w) {
            let (pid, _) = whoami::root_ids(w);
            // SAFETY: a plain kill(2) of the root's process.
            unsafe { libc::kill(pid, libc::SIGABRT) };
        }
    }
    // SAFETY: resetting SIGABRT to its default action and unblocking it makes the raise below
    // end the calling process (with every task, in the pthread mode) rather than only the
    // calling task.
    unsafe {
        libc::signal(libc::SIGABRT, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGABRT);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::kill(libc::getpid(), libc::SIGABRT);
        libc::raise(libc::SIGABRT);
        libc::abort()
    }
}

/// Changes the caller's signal mask (`pthread_sigmask`: the calling thread's, which in a
/// process-mode task is its process's); returns 0 or an errno value.
///
/// # Safety
///
/// `set` and `oldset` are null or valid.
#[no_mangle]
pub unsafe extern "C" fn pip_sigmask(
    how: c_int,
    set: *const libc::sigset_t,
    oldset: *mut libc::sigset_t,
) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { libc::pthread_sigmask(how, set, oldset) }
}

/// Waits for `signal` (which the caller must have blocked, e.g. with [`pip_sigmask`]) with
/// `sigwait`; returns 0 or an errno value.
#[no_mangle]
pub extern "C" fn pip_signal_wait(signal: c_int) -> c_int {
    // SAFETY: a zeroed sigset_t is valid for sigemptyset; sigwait writes `got`.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        if libc::sigaddset(&mut set, signal) != 0 {
            return libc::EINVAL;
        }
        let mut got = 0;
        libc::sigwait(&set, &mut got)
    }
}
