//! Exit handlers of shared-libc tasks: `atexit`, `on_exit` and C++ static destructors
//! (`__cxa_atexit`) run when the task that registered them ends, on that task.
//!
//! In shared-libc isolation every task shares the root's libc, so without this a task's
//! handlers would join the process's one list and run at the root's `exit()`, in the root (in
//! process mode under the root's pid), long after the task ended. A private libc (namespace
//! isolation) has its own list and needs none of this.
//!
//! How: the root exports two interposers (`-Wl,--export-dynamic-symbol=__cxa_atexit` and
//! `=on_exit`, next to `exit`), which every task of the main link namespace binds to:
//!
//! * `__cxa_atexit(f, arg, dso)`: C's `atexit` is a static function in `libc_nonshared.a` that
//!   calls `__cxa_atexit(f, NULL, __dso_handle)`, and g++ registers a static object's
//!   destructor the same way; `__dso_handle` lies inside the image that registers. `dladdr`
//!   names that image; a task image is the loader's `/proc/self/fd/N` (its memfd, never closed,
//!   so never reused), and [`track`] lists those numbers before `dlopen` (constructors register
//!   from inside it). A handler of a tracked image goes to that image's list; anything else
//!   goes on to libc's `__cxa_atexit` (the root's own handlers, shared libraries').
//! * `on_exit(f, arg)` has no DSO handle: it is the calling task's (its main thread, or its
//!   process in process mode), or that of the task whose constructors are running (on the
//!   loading thread); anything else goes on to libc's `on_exit`.
//!
//! [`run`] runs one image's list when its task ends (return from the entry or `exit()`, both
//! modes), on the task's thread or process, newest first, each entry once: it is removed before
//! it is called, and a handler registered meanwhile runs next (as glibc does). `atexit`,
//! `on_exit` and C++ destructors share one list per image, so their order is the reverse of
//! registration across the three. The root's `exit()` never sees these lists; nor does a task
//! killed by a signal (a killed process runs no handlers either).
//!
//! Not covered (they go to libc's list, as before): handlers of other shared libraries the task
//! loads (one copy serves every task), and `on_exit` called on a thread the task created.
//!
//! # Tracking
//!
//! `TRACKED` counts the images whose handlers pip-core keeps (AcqRel increment when a
//! shared-libc image is loaded; Acquire loads by the interposers, which go straight to libc
//! while it is 0). While the root's thread runs an image's constructors it stores the image's key
//! and its own tid in `LOADING_KEY`/`LOADING_TID` (Release, cleared afterwards); an interposer
//! called on that thread loads them (Acquire) to file the handler under the image being loaded.
//! A task slot's `exit_key` is written before the task starts (see
//! [root's slot fields](super#slot-fields)). The next `__cxa_atexit`/`on_exit` in lookup order is
//! resolved once and cached (Acquire load, Release store; racing resolvers store the same
//! value).

use std::collections::BTreeMap;
use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;

/// `void f(void *arg, int status)`: what `__cxa_atexit` registers (glibc passes the status).
type CxaFn = unsafe extern "C-unwind" fn(*mut c_void, c_int);
/// `void f(int status, void *arg)`: what `on_exit` registers.
type OnExitFn = unsafe extern "C-unwind" fn(c_int, *mut c_void);

/// One registered handler.
#[derive(Clone, Copy)]
enum Handler {
    Cxa(CxaFn, *mut c_void),
    OnExit(OnExitFn, *mut c_void),
}

/// The handlers of each tracked task image, keyed by the image's memfd number.
struct Lists(BTreeMap<c_int, Vec<Handler>>);

// SAFETY: the raw pointers are opaque handler arguments, only handed back to the handler.
unsafe impl Send for Lists {}

static LISTS: Mutex<Lists> = Mutex::new(Lists(BTreeMap::new()));
/// How many images are tracked: while 0, the interposers go straight to libc.
static TRACKED: AtomicUsize = AtomicUsize::new(0);
/// The thread running a task's constructors (0: none), and that image's key.
static LOADING_TID: AtomicI32 = AtomicI32::new(0);
static LOADING_KEY: AtomicI32 = AtomicI32::new(-1);

fn lists() -> std::sync::MutexGuard<'static, Lists> {
    LISTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts keeping the exit handlers of the task image about to be loaded from
/// `/proc/self/fd/{fd}`. Called by the loader before `dlopen`, in shared-libc isolation.
pub(crate) fn track(fd: c_int) {
    lists().0.entry(fd).or_default();
    // SYNC(root::exit_handlers#tracking): images tracked: AcqRel increment at load, Acquire loads by the interposers
    TRACKED.fetch_add(1, Ordering::AcqRel);
}

/// Marks the calling thread as running the constructors of image `fd` (for `on_exit` calls
/// made there) until the guard is dropped.
pub(crate) fn loading(fd: c_int) -> LoadingGuard {
    // SYNC(root::exit_handlers#tracking): the image being loaded, set (Release) and read (Acquire) on the loading thread
    LOADING_KEY.store(fd, Ordering::Release);
    // SYNC(root::exit_handlers#tracking): the loading thread, set (Release) and compared (Acquire) by the interposers
    LOADING_TID.store(crate::sys::gettid(), Ordering::Release);
    LoadingGuard(())
}

/// Clears the record made by [`loading`].
pub(crate) struct LoadingGuard(());

impl Drop for LoadingGuard {
    fn drop(&mut self) {
        // SYNC(root::exit_handlers#tracking): the loading thread, set (Release) and compared (Acquire) by the interposers
        LOADING_TID.store(0, Ordering::Release);
        // SYNC(root::exit_handlers#tracking): the image being loaded, set (Release) and read (Acquire) on the loading thread
        LOADING_KEY.store(-1, Ordering::Release);
    }
}

/// Runs, newest first, the exit handlers registered for image `key` so far, with `status` (the
/// task's exit code), and forgets them. Call it on the ending task. Handlers may register
/// more (they run next) or call `exit()` (which ends the task from inside, running the rest).
pub(crate) fn run(key: c_int, status: c_int) {
    if key < 0 {
        return;
    }
    loop {
        // The lock is held only to take one entry: a handler may register or run handlers.
        let next = lists().0.get_mut(&key).and_then(|v| v.pop());
        match next {
            None => return,
            // SAFETY: each entry is a function registered with this signature and its
            // argument, called once, on the task that registered it, as libc's exit would.
            Some(Handler::Cxa(f, arg)) => unsafe { f(arg, status) },
            // SAFETY: as above.
            Some(Handler::OnExit(f, arg)) => unsafe { f(status, arg) },
        }
    }
}

/// Adds `h` to image `key`'s list; false if that image is not tracked.
fn push(key: c_int, h: Handler) -> bool {
    match lists().0.get_mut(&key) {
        Some(v) => {
            v.push(h);
            true
        }
        None => false,
    }
}

/// The tracked image that contains `addr`, if any.
fn image_of(addr: *mut c_void) -> Option<c_int> {
    // SYNC(root::exit_handlers#tracking): images tracked: AcqRel increment at load, Acquire loads by the interposers
    if addr.is_null() || TRACKED.load(Ordering::Acquire) == 0 {
        return None;
    }
    // SAFETY: dladdr only looks the address up and fills `info`; a zeroed Dl_info is valid.
    let name = unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        CStr::from_ptr(info.dli_fname)
    };
    let fd = name.to_bytes().strip_prefix(b"/proc/self/fd/")?;
    std::str::from_utf8(fd).ok()?.parse().ok()
}

/// The image whose task calls `on_exit` now: the calling task's, or the one whose
/// constructors run on this thread.
fn calling_image() -> Option<c_int> {
    // SYNC(root::exit_handlers#tracking): images tracked: AcqRel increment at load, Acquire loads by the interposers
    if TRACKED.load(Ordering::Acquire) == 0 {
        return None;
    }
    if let Some(slot) = super::current_task() {
        // SYNC(root::exit_handlers#tracking): written by the root before the task started
        let key = slot.exit_key.load(Ordering::Acquire);
        return (key >= 0).then_some(key);
    }
    // SYNC(root::exit_handlers#tracking): the loading thread, set (Release) and compared (Acquire) by the interposers
    if LOADING_TID.load(Ordering::Acquire) == crate::sys::gettid() {
        // SYNC(root::exit_handlers#tracking): the image being loaded, set (Release) and read (Acquire) on the loading thread
        let key = LOADING_KEY.load(Ordering::Acquire);
        return (key >= 0).then_some(key);
    }
    None
}

/// libc's definition of `name` (the next one after this image), looked up once into `cache`.
fn next_definition(cache: &AtomicPtr<c_void>, name: &CStr) -> *mut c_void {
    // SYNC(root::exit_handlers#tracking): the cache of the next function in lookup order; racing resolvers store the same value
    let mut f = cache.load(Ordering::Acquire);
    if f.is_null() {
        // SAFETY: RTLD_NEXT finds the next definition after this object: libc's (or, in a
        // task's private namespace, that namespace's libc).
        f = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
        // SYNC(root::exit_handlers#tracking): the cache of the next function in lookup order; racing resolvers store the same value
        cache.store(f, Ordering::Release);
    }
    f
}

/// Interposes libc's `__cxa_atexit`: a handler registered by a shared-libc task's image is kept
/// for that task's end (see the module docs); any other goes to libc. Not for direct use.
///
/// # Safety
///
/// Same contract as `__cxa_atexit`.
#[export_name = "__cxa_atexit"]
pub unsafe extern "C" fn cxa_atexit_interposer(
    f: CxaFn,
    arg: *mut c_void,
    dso: *mut c_void,
) -> c_int {
    if let Some(key) = image_of(dso) {
        if push(key, Handler::Cxa(f, arg)) {
            return 0;
        }
    }
    static REAL: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
    let real = next_definition(&REAL, c"__cxa_atexit");
    if real.is_null() {
        return -1;
    }
    // SAFETY: libc's `int __cxa_atexit(void (*)(void *), void *, void *)`.
    let real: unsafe extern "C" fn(CxaFn, *mut c_void, *mut c_void) -> c_int =
        unsafe { std::mem::transmute(real) };
    // SAFETY: forwarding the caller's own call.
    unsafe { real(f, arg, dso) }
}

/// Interposes libc's `on_exit`: called by a shared-libc task, the handler is kept for that
/// task's end (see the module docs); otherwise it goes to libc. Not for direct use.
///
/// # Safety
///
/// Same contract as `on_exit`.
#[export_name = "on_exit"]
pub unsafe extern "C" fn on_exit_interposer(f: OnExitFn, arg: *mut c_void) -> c_int {
    if let Some(key) = calling_image() {
        if push(key, Handler::OnExit(f, arg)) {
            return 0;
        }
    }
    static REAL: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
    let real = next_definition(&REAL, c"on_exit");
    if real.is_null() {
        return -1;
    }
    // SAFETY: libc's `int on_exit(void (*)(int, void *), void *)`.
    let real: unsafe extern "C" fn(OnExitFn, *mut c_void) -> c_int =
        unsafe { std::mem::transmute(real) };
    // SAFETY: forwarding the caller's own call.
    unsafe { real(f, arg) }
}
