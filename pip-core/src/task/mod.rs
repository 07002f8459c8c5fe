//! The task side: who am I, the exports, and the entry-point macros.
//!
//! Every image of pip-core in the process (the root's, and one per task, since each task has
//! its own copy of its program and so of pip-core's statics) holds a *context*: a pointer to the
//! root's [`RootAbi`] and its own pipid. The root sets its context in
//! [`Root::init`](crate::Root::init); a task gets its context when the root calls the exported
//! [`pip_rs_task_attach`] on the task's thread, before the entry point. All the functions of this
//! module work the same in the root and in tasks, through [`RootOps`](crate::abi::RootOps).
//!
//! # Context
//!
//! `ROOT` (the root's ABI block) and `PIPID` are stored (Release) when the context is set
//! (the root's in [`Root::init`](crate::Root::init), a task's in [`pip_rs_task_attach`]) and loaded
//! (Acquire) by every query, so that a query that sees the pointer sees the block it points to.
//! The root's block and its wait board pointer are complete before any task starts.
//!
//! A copy of pip-core whose context was never set (one inside an ordinary shared library that
//! tasks link, such as a C MPI library: the root attaches only a task's own image) asks the
//! live root instead, on every query: its C bridge ([`crate::bridge`], found once per copy, see
//! `live_root.rs`) says who the calling thread is. On a task's main thread that is the task
//! (its pipid, the job's size, mode and isolation, its exports, its wait board slot); on any
//! other thread of a process with a live root it is the root (so a thread that a C task
//! created itself counts as the root); without a live root the queries fail with
//! [`Error::NotInitialized`], as before. The answer is never cached: the same copy serves
//! every task of a `shared-libc` job. The root's own copy and Rust task images have their
//! context set and never ask. Such a copy has no arguments or environment of its own:
//! [`args_os`] and [`env_var_os`] give the process's (for a C task, the environment its libc
//! shows it).

use crate::abi::{RootAbi, TaskAbiInfo, PIPID_ROOT};
use crate::error::{Error, Result};
use crate::{Isolation, Mode, PipId};
use std::ffi::{c_char, c_int, CStr, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
use std::sync::OnceLock;

/// Marks a pipid not yet set.
const UNSET: i32 = i32::MIN;

static ROOT: AtomicPtr<RootAbi> = AtomicPtr::new(std::ptr::null_mut());
static PIPID: AtomicI32 = AtomicI32::new(UNSET);
static ARGS: OnceLock<Vec<OsString>> = OnceLock::new();
static ENV: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();

/// The ABI block a Rust task exports so the root can check it before running any task code.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static pip_rs_task_abi: TaskAbiInfo = TaskAbiInfo::CURRENT;

/// Called by the root on the task's thread before the entry point: checks the root's ABI and
/// stores this task's context, arguments and environment.
///
/// Returns 0, or `EPERM` after printing why the root and task do not match.
///
/// # Safety
///
/// `abi` must point to a live [`RootAbi`]; `argv` and `envp` must be null-terminated arrays of
/// NUL-terminated strings (or null), valid for the call.
#[no_mangle]
pub unsafe extern "C" fn pip_rs_task_attach(
    abi: *const RootAbi,
    pipid: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the caller guarantees `abi` is live.
    let Some(root) = (unsafe { abi.as_ref() }) else {
        return libc::EINVAL;
    };
    if let Err(msg) = root.check() {
        eprintln!("pip: task {pipid}: {msg}");
        return libc::EPERM;
    }
    // SYNC(task#context): the context pointer: Release when set, Acquire in queries
    ROOT.store(abi as *mut RootAbi, Ordering::Release);
    // SYNC(task#context): the pipid, published with the context pointer (Release / Acquire)
    PIPID.store(pipid, Ordering::Release);
    // SAFETY: the caller guarantees the arrays are valid.
    let args = unsafe { c_strings(argv) };
    let _ = ARGS.set(args);
    // SAFETY: as above.
    let env = unsafe { c_strings(envp) }
        .into_iter()
        .filter_map(|kv| {
            let kv = kv.into_vec();
            let eq = kv.iter().position(|&b| b == b'=')?;
            Some((
                OsString::from_vec(kv[..eq].to_vec()),
                OsString::from_vec(kv[eq + 1..].to_vec()),
            ))
        })
        .collect();
    let _ = ENV.set(env);
    install_panic_hook(pipid);
    0
}

/// Called by the root when the task ends (any way but a fatal signal): flushes this task's
/// copy of Rust's stdout buffer.
#[no_mangle]
pub extern "C" fn pip_rs_task_flush() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// The unwinding payload that carries a Rust task's `exit()` code up to its entry.
struct TaskExit(c_int);

/// Called by the root when this Rust task's main thread calls `exit(code)`: unwinds the task's
/// stack as a panic would (without the panic message), running its destructors, up to the
/// entry, which then returns `code`. Never returns.
#[no_mangle]
pub extern "C-unwind" fn pip_rs_task_exit(code: c_int) {
    std::panic::resume_unwind(Box::new(TaskExit(code)))
}

/// # Safety
/// `p` must be null or a null-terminated array of valid C strings.
unsafe fn c_strings(mut p: *const *const c_char) -> Vec<OsString> {
    let mut out = Vec::new();
    if p.is_null() {
        return out;
    }
    // SAFETY: the caller guarantees a null-terminated array of valid C strings.
    unsafe {
        while !(*p).is_null() {
            out.push(OsStr::from_bytes(CStr::from_ptr(*p).to_bytes()).to_os_string());
            p = p.add(1);
        }
    }
    out
}

fn install_panic_hook(pipid: c_int) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("pip: task {pipid} panicked");
        previous(info);
    }));
}

/// Sets the root's own context (called by `Root::init`).
pub(crate) fn set_root_context(abi: *const RootAbi) {
    // SYNC(task#context): the context pointer: Release when set, Acquire in queries
    ROOT.store(abi as *mut RootAbi, Ordering::Release);
    // SYNC(task#context): the pipid, published with the context pointer (Release / Acquire)
    PIPID.store(PIPID_ROOT, Ordering::Release);
}

/// Clears the root's context (called by `Root::fin`).
pub(crate) fn clear_root_context() {
    // SYNC(task#context): the pipid, published with the context pointer (Release / Acquire)
    PIPID.store(UNSET, Ordering::Release);
    // SYNC(task#context): the context pointer: Release when set, Acquire in queries
    ROOT.store(std::ptr::null_mut(), Ordering::Release);
}

fn context() -> Result<(&'static RootAbi, c_int)> {
    // SYNC(task#context): the context pointer: Release when set, Acquire in queries
    let root = ROOT.load(Ordering::Acquire);
    // SYNC(task#context): the pipid, published with the context pointer (Release / Acquire)
    let me = PIPID.load(Ordering::Acquire);
    if root.is_null() || me == UNSET {
        // No context of this copy's own: the live root's answer for the calling thread.
        // (Matched rather than `ok_or`, which would build and drop an error on every query.)
        return match live_root::context() {
            Some(found) => Ok(found),
            None => Err(Error::NotInitialized),
        };
    }
    // SAFETY: a RootAbi, once published, is never freed (it is leaked by Root::init).
    Ok((unsafe { &*root }, me))
}

/// The job's wait board and the caller's slot on it (the last slot is the root's).
pub(crate) fn wait_board() -> Option<(*const crate::abi::BoardHeader, usize)> {
    let (root, me) = context().ok()?;
    // SYNC(task#context): set by the root before any task starts; Acquire pairs with its initialisation
    let board = root.wait_board.load(Ordering::Acquire);
    if board.is_null() {
        return None;
    }
    let index = if me == PIPID_ROOT {
        root.ntasks as usize
    } else {
        me as usize
    };
    Some((board, index))
}

fn to_pipid(raw: c_int) -> PipId {
    if raw == PIPID_ROOT {
        PipId::Root
    } else {
        PipId::Task(raw as usize)
    }
}

fn from_pipid(p: PipId, root: &RootAbi) -> Result<c_int> {
    match p {
        PipId::Root => Ok(PIPID_ROOT),
        PipId::Task(n) if n < root.ntasks as usize => Ok(n as c_int),
        PipId::Task(n) => Err(Error::InvalidPipid {
            pipid: n as i64,
            ntasks: root.ntasks as usize,
        }),
    }
}

/// This image's pipid: [`PipId::Root`] in the root, [`PipId::Task`] in a task. In a copy of
/// pip-core that no root attached (inside a shared library that tasks link), the calling
/// thread's: see [Context](self#context).
///
/// ```
/// // Outside a PiP job there is no pipid.
/// assert!(pip_core::pipid().is_err());
/// ```
pub fn pipid() -> Result<PipId> {
    context().map(|(_, me)| to_pipid(me))
}

/// The number of tasks the root was initialised for.
pub fn ntasks() -> Result<usize> {
    context().map(|(r, _)| r.ntasks as usize)
}

/// True in an initialised root.
pub fn is_root() -> bool {
    matches!(pipid(), Ok(PipId::Root))
}

/// True in a task.
pub fn is_task() -> bool {
    matches!(pipid(), Ok(PipId::Task(_)))
}

/// The job's execution mode.
pub fn mode() -> Result<Mode> {
    context().map(|(r, _)| {
        if r.mode == Mode::Process as u32 {
            Mode::Process
        } else {
            Mode::Thread
        }
    })
}

/// The job's isolation level.
pub fn isolation() -> Result<Isolation> {
    context().map(|(r, _)| {
        if r.isolation == 1 {
            Isolation::Namespace
        } else {
            Isolation::SharedLibc
        }
    })
}

/// The task's arguments, `argv[0]` (the program) first. In the root: the process's arguments.
///
/// Arguments are bytes; one that is not UTF-8 comes out with U+FFFD in place of the invalid
/// sequences (as `String::from_utf8_lossy` gives). Use [`args_os`] for the exact bytes.
///
/// (`std::env::args()` inside a task shows the root's command line: the loader runs a
/// library's initialisers with the process's arguments.)
pub fn args() -> Vec<String> {
    args_os()
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// The task's arguments as given, byte for byte, `argv[0]` first (in the root: the process's).
///
/// ```
/// // Outside a task: the process's own arguments.
/// assert_eq!(pip_core::args_os().len(), std::env::args_os().count());
/// ```
pub fn args_os() -> Vec<OsString> {
    match ARGS.get() {
        Some(a) => a.clone(),
        None => std::env::args_os().collect(),
    }
}

/// A variable of the task's environment (as given at spawn), or of the process in the root
/// (and in a copy of pip-core that no root attached, see [Context](self#context)).
/// `None` when it is not set, or its value is not UTF-8 (read that with [`env_var_os`]).
///
/// In `shared-libc` isolation every task shares one C `environ`, so `std::env::var` shows the
/// process's environment; this function shows the one the task was spawned with.
pub fn env_var(name: &str) -> Option<String> {
    env_var_os(name)?.into_string().ok()
}

/// A variable of the task's environment (or the root's process), byte for byte.
///
/// ```
/// // Outside a task: the process's environment.
/// assert_eq!(pip_core::env_var_os("PATH"), std::env::var_os("PATH"));
/// ```
pub fn env_var_os(name: impl AsRef<OsStr>) -> Option<OsString> {
    let name = name.as_ref();
    match ENV.get() {
        Some(env) => env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        None => std::env::var_os(name),
    }
}

fn check(code: c_int, name: &str, peer: PipId) -> Result<()> {
    match code {
        0 => Ok(()),
        libc::EDEADLK => Err(Error::Deadlock(name.to_string())),
        libc::ECANCELED => Err(Error::Canceled {
            peer,
            name: name.to_string(),
        }),
        libc::EAGAIN => Err(Error::NotYetExported {
            peer,
            name: name.to_string(),
        }),
        libc::EBUSY => Err(Error::AlreadyExported(name.to_string())),
        libc::EINVAL => Err(Error::NullExport),
        libc::EPERM => Err(Error::NotInitialized),
        e => Err(Error::System {
            op: "export/import",
            source: std::io::Error::from_raw_os_error(e),
        }),
    }
}

/// Gives up the CPU (`sched_yield`).
pub fn yield_now() {
    // SAFETY: no preconditions.
    unsafe {
        libc::sched_yield();
    }
}

/// Ends the calling task with `code` (its destructors on the stack run). In the root, or on a
/// thread the task created itself, ends the whole process like `std::process::exit`.
pub fn exit(code: i32) -> ! {
    // Goes through the interposed `exit` below, which knows about tasks.
    std::process::exit(code)
}

pub mod code;
mod entry;
mod exports;
mod interpose;
mod live_root;

pub use entry::{run_function, run_main, TaskResult};
pub use exports::{
    aux, export, import, named_export, named_import, root_export, set_aux, try_named_import,
};
pub use interpose::exit_interposer;
pub(crate) use interpose::{interposer_address, set_exit_hook};
pub use live_root::main_program_symbol;
