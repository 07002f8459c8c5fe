//! Who is calling: the root, a task (which one), or nobody (no PiP job).
//!
//! The answer comes from the pip-core copy that owns the live root, through its C bridge
//! ([`pip_core::bridge`]), found with `dlsym` in the main program's scope of the base link
//! namespace ([`pip_core::task::main_program_symbol`], the lookup pip-core's own copies in
//! libraries use too). That scope holds the root program and its libraries, so the search finds:
//!
//! * with a C root built by pipcc: the bridge in the root's `libpip.so` (the same copy as ours in
//!   `shared-libc` isolation; another one when we are a task's private copy in `namespace`
//!   isolation);
//! * with pip-exec, or any Rust root that exports the bridge: the root program's own;
//! * in a program that is neither (a pipcc program run on its own): our own copy, whose pip-core
//!   has no live root, so the answer is "nobody" until `pip_init`.
//!
//! A Rust root that does not export the bridge leaves its C tasks without a PiP identity: their
//! calls then fail with `EPERM`, as outside a PiP job.
//!
//! # Root identity
//!
//! `ROOT_PID` and `ROOT_TID` (and `ROOT_AUX`, in [`crate::exports`]) are stored (Release) by
//! `pip_init` and cleared by `pip_fin` on the root's thread, and loaded (Acquire) by the calls
//! that ask who is calling.

use pip_core::abi::{RootAbi, PIPID_ROOT};
use pip_core::task::main_program_symbol;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

type CurrentTaskFn = unsafe extern "C" fn(*mut *const RootAbi) -> c_int;
type TaskThreadFn = unsafe extern "C" fn(c_int, *mut c_int, *mut libc::pthread_t) -> c_int;
type TaskKillFn = extern "C" fn(c_int, c_int) -> c_int;

/// The root's pip-core bridge functions.
pub struct Bridge {
    current_task: CurrentTaskFn,
    task_thread: TaskThreadFn,
    task_kill: TaskKillFn,
}

/// Finds the bridge of the root's pip-core (once per copy of this library).
pub fn bridge() -> Option<&'static Bridge> {
    static BRIDGE: OnceLock<Option<Bridge>> = OnceLock::new();
    BRIDGE
        .get_or_init(|| {
            let current = main_program_symbol(c"pip_rs_current_task");
            let thread = main_program_symbol(c"pip_rs_task_thread");
            let kill = main_program_symbol(c"pip_rs_task_kill");
            if current.is_null() || thread.is_null() || kill.is_null() {
                return None;
            }
            // SAFETY: these are pip-core's bridge functions, with these signatures.
            unsafe {
                Some(Bridge {
                    current_task: std::mem::transmute::<*mut c_void, CurrentTaskFn>(current),
                    task_thread: std::mem::transmute::<*mut c_void, TaskThreadFn>(thread),
                    task_kill: std::mem::transmute::<*mut c_void, TaskKillFn>(kill),
                })
            }
        })
        .as_ref()
}

/// Who the calling thread is.
#[derive(Clone, Copy)]
pub enum Who {
    /// No PiP job: not initialised as a root, not a task.
    Nobody,
    /// The root (any thread of the root's process that is not a task's main thread).
    Root(&'static RootAbi),
    /// The main thread of task `pipid`.
    Task(&'static RootAbi, c_int),
}

impl Who {
    /// The root's ABI block, unless [`Who::Nobody`].
    pub fn abi(self) -> Option<&'static RootAbi> {
        match self {
            Who::Nobody => None,
            Who::Root(abi) | Who::Task(abi, _) => Some(abi),
        }
    }

    /// pip-core's id of the caller: the pipid, or pip-core's root id. `None` for nobody.
    pub fn core_id(self) -> Option<c_int> {
        match self {
            Who::Nobody => None,
            Who::Root(_) => Some(PIPID_ROOT),
            Who::Task(_, p) => Some(p),
        }
    }
}

/// Asks the root's pip-core who the calling thread is (a thread a task created belongs to that
/// task, see [`crate::threads`]).
pub fn who() -> Who {
    let Some(b) = bridge() else {
        return Who::Nobody;
    };
    let mut abi: *const RootAbi = std::ptr::null();
    // SAFETY: a bridge function; `abi` is a valid place to write.
    let id = unsafe { (b.current_task)(&mut abi) };
    // SAFETY: a live root's ABI block is leaked by pip-core, so it lives for the process.
    let Some(abi) = (unsafe { abi.as_ref() }) else {
        return Who::Nobody;
    };
    if abi.check().is_err() {
        return Who::Nobody;
    }
    match id {
        PIPID_ROOT => match crate::threads::inherited_pipid() {
            Some(p) => Who::Task(abi, p),
            None => Who::Root(abi),
        },
        p if p >= 0 => Who::Task(abi, p),
        _ => Who::Nobody,
    }
}

/// The kernel thread id and `pthread_t` of running task `pipid` (0 or an errno value).
pub fn task_thread(pipid: c_int) -> Result<(c_int, libc::pthread_t), c_int> {
    let b = bridge().ok_or(libc::EPERM)?;
    let (mut tid, mut thread) = (0, 0);
    // SAFETY: a bridge function; both outputs are valid places to write.
    match unsafe { (b.task_thread)(pipid, &mut tid, &mut thread) } {
        0 => Ok((tid, thread)),
        e => Err(e),
    }
}

/// Sends `sig` to running task `pipid` alone; returns 0 or an errno value.
pub fn task_kill(pipid: c_int, sig: c_int) -> c_int {
    match bridge() {
        Some(b) => (b.task_kill)(pipid, sig),
        None => libc::EPERM,
    }
}

/// Converts a C-API pipid argument into pip-core's id, as PiP checks it: `PIP_PIPID_MYSELF` is
/// the caller, `PIP_PIPID_ROOT` the root; `PIP_PIPID_ANY`/`PIP_PIPID_NULL` give `EINVAL`, any
/// other negative id or one past the tasks `ERANGE`.
pub fn check_pipid(who: Who, pipid: c_int) -> Result<c_int, c_int> {
    use crate::consts::*;
    let abi = who.abi().ok_or(libc::EPERM)?;
    match pipid {
        PIP_PIPID_MYSELF => who.core_id().ok_or(libc::EPERM),
        PIP_PIPID_ROOT => Ok(PIPID_ROOT),
        PIP_PIPID_ANY | PIP_PIPID_NULL => Err(libc::EINVAL),
        p if p < 0 || p as u32 >= abi.ntasks => Err(libc::ERANGE),
        p => Ok(p),
    }
}

/// The C-API pipid of pip-core's id.
pub fn c_pipid(core_id: c_int) -> c_int {
    if core_id == PIPID_ROOT {
        crate::consts::PIP_PIPID_ROOT
    } else {
        core_id
    }
}

/// What the root hands each task it spawns through `pip_task_spawn`, besides pip-core's own
/// context: published as a named export of the task under [`TASK_INFO_NAME`] (a name no C
/// program can form, since it starts with a NUL byte) before the task's `main` runs.
#[repr(C)]
pub struct TaskInfo {
    /// [`TASK_INFO_MAGIC`].
    pub magic: u64,
    /// `pip_spawn_program_t.exp`: what this task's `pip_init` gives as the export.
    pub exp: *mut c_void,
    /// The thread id of the root (the thread that called `pip_init`), for `pip_kill` of the
    /// root.
    pub root_tid: c_int,
    /// The root's process id (a process-mode task has a pid of its own).
    pub root_pid: c_int,
}

/// Marks a [`TaskInfo`].
pub const TASK_INFO_MAGIC: u64 = u64::from_le_bytes(*b"PIPCAPI\x01");
/// The name of a task's [`TaskInfo`] export.
pub const TASK_INFO_NAME: &[u8] = b"\0pip-capi:task-info";

/// This task's [`TaskInfo`], if its root published one (roots built with pipcc do; pip-exec
/// does not).
pub fn task_info(abi: &RootAbi, pipid: c_int) -> Option<&'static TaskInfo> {
    let mut out: *mut c_void = std::ptr::null_mut();
    // SAFETY: a live root's op, with a valid name and out pointer; non-blocking.
    let rc = unsafe {
        (abi.ops.named_import)(
            abi,
            pipid,
            pipid,
            TASK_INFO_NAME.as_ptr(),
            TASK_INFO_NAME.len(),
            0,
            &mut out,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: the root exported a leaked TaskInfo under this reserved name.
    let info = unsafe { (out as *const TaskInfo).as_ref() }?;
    (info.magic == TASK_INFO_MAGIC).then_some(info)
}

/// The thread id of the root in this copy of the library (set by `pip_init`), or 0.
pub(crate) static ROOT_TID: AtomicI32 = AtomicI32::new(0);
/// The process id of the root in this copy of the library (set by `pip_init`), or 0.
pub(crate) static ROOT_PID: AtomicI32 = AtomicI32::new(0);

/// The execution mode of the job (`PIP_MODE_PTHREAD` or `PIP_MODE_PROCESS`).
pub fn mode_bits(abi: &RootAbi) -> u32 {
    if abi.mode == pip_core::Mode::Process as u32 {
        crate::consts::PIP_MODE_PROCESS
    } else {
        crate::consts::PIP_MODE_PTHREAD
    }
}

/// True in a job whose tasks are processes.
pub fn is_process_mode(who: Who) -> bool {
    who.abi()
        .is_some_and(|a| mode_bits(a) == crate::consts::PIP_MODE_PROCESS)
}

/// The process id and thread id of the root, for `pip_kill(PIP_PIPID_ROOT, ...)`.
pub fn root_ids(who: Who) -> (c_int, c_int) {
    // SYNC(whoami#root-identity): Acquire pairs with pip_init's Release store
    let own = ROOT_TID.load(Ordering::Acquire);
    if own != 0 {
        // SYNC(whoami#root-identity): Acquire pairs with pip_init's Release store
        return (ROOT_PID.load(Ordering::Acquire), own);
    }
    // SAFETY: getpid and getppid have no preconditions.
    let (pid, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
    if let Who::Task(abi, p) = who {
        if let Some(info) = task_info(abi, p) {
            return (info.root_pid, info.root_tid);
        }
    }
    // A root's main thread has the process id as its thread id; a process-mode task's parent
    // is the root.
    let root = if is_process_mode(who) { ppid } else { pid };
    (root, root)
}
