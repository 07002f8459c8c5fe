//! The root side: `pip_init` and `pip_fin` (spawning is in [`crate::spawn`], whose items are
//! re-exported here; the waits and the kills of all tasks are in [`crate::wait`]).
//!
//! The root's [`pip_core::Root`] lives in `JOB`, behind a mutex: spawning, waiting and
//! finishing take it (a blocking `pip_wait` holds it while it waits, as only the root waits).
//! Nothing a task calls takes it: tasks reach the root through pip-core's bridge and ABI block
//! ([`crate::whoami`]), so a task never waits for the root's lock.

use crate::consts::*;
use crate::whoami::{self, who, Who, ROOT_PID, ROOT_TID};
use pip_core::{Error, Isolation, Mode, Root};
use std::ffi::{c_int, c_void};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};

pub use crate::spawn::{pip_spawn, pip_task_spawn, SpawnHook, SpawnProgram};

/// The root of this process, when this copy of the library initialised it.
pub(crate) static JOB: Mutex<Option<Root>> = Mutex::new(None);

pub(crate) fn job() -> MutexGuard<'static, Option<Root>> {
    JOB.lock().unwrap_or_else(|e| e.into_inner())
}

/// The execution mode `opts` and the `PIP_MODE` environment variable ask for:
/// `PIP_MODE_PTHREAD` or `thread`/`pthread` (the default), `PIP_MODE_PROCESS` or `process`
/// (pip-core's process mode). PiP's `process:preload`, `process:pipclone` and `process:got`
/// cannot work on glibc 2.34 and later (`EPERM`); so does a request that clashes with
/// `PIP_MODE`. Malformed `opts` give `EINVAL`.
fn check_mode(opts: c_int) -> Result<Mode, c_int> {
    let opts = opts as u32;
    if opts & !PIP_VALID_OPTS != 0 {
        return Err(libc::EINVAL);
    }
    let bits = opts & PIP_MODE_MASK;
    if bits & PIP_MODE_PTHREAD != 0 && bits & PIP_MODE_PROCESS != 0 {
        return Err(libc::EINVAL);
    }
    if (bits & 0x0700).count_ones() > 1 {
        return Err(libc::EINVAL);
    }
    let requested = match bits {
        0 => None,
        PIP_MODE_PTHREAD => Some(Mode::Thread),
        PIP_MODE_PROCESS => Some(Mode::Process),
        _ => {
            eprintln!("pip_init: PiP's process:preload, process:pipclone and process:got modes need PiP's patched glibc (glibc 2.34 and later have no hook for them); PIP_MODE_PROCESS gives pip-rs's process mode (see docs/c-api.md)");
            return Err(libc::EPERM);
        }
    };
    let from_env = match std::env::var("PIP_MODE").as_deref() {
        Err(_) | Ok("") => None,
        Ok(m) => match m.parse::<Mode>() {
            Ok(mode) => Some(mode),
            Err(e) => {
                eprintln!("pip_init: {e}");
                return Err(libc::EPERM);
            }
        },
    };
    match (requested, from_env) {
        (Some(r), Some(e)) if r != e => {
            eprintln!(
                "pip_init: the program asks for the {} mode but PIP_MODE asks for {}",
                r.as_str(),
                e.as_str()
            );
            Err(libc::EPERM)
        }
        (Some(m), _) | (None, Some(m)) => Ok(m),
        (None, None) => Ok(Mode::Thread),
    }
}

/// The isolation level of the job: `PIP_ISOLATION=shared-libc` (default) or `namespace`.
fn isolation() -> Result<Isolation, c_int> {
    match std::env::var("PIP_ISOLATION") {
        Err(_) => Ok(Isolation::SharedLibc),
        Ok(s) if s.is_empty() => Ok(Isolation::SharedLibc),
        Ok(s) => s.parse().map_err(|e: Error| {
            eprintln!("pip_init: PIP_ISOLATION: {e}");
            libc::EINVAL
        }),
    }
}

/// Initialises the root, or (in a task) gives the task's pipid, task count and export.
///
/// Root: `*ntasks` (`NULL`: `PIP_NTASKS_MAX`) tasks at most, `*root_expp` (if given) becomes the
/// root's export, `*pipidp` is set to `PIP_PIPID_ROOT`. The execution mode is the pthread mode,
/// or pip-core's process mode with `PIP_MODE_PROCESS` in `opts` or `PIP_MODE=process`. Errors:
/// `EINVAL` (`*ntasks <= 0`, bad `opts`), `EOVERFLOW` (more than `PIP_NTASKS_MAX`), `EBUSY`
/// (already initialised), `EPERM` (one of PiP's process sub-modes, a mode that clashes with
/// `PIP_MODE`, or a program that does not bind `exit` to libpip), `EAGAIN` (namespace isolation
/// cannot hold that many tasks).
///
/// # Safety
///
/// The pointers are null or valid.
#[no_mangle]
pub unsafe extern "C" fn pip_init(
    pipidp: *mut c_int,
    ntasks: *mut c_int,
    root_expp: *mut *mut c_void,
    opts: c_int,
) -> c_int {
    match who() {
        Who::Task(abi, pipid) => {
            // SAFETY: the caller passes null or valid pointers.
            unsafe {
                if let Some(p) = pipidp.as_mut() {
                    *p = pipid;
                }
                if let Some(n) = ntasks.as_mut() {
                    *n = abi.ntasks as c_int;
                }
                if let Some(e) = root_expp.as_mut() {
                    let exp = whoami::task_info(abi, pipid)
                        .map(|i| i.exp)
                        .filter(|e| !e.is_null());
                    // SYNC(whoami#root-identity): the root export, stored (Release) by the root's export op
                    *e = exp.unwrap_or_else(|| abi.root_export.load(Ordering::Acquire));
                }
            }
            return 0;
        }
        Who::Root(_) => return libc::EBUSY,
        Who::Nobody => {}
    }
    let mut job = job();
    if job.is_some() {
        return libc::EBUSY;
    }
    // SAFETY: the caller passes null or a valid pointer.
    let n = match unsafe { ntasks.as_ref() } {
        None => PIP_NTASKS_MAX,
        Some(&n) if n <= 0 => return libc::EINVAL,
        Some(&n) if n > PIP_NTASKS_MAX => return libc::EOVERFLOW,
        Some(&n) => n,
    };
    let mode = match check_mode(opts) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let isolation = match isolation() {
        Ok(i) => i,
        Err(e) => return e,
    };
    if !exit_binds_here() {
        eprintln!("pip_init: `exit` does not resolve to libpip.so's, so a task calling exit() would end the whole process: link libpip.so before libc (pipcc does: `-lpip`, never `-lc -lpip`)");
        return libc::EPERM;
    }
    // SAFETY: the caller passes null or a valid pointer.
    let export = unsafe { root_expp.as_ref() }
        .copied()
        .unwrap_or(std::ptr::null_mut());
    let root = match Root::builder(n as usize)
        .isolation(isolation)
        .mode(mode)
        .export(export)
        .init()
    {
        Ok(r) => r,
        Err(e) => {
            // Errors a C program cannot explain from the code alone (a bad PIP_* value, say).
            if matches!(
                e,
                Error::ExitNotExported | Error::NamespaceLimit { .. } | Error::InvalidArgument(_)
            ) {
                eprintln!("pip_init: {e}");
            }
            return e.errno();
        }
    };
    *job = Some(root);
    // SAFETY: getpid has no preconditions.
    // SYNC(whoami#root-identity): Release: pairs with the Acquire loads in whoami
    ROOT_PID.store(unsafe { libc::getpid() }, Ordering::Release);
    // SYNC(whoami#root-identity): Release: pairs with the Acquire loads in whoami
    ROOT_TID.store(gettid(), Ordering::Release);
    // SAFETY: the caller passes null or a valid pointer.
    if let Some(p) = unsafe { pipidp.as_mut() } {
        *p = PIP_PIPID_ROOT;
    }
    0
}

/// True when the process's `exit` (the one tasks bind to) is this library's: pip-core's
/// interposer, which ends only the calling task. (Comparing addresses taken inside the library
/// would not tell: they resolve through the same global lookup.)
fn exit_binds_here() -> bool {
    // SAFETY: dlsym and dladdr only look up; `info` is written by dladdr.
    unsafe {
        let global = libc::dlsym(libc::RTLD_DEFAULT, c"exit".as_ptr());
        let mut exit_info: libc::Dl_info = std::mem::zeroed();
        let mut own_info: libc::Dl_info = std::mem::zeroed();
        let own = pip_init as *const c_void;
        libc::dladdr(global, &mut exit_info) != 0
            && libc::dladdr(own, &mut own_info) != 0
            && exit_info.dli_fbase == own_info.dli_fbase
    }
}

fn gettid() -> c_int {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as c_int }
}

/// Ends the root: `EBUSY` while a task has not been waited for, `EPERM` if not initialised (or
/// already finished). In a task it does nothing and returns 0.
#[no_mangle]
pub extern "C" fn pip_fin() -> c_int {
    if let Who::Task(..) = who() {
        return 0;
    }
    let mut job = job();
    let Some(root) = job.as_mut() else {
        return libc::EPERM;
    };
    match root.fin() {
        Ok(()) => {
            *job = None;
            // SYNC(whoami#root-identity): Release: pairs with the Acquire loads in whoami
            ROOT_TID.store(0, Ordering::Release);
            // SYNC(whoami#root-identity): Release: pairs with the Acquire loads in whoami
            ROOT_PID.store(0, Ordering::Release);
            0
        }
        Err(e) => e.errno(),
    }
}
