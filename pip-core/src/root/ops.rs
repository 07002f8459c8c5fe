//! [`RootOps`](crate::abi::RootOps): the functions tasks call into the root (exports, exit, panic, aux). Each takes
//! the [`RootAbi`] it was found in and returns 0 or an `errno` value.

use super::state::*;
use super::thread::{after_and_flush, TaskStart};
use super::*;
use crate::waits::{publish_in, WaitInfo, WaitKind};

pub(super) fn state_of(abi: *const RootAbi) -> &'static RootState {
    // SAFETY: `abi` is the first field of a leaked, #[repr(C)] RootState.
    unsafe { &*(abi as *const RootState) }
}

extern "C" {
    #[link_name = "pthread_exit"]
    fn pthread_exit_unwinding(retval: *mut c_void) -> !;
}

pub(super) unsafe extern "C-unwind" fn op_task_exit(_abi: *const RootAbi, code: c_int) -> c_int {
    let Some(slot) = current_task() else {
        return libc::ESRCH;
    };
    // SYNC(root#slot-fields): written by the task thread before the entry, read on the same task's thread
    let rust_exit = slot.rust_exit.load(Ordering::Acquire);
    if rust_exit != 0 {
        // A Rust task unwinds its own stack up to its entry (which catches the unwind and
        // returns): a forced unwind would be caught, and refused, by the entry's catch_unwind.
        // SAFETY: `rust_exit` is the task's `pip_rs_task_exit` (ABI checked at load).
        let f: crate::root::loader::ExitFn = unsafe { std::mem::transmute(rust_exit) };
        // SAFETY: called on the task's own thread, inside its entry.
        unsafe { f(code) };
    }
    // A C task's `exit()`: its exit handlers run now, on the task, with its stack still there
    // (as libc's exit runs them). A Rust task's run once its entry returns (above).
    // SYNC(root#slot-fields): written by the root before the task starts (thread creation orders it)
    super::exit_handlers::run(slot.exit_key.load(Ordering::Acquire), code);
    // SYNC(root#slot-fields): written by the process-mode child before its entry (Release), read on its own thread
    let child_start = slot.process_start.load(Ordering::Acquire);
    if !child_start.is_null() {
        // Process mode, in the task's child process: run the after hook, flush, and end the
        // process (never pthread_exit: the thread control block is the host thread's).
        // SAFETY: process_start is the child's live TaskStart, set by `child_main`.
        let code = after_and_flush(unsafe { &mut *(child_start as *mut TaskStart) }, code);
        // SAFETY: ends only the task's process (its own thread group).
        unsafe { libc::_exit(code) }
    }
    slot.record(ExitStatus::Exited(code));
    // SAFETY: we are on the task's thread, created by pthread_create with an unwinding-capable
    // start routine; the forced unwind runs the task's cleanups and our `Finish` guard.
    unsafe { pthread_exit_unwinding(std::ptr::null_mut()) }
}

/// The root's part of `exit` (registered with the task side's `exit` interposer at
/// [`Root::init`](crate::Root::init)), for a call that is not a task's main thread ending.
pub(crate) fn before_libc_exit(code: c_int) {
    if super::signals::shares_the_roots_memory() {
        // Another thread of a process-mode task: its process ends, but libc's `exit` would run
        // the root's exit handlers and destructors on memory the root still uses. Flush stdio
        // (as `exit` would) and end just this process.
        // SAFETY: fflush(NULL) flushes every stream; _exit has no preconditions.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            libc::_exit(code)
        }
    }
    // A process a task forked: the task's exit handlers (kept by pip-core, not libc) run first.
    run_exit_handlers_if_forked_from_task(code);
}

/// In a process that a task forked, before libc's `exit` runs: runs the task's exit handlers
/// (the forked copy's), as a forked copy of an ordinary program runs the program's.
fn run_exit_handlers_if_forked_from_task(code: c_int) {
    if let Some(slot) = forked_from_task() {
        // SYNC(root#slot-fields): written by the root before the task starts (thread creation orders it)
        super::exit_handlers::run(slot.exit_key.load(Ordering::Acquire), code);
    }
}

pub(super) unsafe extern "C" fn op_task_panicked(abi: *const RootAbi, pipid: c_int) {
    if let Some(slot) = state_of(abi).slot(pipid) {
        slot.record(ExitStatus::Panicked);
    }
}

pub(super) unsafe extern "C" fn op_export(
    abi: *const RootAbi,
    pipid: c_int,
    addr: *mut c_void,
) -> c_int {
    let root = state_of(abi);
    if addr.is_null() {
        return libc::EINVAL;
    }
    if pipid == PIPID_ROOT {
        // SYNC(root#events-and-exports): the root export: Release store, Acquire load by importers
        root.abi.root_export.store(addr, Ordering::Release);
        return 0;
    }
    match root.slot(pipid) {
        Some(s) => {
            // SYNC(root#events-and-exports): a task's export: Release store publishes the pointed-to data to the Acquire load of importers
            s.export.store(addr, Ordering::Release);
            0
        }
        None => libc::ERANGE,
    }
}

pub(super) unsafe extern "C" fn op_import(
    abi: *const RootAbi,
    pipid: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let root = state_of(abi);
    let v = if pipid == PIPID_ROOT {
        // SYNC(root#events-and-exports): the root export: Release store, Acquire load by importers
        root.abi.root_export.load(Ordering::Acquire)
    } else {
        match root.slot(pipid) {
            // SYNC(root#events-and-exports): a task's export: Release store publishes the pointed-to data to the Acquire load of importers
            Some(s) => s.export.load(Ordering::Acquire),
            None => return libc::ERANGE,
        }
    };
    // SAFETY: the caller passes a valid out pointer.
    unsafe { *out = v };
    0
}

/// # Safety
/// `name` must be valid for `len` bytes.
unsafe fn name_of(name: *const u8, len: usize) -> String {
    // SAFETY: guaranteed by the caller.
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(name, len) }).into_owned()
}

pub(super) unsafe extern "C" fn op_named_export(
    abi: *const RootAbi,
    me: c_int,
    name: *const u8,
    len: usize,
    addr: *mut c_void,
) -> c_int {
    let root = state_of(abi);
    if addr.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: the caller passes a valid name.
    let key = (me, unsafe { name_of(name, len) });
    {
        let mut map = root.named.lock().unwrap_or_else(|e| e.into_inner());
        if map.contains_key(&key) {
            return libc::EBUSY;
        }
        map.insert(key, addr as usize);
    }
    // SYNC(root#events-and-exports): bumped (SeqCst) by every export; importers read it before their look-up and sleep only while it is unchanged
    root.exports_seq.fetch_add(1, Ordering::SeqCst);
    futex_wake(&root.exports_seq, i32::MAX);
    0
}

pub(super) unsafe extern "C" fn op_named_import(
    abi: *const RootAbi,
    me: c_int,
    from: c_int,
    name: *const u8,
    len: usize,
    block: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let root = state_of(abi);
    if from != PIPID_ROOT && root.slot(from).is_none() {
        return libc::ERANGE;
    }
    // SAFETY: the caller passes a valid name.
    let key = (from, unsafe { name_of(name, len) });
    // The wait, once it blocks, is published on the wait board (cleared on return).
    let mut published = None;
    loop {
        // SYNC(root#events-and-exports): bumped (SeqCst) by every export; importers read it before their look-up and sleep only while it is unchanged
        let seq = root.exports_seq.load(Ordering::SeqCst);
        if let Some(&addr) = root
            .named
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            // SAFETY: the caller passes a valid out pointer.
            unsafe { *out = addr as *mut c_void };
            return 0;
        }
        if from == me {
            return libc::EDEADLK;
        }
        if let Some(slot) = root.slot(from) {
            // SYNC(root#slot-fields): Acquire pairs with the task thread's Release store of the slot state
            let st = slot.state.load(Ordering::Acquire);
            if st >= FINISHED {
                return libc::ECANCELED;
            }
        }
        if block == 0 {
            return libc::EAGAIN;
        }
        if published.is_none() {
            let mut w = WaitInfo::new(WaitKind::Import);
            w.peer = if from == PIPID_ROOT {
                crate::waits::ROOT
            } else {
                from
            };
            w.name = key.1.clone();
            let index = if me == PIPID_ROOT {
                root.tasks.len()
            } else {
                me as usize
            };
            // SAFETY: the board, if any, is the root's and is never unmapped.
            published =
                // SYNC(root#slot-fields): set at init, before any task; Acquire pairs with its initialisation
                Some(unsafe { publish_in(root.abi.wait_board.load(Ordering::Acquire), index, &w) });
        }
        futex_wait(&root.exports_seq, seq);
    }
}

pub(super) unsafe extern "C" fn op_aux(
    abi: *const RootAbi,
    pipid: c_int,
    set: c_int,
    value: *mut *mut c_void,
) -> c_int {
    let Some(slot) = state_of(abi).slot(pipid) else {
        return libc::ERANGE;
    };
    // SAFETY: the caller passes a valid in/out pointer.
    unsafe {
        if set != 0 {
            // SYNC(root#slot-fields): the aux pointer: Release store, Acquire load
            slot.aux.store(*value, Ordering::Release);
        } else {
            // SYNC(root#slot-fields): the aux pointer: Release store, Acquire load
            *value = slot.aux.load(Ordering::Acquire);
        }
    }
    0
}
