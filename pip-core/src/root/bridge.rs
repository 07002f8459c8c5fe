//! The C bridge: three exported functions through which code in *another copy* of pip-core
//! reaches the live root of this copy.
//!
//! A C API layer such as pip-capi's `libpip.so` is a shared library that contains its own copy of
//! pip-core. When the root is a different program (pip-exec, or any Rust root), or when the task
//! runs in its own link namespace (with its own copy of `libpip.so`), that copy's statics know
//! nothing of the root. The root's copy does: which task runs on the calling thread (a
//! thread-local that the root sets on every task's main thread), the root's [`RootAbi`], and the
//! tasks' threads. These functions hand that out. A C API layer finds them with
//! `dlsym(dlmopen(LM_ID_BASE, NULL, RTLD_LAZY), name)`, which searches the main program and its
//! libraries; so a Rust root that wants to run such tasks exports them
//! (`-Wl,--export-dynamic-symbol=pip_rs_current_task`, and the same for the two others), as it
//! exports `exit`.
//!
//! Every function returns 0 or an `errno` value, as PiP's C API does, and never blocks.
//!
//! # Reading the live root
//!
//! The bridge loads `LIVE_ROOT` (Acquire, see the live root in the root module) and a slot's
//! `state` (Acquire) before its `tid` and thread handle, which the task thread wrote before
//! publishing `RUNNING` (see slot fields in the root module).

use super::*;

/// What [`pip_rs_current_task`] returns when no root is live in this copy of pip-core.
pub const NO_ROOT: c_int = c_int::MIN;

/// Who is calling: the pipid of the task whose main thread this is, [`PIPID_ROOT`] on any other
/// thread of a process with a live root, or [`NO_ROOT`] when this copy of pip-core has no live
/// root. Writes the live root's ABI block to `*abi` (null with [`NO_ROOT`]), unless `abi` is
/// null.
///
/// # Safety
///
/// `abi` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_rs_current_task(abi: *mut *const RootAbi) -> c_int {
    // SAFETY: RootStates are leaked, so a published pointer stays valid.
    // SYNC(root#the-live-root): Acquire pairs with the compare-exchange of Root::init
    let live = unsafe { LIVE_ROOT.load(Ordering::Acquire).as_ref() };
    let (block, pipid) = match (current_task(), live) {
        (Some(slot), _) => {
            // SAFETY: a slot's `root` points to its leaked RootState.
            let root = unsafe { &*slot.root };
            (&root.abi as *const RootAbi, slot.pipid as c_int)
        }
        (None, Some(root)) => (&root.abi as *const RootAbi, PIPID_ROOT),
        (None, None) => (std::ptr::null(), NO_ROOT),
    };
    // SAFETY: the caller passes null or a valid pointer.
    if let Some(out) = unsafe { abi.as_mut() } {
        *out = block;
    }
    pipid
}

/// The kernel thread id and the `pthread_t` of task `pipid` while it runs (started and not yet
/// ended). Returns 0, `EPERM` (no live root), `ERANGE` (no such pipid) or `ESRCH` (the task is
/// not running). Either output pointer may be null.
///
/// # Safety
///
/// `tid` and `thread` are null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn pip_rs_task_thread(
    pipid: c_int,
    tid: *mut c_int,
    thread: *mut libc::pthread_t,
) -> c_int {
    // SAFETY: RootStates are leaked, so a published pointer stays valid.
    // SYNC(root#the-live-root): Acquire pairs with the compare-exchange of Root::init
    let Some(root) = (unsafe { LIVE_ROOT.load(Ordering::Acquire).as_ref() }) else {
        return libc::EPERM;
    };
    let Some(slot) = root.slot(pipid) else {
        return libc::ERANGE;
    };
    // SYNC(root::bridge#reading-the-live-root): Acquire pairs with the task thread's Release store of RUNNING
    if slot.state.load(Ordering::Acquire) != RUNNING {
        return libc::ESRCH;
    }
    // SAFETY: the caller passes null or valid pointers.
    unsafe {
        if let Some(t) = tid.as_mut() {
            // SYNC(root::bridge#reading-the-live-root): written before RUNNING, read after it
            *t = slot.tid.load(Ordering::Acquire);
        }
        if let Some(t) = thread.as_mut() {
            // SYNC(root::bridge#reading-the-live-root): written before the task can end, read after RUNNING
            *t = slot.thread.load(Ordering::Acquire) as libc::pthread_t;
        }
    }
    0
}

/// Sends `signal` to task `pipid` alone, as [`Root::kill`] does (in thread mode `SIGKILL`
/// becomes [`kill_signal`](crate::root::signals::kill_signal)). Returns 0, `EPERM` (no live root), `ERANGE`
/// (no such pipid), `EINVAL` (not a signal number) or `ESRCH` (the task is not running).
#[no_mangle]
pub extern "C" fn pip_rs_task_kill(pipid: c_int, signal: c_int) -> c_int {
    if !(0..=64).contains(&signal) {
        return libc::EINVAL;
    }
    // SAFETY: RootStates are leaked, so a published pointer stays valid.
    // SYNC(root#the-live-root): Acquire pairs with the compare-exchange of Root::init
    let Some(root) = (unsafe { LIVE_ROOT.load(Ordering::Acquire).as_ref() }) else {
        return libc::EPERM;
    };
    let Some(slot) = root.slot(pipid) else {
        return libc::ERANGE;
    };
    // SYNC(root::bridge#reading-the-live-root): Acquire pairs with the task thread's Release store of RUNNING
    if slot.state.load(Ordering::Acquire) != RUNNING {
        return libc::ESRCH;
    }
    match root.signal_task(slot, signal) {
        Ok(()) => 0,
        Err(e) => e.raw_os_error().unwrap_or(libc::ESRCH),
    }
}
