//! Threads that tasks create: they belong to their task.
//!
//! pip-core knows only each task's *main* thread. So that `pip_get_pipid` and the other calls
//! give the task's identity on the threads a task starts (OpenMP workers, helper threads), as
//! PiP does, `libpip.so` defines `pthread_create`: when the caller belongs to a task, the new
//! thread starts in a trampoline that records the task's pipid in a thread-local of this library,
//! which [`crate::whoami::who`] reads when pip-core does not know the thread. Anything else
//! is passed straight to libc's `pthread_create`.
//!
//! This works where `libpip.so` comes before libc in the lookup order of the task's code: with a
//! root built by pipcc, and in `namespace` isolation (where each task's scope starts with its
//! program and its own `libpip.so`). Under pip-exec in `shared-libc` isolation, `libpip.so` is
//! only a library of the tasks, libc's `pthread_create` (in pip-exec's scope) is found first, and
//! threads a task creates answer as the root.
//!
//! # Cache
//!
//! The next `pthread_create` in lookup order is resolved once and cached (Acquire load, Release
//! store; racing resolvers store the same value).

use crate::whoami::{who, Who};
use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

type StartFn = extern "C" fn(*mut c_void) -> *mut c_void;
type CreateFn = unsafe extern "C" fn(
    *mut libc::pthread_t,
    *const libc::pthread_attr_t,
    StartFn,
    *mut c_void,
) -> c_int;

thread_local! {
    /// The pipid of the task that created this thread (directly or through other threads).
    static INHERITED: Cell<c_int> = const { Cell::new(-1) };
}

/// The task a thread created by a task belongs to.
pub(crate) fn inherited_pipid() -> Option<c_int> {
    let p = INHERITED.try_with(|c| c.get()).unwrap_or(-1);
    (p >= 0).then_some(p)
}

static REAL_CREATE: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

fn real_create() -> Option<CreateFn> {
    // SYNC(threads#cache): the cache of the next pthread_create; racing resolvers store the same value
    let mut f = REAL_CREATE.load(Ordering::Acquire);
    if f.is_null() {
        // SAFETY: RTLD_NEXT finds the next `pthread_create` after this library (libc's).
        f = unsafe { libc::dlsym(libc::RTLD_NEXT, c"pthread_create".as_ptr()) };
        // SYNC(threads#cache): the cache of the next pthread_create; racing resolvers store the same value
        REAL_CREATE.store(f, Ordering::Release);
    }
    // SAFETY: libc's pthread_create has this signature.
    (!f.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, CreateFn>(f) })
}

/// What the trampoline needs.
struct Start {
    start: StartFn,
    arg: *mut c_void,
    pipid: c_int,
}

/// The start routine of threads created by tasks. `C-unwind`: `pthread_exit` in the thread
/// unwinds through this frame.
extern "C-unwind" fn trampoline(p: *mut c_void) -> *mut c_void {
    // SAFETY: `p` is the Box<Start> leaked by pthread_create below, for this thread alone.
    let s = unsafe { Box::from_raw(p as *mut Start) };
    let (start, arg) = (s.start, s.arg);
    INHERITED.with(|c| c.set(s.pipid));
    drop(s);
    // SAFETY: the same function; called as `C-unwind` because `pthread_exit` in the thread
    // unwinds through it.
    let start: extern "C-unwind" fn(*mut c_void) -> *mut c_void =
        unsafe { std::mem::transmute::<StartFn, _>(start) };
    start(arg)
}

/// `pthread_create`, which records the creating task in the new thread (see the module docs).
///
/// # Safety
///
/// As libc's `pthread_create`.
#[no_mangle]
pub unsafe extern "C" fn pthread_create(
    thread: *mut libc::pthread_t,
    attr: *const libc::pthread_attr_t,
    start: StartFn,
    arg: *mut c_void,
) -> c_int {
    let Some(real) = real_create() else {
        return libc::EAGAIN;
    };
    let pipid = match inherited_pipid() {
        Some(p) => Some(p),
        None => match who() {
            Who::Task(_, p) => Some(p),
            _ => None,
        },
    };
    let Some(pipid) = pipid else {
        // SAFETY: forwarded unchanged.
        return unsafe { real(thread, attr, start, arg) };
    };
    let boxed = Box::into_raw(Box::new(Start { start, arg, pipid }));
    // SAFETY: the trampoline has the start routine's C signature (it only adds unwinding).
    let tramp: StartFn = unsafe {
        std::mem::transmute::<extern "C-unwind" fn(*mut c_void) -> *mut c_void, StartFn>(trampoline)
    };
    // SAFETY: the caller's arguments, with our start routine and its argument.
    let rc = unsafe { real(thread, attr, tramp, boxed.cast()) };
    if rc != 0 {
        // SAFETY: the thread was not created, so the box is still ours.
        drop(unsafe { Box::from_raw(boxed) });
    }
    rc
}
