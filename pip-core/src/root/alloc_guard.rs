//! Kills that wait for the allocator: a task is never ended while it holds a malloc lock.
//!
//! # The problem
//!
//! In `shared-libc` isolation every task allocates from the one glibc heap. glibc gives threads
//! their own arenas, but only up to 8 per CPU; beyond that, threads share arenas, and each
//! arena has a lock. A thread-mode task ended by [`Root::kill`](crate::Root::kill) (pip-core's
//! kill signal ends the task's thread on the spot) while it is inside `malloc` or `free` leaves
//! its arena locked for ever, and the next thread to use that arena (another task, or the
//! root itself) hangs.
//!
//! # The guard
//!
//! A root program that invokes [`guard_allocator!`](crate::guard_allocator) defines `malloc`,
//! `free`, `calloc`, `realloc`, `memalign`, `posix_memalign`, `aligned_alloc`, `valloc` and
//! `pvalloc` itself. The dynamic linker binds every caller in the process to the executable's
//! definitions, glibc's own internal calls included (glibc supports replacing malloc this
//! way); each one counts the calling thread into the allocator (a thread-local depth), calls
//! glibc's implementation (`__libc_malloc`, ...), and counts it out.
//!
//! pip-core's kill-signal handler (see [`crate::root::signals`]) looks at the depth first: inside the
//! allocator it only notes the kill and returns, so the allocator call finishes and releases
//! its lock; the thread then sends itself the kill signal again as it leaves the outermost
//! allocator call, and this time the handler ends the task. All of this is per thread and
//! touches only thread-local state, so it is async-signal-safe. Cost: a thread-local increment,
//! decrement and test per allocator call.
//!
//! # Limits
//!
//! * Only a root *executable* can carry the guard: the symbols must be the first `malloc` in
//!   the process's lookup order. `pip-exec` has it.
//! * A process-mode task is a process of its own, and `SIGKILL` cannot wait. So the root sends
//!   it pip-core's kill signal instead, to its main thread; the handler (kept in the child)
//!   waits for the allocator as above, then ends the child with `SIGKILL`. If the child blocks
//!   that signal or replaced its handler, the root sends `SIGKILL` itself, allocator or not.
//!   Threads that a task created are not covered.
//! * Other glibc locks (stdio's `FILE` locks, for one) are not covered: a task killed inside
//!   `printf` leaves that stream locked.
//! * `namespace` isolation does not need it: each task has its own libc and heap.
//!
//! # Counters
//!
//! `DEPTH` and `PENDING` are thread-locals (atomic only so that a signal handler on the same
//! thread may read them): Relaxed everywhere, since no other thread reads them. `SEEN` records
//! that the guard ran at all (Relaxed: a flag for tests and diagnostics, ordering nothing).

use std::sync::atomic::{compiler_fence, AtomicBool, AtomicU32, Ordering};

/// Set by a guarded `free(NULL)` (see [`is_active`]).
static SEEN: AtomicBool = AtomicBool::new(false);

// The depth and the pending kill are shared between a thread and its own signal handler, which
// may run between any two instructions of the thread. Atomics (Relaxed: one thread only, so no
// ordering with other threads is needed) keep each access whole and visible to the handler, and
// `compiler_fence(SeqCst)` keeps the compiler from moving the depth updates across the allocator
// call they bracket (a signal fence: it orders against the thread's own handler).
thread_local! {
    /// How deep the thread is in guarded allocator calls. Written only by the thread itself
    /// outside its signal handler.
    static DEPTH: AtomicU32 = const { AtomicU32::new(0) };
    /// A kill arrived while the thread was inside the allocator. Set only by the handler,
    /// cleared only by the thread once its depth is back to 0. (One word for both would lose
    /// a kill: the handler's write could fall between `leave`'s load and store.)
    static PENDING: AtomicBool = const { AtomicBool::new(false) };
}

/// Called by the kill-signal handler: if the calling thread is inside the allocator, notes the
/// kill for later and returns true (the handler must then return). Async-signal-safe.
pub(crate) fn defer_kill() -> bool {
    // SYNC(root::alloc_guard#counters): thread-local depth, Relaxed: no other thread reads it
    let busy = DEPTH.with(|d| d.load(Ordering::Relaxed)) > 0;
    if busy {
        // SYNC(root::alloc_guard#counters): thread-local pending flag, Relaxed: no other thread reads it
        PENDING.with(|p| p.store(true, Ordering::Relaxed));
    }
    busy
}

/// The calling thread enters the allocator.
#[doc(hidden)]
#[inline(always)]
pub fn enter() {
    // Only this thread writes DEPTH, so a load and a store (no read-modify-write) suffice; the
    // handler never sees a half-done update.
    // SYNC(root::alloc_guard#counters): thread-local depth, Relaxed: no other thread reads it
    DEPTH.with(|d| d.store(d.load(Ordering::Relaxed) + 1, Ordering::Relaxed));
    // The increment is done before the allocator call starts.
    compiler_fence(Ordering::SeqCst);
}

/// The calling thread leaves the allocator; a kill that waited for this is delivered now.
///
/// A kill that arrives after the depth is back to 0 finds the thread outside the allocator and
/// ends it at once; one that arrived before has set `PENDING`, which is read after.
#[doc(hidden)]
#[inline(always)]
pub fn leave() {
    // The allocator call is over before the decrement.
    compiler_fence(Ordering::SeqCst);
    let depth = DEPTH.with(|d| {
        // SYNC(root::alloc_guard#counters): thread-local depth, Relaxed: no other thread reads it
        let v = d.load(Ordering::Relaxed) - 1;
        // SYNC(root::alloc_guard#counters): thread-local depth, Relaxed: no other thread reads it
        d.store(v, Ordering::Relaxed);
        v
    });
    // PENDING is read after the decrement (see above).
    compiler_fence(Ordering::SeqCst);
    // SYNC(root::alloc_guard#counters): thread-local pending flag, Relaxed: no other thread reads it
    if depth == 0 && PENDING.with(|p| p.load(Ordering::Relaxed)) {
        deliver_pending_kill();
    }
}

/// Marks the guard as in use (a guarded `free(NULL)` calls it; see [`is_active`]).
#[doc(hidden)]
#[cold]
pub fn seen() {
    // SYNC(root::alloc_guard#counters): a diagnostic flag, ordering nothing
    SEEN.store(true, Ordering::Relaxed);
}

#[cold]
fn deliver_pending_kill() {
    // SYNC(root::alloc_guard#counters): thread-local pending flag, Relaxed: no other thread reads it
    PENDING.with(|p| p.store(false, Ordering::Relaxed));
    // The handler ends the task when this returns from the kernel (the signal is directed at
    // this thread, and it is not blocked: it was delivered once already).
    let _ = crate::sys::tgkill(crate::sys::gettid(), crate::root::signals::kill_signal());
}

/// glibc's own allocator entry points, which the guarded functions call.
#[doc(hidden)]
pub mod libc_alloc {
    use std::ffi::c_void;
    extern "C" {
        pub fn __libc_malloc(size: usize) -> *mut c_void;
        pub fn __libc_free(p: *mut c_void);
        pub fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
        pub fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
        pub fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
        pub fn __libc_valloc(size: usize) -> *mut c_void;
        pub fn __libc_pvalloc(size: usize) -> *mut c_void;
    }
}

/// `posix_memalign` on glibc's `memalign`, with its argument checks.
///
/// # Safety
///
/// `out` is valid for a pointer write.
#[doc(hidden)]
pub unsafe fn posix_memalign(out: *mut *mut std::ffi::c_void, align: usize, size: usize) -> i32 {
    if !align.is_power_of_two() || align % std::mem::size_of::<usize>() != 0 {
        return libc::EINVAL;
    }
    enter();
    // SAFETY: glibc's memalign with a valid power-of-two alignment.
    let p = unsafe { libc_alloc::__libc_memalign(align, size) };
    leave();
    if p.is_null() {
        return libc::ENOMEM;
    }
    // SAFETY: per the contract.
    unsafe { *out = p };
    0
}

/// Makes this root program's kills wait for the allocator (see [`alloc_guard`](self)): defines
/// the malloc family in the executable that invokes it, once, at the crate root of a binary.
///
/// ```ignore
/// // src/main.rs of a root program
/// pip_core::guard_allocator!();
/// ```
///
/// Do not invoke it in a task (a `cdylib`) or a library: only an executable's definitions come
/// first for every caller in the process.
#[macro_export]
macro_rules! guard_allocator {
    () => {
        const _: () = {
            use std::ffi::c_void;
            use $crate::alloc_guard::{enter, leave, libc_alloc as g};

            #[no_mangle]
            unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
                enter();
                // SAFETY: glibc's malloc, called as malloc is.
                let p = unsafe { g::__libc_malloc(size) };
                leave();
                p
            }
            #[no_mangle]
            unsafe extern "C" fn free(p: *mut c_void) {
                if p.is_null() {
                    // A no-op for the allocator; tells `alloc_guard::is_active` we are here.
                    $crate::alloc_guard::seen();
                    return;
                }
                enter();
                // SAFETY: glibc's free of a pointer from glibc's allocator.
                unsafe { g::__libc_free(p) };
                leave();
            }
            #[no_mangle]
            unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
                enter();
                // SAFETY: glibc's calloc.
                let p = unsafe { g::__libc_calloc(n, size) };
                leave();
                p
            }
            #[no_mangle]
            unsafe extern "C" fn realloc(old: *mut c_void, size: usize) -> *mut c_void {
                enter();
                // SAFETY: glibc's realloc of a pointer from glibc's allocator.
                let p = unsafe { g::__libc_realloc(old, size) };
                leave();
                p
            }
            #[no_mangle]
            unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
                enter();
                // SAFETY: glibc's memalign.
                let p = unsafe { g::__libc_memalign(align, size) };
                leave();
                p
            }
            #[no_mangle]
            unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
                enter();
                // SAFETY: glibc's aligned_alloc is its memalign.
                let p = unsafe { g::__libc_memalign(align, size) };
                leave();
                p
            }
            #[no_mangle]
            unsafe extern "C" fn posix_memalign(
                out: *mut *mut c_void,
                align: usize,
                size: usize,
            ) -> i32 {
                // SAFETY: the caller passes a valid out pointer.
                unsafe { $crate::alloc_guard::posix_memalign(out, align, size) }
            }
            #[no_mangle]
            unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
                enter();
                // SAFETY: glibc's valloc.
                let p = unsafe { g::__libc_valloc(size) };
                leave();
                p
            }
            #[no_mangle]
            unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
                enter();
                // SAFETY: glibc's pvalloc.
                let p = unsafe { g::__libc_pvalloc(size) };
                leave();
                p
            }
        };
    };
}

/// True if this process's allocator calls go through [`guard_allocator!`](crate::guard_allocator)
/// (the program invoked it, and its definitions are the ones in use).
///
/// The probe is a `free(NULL)` through the `free` that the dynamic linker hands to every library
/// (the first in the global lookup order), looked up at run time: the compiler cannot drop a
/// call it knows nothing about, as it drops a direct `free(NULL)`.
///
/// ```
/// // A doc test is not a guarded root.
/// assert!(!pip_core::alloc_guard::is_active());
/// ```
pub fn is_active() -> bool {
    // SAFETY: dlsym with RTLD_DEFAULT and a valid name.
    let free = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"free".as_ptr()) };
    if free.is_null() {
        return false;
    }
    // SAFETY: the symbol `free` is C's `void free(void *)`.
    let free: unsafe extern "C" fn(*mut std::ffi::c_void) = unsafe { std::mem::transmute(free) };
    // SAFETY: free(NULL) does nothing, whichever free it is.
    unsafe { free(std::ptr::null_mut()) };
    // SYNC(root::alloc_guard#counters): a diagnostic flag, ordering nothing
    SEEN.load(Ordering::Relaxed)
}
