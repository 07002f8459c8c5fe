//! The `exit` that a task calls, interposed so that it ends only that task.
//!
//! # Exit interposition
//!
//!
//! A task that calls `exit()` must end only itself. The root program exports this `exit`
//! (linked with `-Wl,--export-dynamic-symbol=exit`), so every task loaded into the main link
//! namespace calls it instead of libc's. In namespace isolation a Rust task's own copy of this
//! function comes first in its lookup scope. Either way: on a task's main thread the root ends
//! the task (`RootOps::task_exit` does not return); anywhere else we forward to the next `exit`
//! in lookup order (libc's).
//!
//! libc's `exit` is resolved once and cached in `REAL_EXIT` (Acquire load, Release store;
//! racing resolvers store the same value). The root's part (its exit handlers, the processes that share its memory) is not called from
//! here: the root registers it with [`set_exit_hook`] when it starts, so the task side does not
//! depend on the root's code.

use super::context;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

static REAL_EXIT: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// The root's part of `exit` (a `fn(c_int)`), set when a root starts in this image.
static EXIT_HOOK: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

/// Sets what the `exit` interposer runs before libc's `exit` (the root, at its start; the task
/// side does not depend on the root's code, the root registers itself).
pub(crate) fn set_exit_hook(hook: fn(c_int)) {
    // SYNC(task::interpose#exit-interposition): pairs with the acquire load in `exit_interposer`.
    EXIT_HOOK.store(hook as *mut (), Ordering::Release);
}

/// Interposes libc's `exit` so that a task's `exit()` ends only that task. Not for direct use.
///
/// # Safety
///
/// Same contract as C's `exit`.
#[export_name = "exit"]
pub unsafe extern "C-unwind" fn exit_interposer(code: c_int) -> ! {
    if let Ok((root, _)) = context() {
        // SAFETY: `root` is live; task_exit returns only when the caller is not a task's main
        // thread.
        unsafe { (root.ops.task_exit)(root, code) };
    }
    // What the root adds (its exit handlers, the processes that share its memory), if this
    // image runs a root; it does not return in a process that must not run libc's `exit`.
    // SYNC(task::interpose#exit-interposition): pairs with the release store in `set_exit_hook`.
    let hook = EXIT_HOOK.load(Ordering::Acquire);
    if !hook.is_null() {
        // SAFETY: only `set_exit_hook` stores here, and it stores a `fn(c_int)`.
        let hook: fn(c_int) = unsafe { std::mem::transmute::<*mut (), fn(c_int)>(hook) };
        hook(code);
    }
    // SYNC(task::interpose#exit-interposition): the cache of libc's `exit`; racing resolvers store the same value
    let mut real = REAL_EXIT.load(Ordering::Acquire);
    if real.is_null() {
        // SAFETY: RTLD_NEXT finds the next definition of `exit` after this object (libc's).
        real = unsafe { dlsym(libc::RTLD_NEXT, c"exit".as_ptr()) };
        // SYNC(task::interpose#exit-interposition): the cache of libc's `exit`; racing resolvers store the same value
        REAL_EXIT.store(real, Ordering::Release);
    }
    if real.is_null() {
        // SAFETY: _exit has no preconditions; nothing better is possible without libc's exit.
        unsafe { libc::_exit(code) }
    }
    // SAFETY: `real` is libc's `exit`, whose type is `void exit(int)`.
    let real: unsafe extern "C" fn(c_int) -> ! = unsafe { std::mem::transmute(real) };
    // SAFETY: forwarding the caller's own call.
    unsafe { real(code) }
}

/// The address of this image's `exit` interposer (to check that the root exports it).
pub(crate) fn interposer_address() -> *const c_void {
    exit_interposer as *const c_void
}
