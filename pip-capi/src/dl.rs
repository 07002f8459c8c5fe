//! PiP's loader lock and the locked `dl*` calls: `pip_glibc_lock`/`pip_glibc_unlock` (and
//! v2.4's names `pip_libc_lock`/`pip_libc_unlock`), `pip_universal_lock`/`pip_universal_unlock`,
//! and `pip_dlopen`, `pip_dlmopen`, `pip_dlsym`, `pip_dlinfo`, `pip_dladdr`, `pip_dlclose`,
//! `pip_dlerror`: each the `dl*` call of the same name made while holding the loader lock.
//!
//! The loader lock is **one lock for the whole job**: the root and every task take the same one,
//! whichever copy of `libpip.so` they call (in `namespace` isolation every task has its own
//! copy). It lives in leaked memory and is published once per job as a named export of the root
//! under a reserved name (one that starts with a NUL byte, so no C program can form it); the
//! first caller creates and publishes it, and everyone after imports it. Outside a PiP job each
//! copy of the library uses a lock of its own.
//!
//! The lock is recursive, keyed by the kernel thread id (unique across the threads of the root
//! and of process-mode tasks), as PiP v2.4's is: a thread that holds it may call `pip_dlopen`.
//! It sleeps on a futex when taken, so it costs nothing while held for long.
//!
//! # Lock protocol
//!
//! `state` is 0 (free), 1 (taken) or 2 (taken, and someone may sleep). Taking: compare-exchange
//! 0 -> 1 (Acquire); on failure, swap in 2 (Acquire) and sleep on `state` while it is 2, until
//! the swap returns 0. Releasing: swap in 0 (Release: publishes what the holder did) and wake a
//! sleeper if the old value was 2. `owner` (the holder's tid) and `depth` are written only by the
//! holder, and `owner` is read by a thread only to compare with its own tid, which it alone can
//! have written (Relaxed).

use crate::whoami::who;
use pip_core::abi::{RootAbi, PIPID_ROOT};
use std::ffi::{c_char, c_int, c_long, c_void};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

/// `"PIPLOCK\x01"`: marks a [`JobLock`].
const LOCK_MAGIC: u64 = u64::from_le_bytes(*b"PIPLOCK\x01");
/// The reserved export name of the job's loader lock (`pip_glibc_lock`).
const LOADER_LOCK_NAME: &[u8] = b"\0pip-capi:loader-lock";
/// The reserved export name of the job's universal lock (`pip_universal_lock`).
const UNIVERSAL_LOCK_NAME: &[u8] = b"\0pip-capi:universal-lock";

/// A recursive lock shared by every task of a job, in memory that lives as long as the process.
#[repr(C)]
pub struct JobLock {
    /// [`LOCK_MAGIC`].
    magic: u64,
    /// 0: free; 1: held; 2: held, and a thread may sleep on it.
    state: AtomicU32,
    /// The kernel thread id of the holder, or 0.
    owner: AtomicI32,
    /// How many times the holder has taken it (only the holder reads or writes it).
    depth: AtomicU32,
}

impl JobLock {
    const fn new() -> JobLock {
        JobLock {
            magic: LOCK_MAGIC,
            state: AtomicU32::new(0),
            owner: AtomicI32::new(0),
            depth: AtomicU32::new(0),
        }
    }

    /// Takes the lock (again, if the calling thread holds it).
    fn lock(&self) {
        let me = crate::info::pip_gettid();
        // SYNC(dl#lock-protocol): written by the holder only; compared with the caller's own tid (Relaxed)
        if self.owner.load(Ordering::Relaxed) == me {
            // SYNC(dl#lock-protocol): the holder's recursion depth, changed by the holder only (Relaxed)
            self.depth.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // SYNC(dl#lock-protocol): taking a free lock, 0 -> 1 (Acquire: pairs with the Release swap of the last holder)
        if self
            .state
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Mark the lock contended, then sleep until a release finds it free.
            // SYNC(dl#lock-protocol): 0 free, 1 taken, 2 taken with sleepers: Acquire when taking, Release when freeing
            while self.state.swap(2, Ordering::Acquire) != 0 {
                pip_core::futex::wait(&self.state, 2);
            }
        }
        // SYNC(dl#lock-protocol): written by the holder only; compared with the caller's own tid (Relaxed)
        self.owner.store(me, Ordering::Relaxed);
        // SYNC(dl#lock-protocol): the holder's recursion depth, changed by the holder only (Relaxed)
        self.depth.store(1, Ordering::Relaxed);
    }

    /// Releases one hold of the calling thread; false if the thread does not hold the lock.
    fn unlock(&self) -> bool {
        // SYNC(dl#lock-protocol): written by the holder only; compared with the caller's own tid (Relaxed)
        if self.owner.load(Ordering::Relaxed) != crate::info::pip_gettid() {
            return false;
        }
        // SYNC(dl#lock-protocol): the holder's recursion depth, changed by the holder only (Relaxed)
        if self.depth.fetch_sub(1, Ordering::Relaxed) > 1 {
            return true;
        }
        // SYNC(dl#lock-protocol): written by the holder only; compared with the caller's own tid (Relaxed)
        self.owner.store(0, Ordering::Relaxed);
        // SYNC(dl#lock-protocol): 0 free, 1 taken, 2 taken with sleepers: Acquire when taking, Release when freeing
        if self.state.swap(0, Ordering::Release) == 2 {
            pip_core::futex::wake(&self.state, 1);
        }
        true
    }
}

/// This copy's locks, used outside a PiP job.
static LOCAL_LOADER: JobLock = JobLock::new();
static LOCAL_UNIVERSAL: JobLock = JobLock::new();

/// Reads the lock the job published under `name`, if any.
fn published(abi: &RootAbi, me: c_int, name: &[u8]) -> Option<&'static JobLock> {
    let mut out: *mut c_void = std::ptr::null_mut();
    // SAFETY: a live root's op with a valid name and out pointer; non-blocking.
    let rc = unsafe {
        (abi.ops.named_import)(abi, me, PIPID_ROOT, name.as_ptr(), name.len(), 0, &mut out)
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: only this module exports under these reserved names, always a leaked JobLock.
    let lock = unsafe { (out as *const JobLock).as_ref() }?;
    (lock.magic == LOCK_MAGIC).then_some(lock)
}

/// The job's lock published under `name` (created and published by the first caller), or
/// `local` outside a PiP job.
fn job_lock(name: &[u8], local: &'static JobLock) -> &'static JobLock {
    let w = who();
    let (Some(abi), Some(me)) = (w.abi(), w.core_id()) else {
        return local;
    };
    if let Some(lock) = published(abi, me, name) {
        return lock;
    }
    let fresh: &'static JobLock = Box::leak(Box::new(JobLock::new()));
    // SAFETY: a live root's op with a valid name; the lock is leaked, so it outlives the job.
    // It is exported in the root's name, so that every task finds it at one place.
    let rc = unsafe {
        (abi.ops.named_export)(
            abi,
            PIPID_ROOT,
            name.as_ptr(),
            name.len(),
            fresh as *const JobLock as *mut c_void,
        )
    };
    if rc == 0 {
        return fresh;
    }
    // Another thread published one first (EBUSY): use that one (`fresh` stays unused).
    published(abi, me, name).unwrap_or(local)
}

fn loader_lock() -> &'static JobLock {
    job_lock(LOADER_LOCK_NAME, &LOCAL_LOADER)
}

/// Releases the calling thread's hold of the job's lock, or of this copy's own lock if that is
/// the one it holds (taken before `pip_init`).
fn release(name: &[u8], local: &'static JobLock) {
    if !job_lock(name, local).unlock() {
        local.unlock();
    }
}

/// Runs `f` holding the loader lock.
fn locked<T>(f: impl FnOnce() -> T) -> T {
    let lock = loader_lock();
    lock.lock();
    let r = f();
    lock.unlock();
    r
}

/// Takes PiP's loader lock, which serialises the `pip_dl*` calls of every task and the root
/// (recursive: the holder may take it again, and must release it as many times).
#[no_mangle]
pub extern "C" fn pip_glibc_lock() {
    loader_lock().lock();
}

/// Releases one hold of the loader lock taken by [`pip_glibc_lock`]; does nothing if the
/// calling thread does not hold it.
#[no_mangle]
pub extern "C" fn pip_glibc_unlock() {
    release(LOADER_LOCK_NAME, &LOCAL_LOADER);
}

/// PiP v2.4's name of [`pip_glibc_lock`].
#[no_mangle]
pub extern "C" fn pip_libc_lock() {
    pip_glibc_lock();
}

/// PiP v2.4's name of [`pip_glibc_unlock`].
#[no_mangle]
pub extern "C" fn pip_libc_unlock() {
    pip_glibc_unlock();
}

/// Takes the job's universal lock (PiP v2.4): a second job-wide lock, independent of the loader
/// lock, for the program's own use.
#[no_mangle]
pub extern "C" fn pip_universal_lock() {
    job_lock(UNIVERSAL_LOCK_NAME, &LOCAL_UNIVERSAL).lock();
}

/// Releases one hold of the universal lock.
#[no_mangle]
pub extern "C" fn pip_universal_unlock() {
    release(UNIVERSAL_LOCK_NAME, &LOCAL_UNIVERSAL);
}

extern "C" {
    fn dlmopen(lmid: c_long, filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlinfo(handle: *mut c_void, request: c_int, info: *mut c_void) -> c_int;
}

/// `dlopen` under the loader lock.
///
/// # Safety
///
/// As `dlopen(3)`: `filename` is null or NUL-terminated (and the object's constructors run).
#[no_mangle]
pub unsafe extern "C" fn pip_dlopen(filename: *const c_char, flag: c_int) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    locked(|| unsafe { libc::dlopen(filename, flag) })
}

/// `dlmopen` under the loader lock.
///
/// # Safety
///
/// As `dlmopen(3)`.
#[no_mangle]
pub unsafe extern "C" fn pip_dlmopen(
    lmid: c_long,
    path: *const c_char,
    flag: c_int,
) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    locked(|| unsafe { dlmopen(lmid, path, flag) })
}

/// `dlsym` under the loader lock.
///
/// # Safety
///
/// As `dlsym(3)`: `handle` is a handle or pseudo-handle, `symbol` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pip_dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    locked(|| unsafe { libc::dlsym(handle, symbol) })
}

/// `dlinfo` under the loader lock.
///
/// # Safety
///
/// As `dlinfo(3)`: `info` is valid for what `request` writes.
#[no_mangle]
pub unsafe extern "C" fn pip_dlinfo(
    handle: *mut c_void,
    request: c_int,
    info: *mut c_void,
) -> c_int {
    // SAFETY: forwarded from the caller.
    locked(|| unsafe { dlinfo(handle, request, info) })
}

/// `dladdr` under the loader lock (`info` is a `Dl_info *`, as in PiP's prototype).
///
/// # Safety
///
/// As `dladdr(3)`: `info` is valid for a `Dl_info` write.
#[no_mangle]
pub unsafe extern "C" fn pip_dladdr(addr: *mut c_void, info: *mut c_void) -> c_int {
    // SAFETY: forwarded from the caller.
    locked(|| unsafe { libc::dladdr(addr, info.cast()) })
}

/// `dlclose` under the loader lock.
///
/// # Safety
///
/// As `dlclose(3)`.
#[no_mangle]
pub unsafe extern "C" fn pip_dlclose(handle: *mut c_void) -> c_int {
    // SAFETY: forwarded from the caller.
    locked(|| unsafe { libc::dlclose(handle) })
}

/// `dlerror` under the loader lock.
#[no_mangle]
pub extern "C" fn pip_dlerror() -> *mut c_char {
    // SAFETY: dlerror has no preconditions.
    locked(|| unsafe { libc::dlerror() })
}
