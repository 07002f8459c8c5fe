//! The root: initialise a job, spawn tasks, wait for them, signal them.
//!
//! # Life of a task (thread mode)
//!
//! 1. [`Root::spawn`] (on the root's thread) claims a pipid, loads a private copy of the program
//!    ([`crate::loader`]), and creates the task's thread. Slot state: `FREE -> STARTING`.
//! 2. The task thread (`task_thread`) records its tid, names itself, applies the CPU core,
//!    `unshare`/`chdir`, then publishes `RUNNING` (or `SETUP_FAILED`) and wakes the root, which
//!    waits for this before `spawn` returns (so `kill` always has a tid).
//! 3. It runs the before hook, the namespace libc set-up, `PIP_STOP_ON_START`, hands a Rust task
//!    its context (`pip_rs_task_attach`), and calls the entry.
//! 4. It ends in one of three ways, each of which records an [`ExitStatus`] *before* publishing
//!    `FINISHED` (Release) and waking the root:
//!    * the entry returns: the status is its return value (or `Panicked`);
//!    * the task calls `exit()`: the interposed `exit` calls [`RootOps::task_exit`], which
//!      records the code and calls `pthread_exit`; the forced unwind runs the task's destructors;
//!    * a fatal signal ([`crate::signals`]): the handler records it and ends the thread at once.
//!
//!    In the first two cases a drop guard (`Finish`) runs the after hook and flushes the task's
//!    stdio first.
//! 5. [`Root::wait`] sees `FINISHED` (Acquire), joins the thread and marks the slot `WAITED`.
//!
//! The root sleeps on one futex word, `events`, which every ending task increments and wakes.
//! Waiters read `events`, scan the slots, and sleep only if `events` is unchanged, so no ending is
//! missed. Named imports sleep on a second word, `exports_seq`, bumped by every export and every
//! ending task (an import from a task that ended must fail, not wait forever).

use crate::abi::{RootAbi, RootOps, ABI_VERSION, PIPID_ROOT, ROOT_MAGIC};
use crate::error::{Error, Result};
use crate::loader::{Image, Loader};
use crate::sys::{futex_wait, futex_wait_timeout, futex_wake, gettid};
use crate::{ExitStatus, Isolation, Spawn};
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The largest task count a root accepts.
pub const MAX_TASKS: usize = 4096;

const FREE: u32 = 0;
const STARTING: u32 = 1;
const RUNNING: u32 = 2;
const FINISHED: u32 = 3;
const WAITED: u32 = 4;
const SETUP_FAILED: u32 = 5;

const ST_NONE: u32 = 0;
const ST_EXITED: u32 = 1;
const ST_SIGNALED: u32 = 2;
const ST_PANICKED: u32 = 3;

/// One task's record. Written by the task thread (status, tid, state) and by the root.
pub(crate) struct TaskSlot {
    pipid: usize,
    state: AtomicU32,
    status_kind: AtomicU32,
    status_value: AtomicI32,
    setup_errno: AtomicI32,
    tid: AtomicI32,
    export: AtomicPtr<c_void>,
    aux: AtomicPtr<c_void>,
    /// The task thread (a `pthread_t`), for joining.
    thread: AtomicUsize,
    /// The alternate signal stack (address, size), freed after the join.
    alt_stack: Mutex<Option<(usize, usize)>>,
    /// The program, for messages.
    program: Mutex<String>,
    /// A Rust task's `pip_rs_task_exit` (0 for C tasks): how `exit()` ends the task.
    rust_exit: AtomicUsize,
    root: *const RootState,
}

impl TaskSlot {
    /// Records how the task ended, unless a status was already recorded (a panic recorded
    /// before the entry returned 101 stays a panic).
    fn record(&self, st: ExitStatus) {
        let (kind, value) = match st {
            ExitStatus::Exited(c) => (ST_EXITED, c),
            ExitStatus::Signaled(s) => (ST_SIGNALED, s),
            ExitStatus::Panicked => (ST_PANICKED, 101),
        };
        if self
            .status_kind
            .compare_exchange(ST_NONE, kind, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.status_value.store(value, Ordering::Release);
        }
    }

    fn status(&self) -> ExitStatus {
        let v = self.status_value.load(Ordering::Acquire);
        match self.status_kind.load(Ordering::Acquire) {
            ST_SIGNALED => ExitStatus::Signaled(v),
            ST_PANICKED => ExitStatus::Panicked,
            _ => ExitStatus::Exited(v),
        }
    }

    /// Publishes the end of the task and wakes the root and blocked importers.
    /// Async-signal-safe (only atomics and futex wakes).
    fn publish_finished(&self) {
        self.state.store(FINISHED, Ordering::Release);
        // SAFETY: the RootState outlives every task (it is leaked).
        let root = unsafe { &*self.root };
        root.events.fetch_add(1, Ordering::SeqCst);
        futex_wake(&root.events, i32::MAX);
        root.exports_seq.fetch_add(1, Ordering::SeqCst);
        futex_wake(&root.exports_seq, i32::MAX);
    }
}

// SAFETY: the raw `root` pointer is to a leaked, immutable-after-init RootState; every other
// field is atomic or behind a Mutex.
unsafe impl Sync for TaskSlot {}
// SAFETY: as above.
unsafe impl Send for TaskSlot {}

/// Root-side state, shared with tasks through its first field (the ABI block).
#[repr(C)]
struct RootState {
    abi: RootAbi,
    isolation: Isolation,
    tasks: Box<[TaskSlot]>,
    events: AtomicU32,
    exports_seq: AtomicU32,
    named: Mutex<HashMap<(c_int, String), usize>>,
    interrupt: AtomicI32,
    catch_termination: bool,
}

impl RootState {
    fn slot(&self, pipid: c_int) -> Option<&TaskSlot> {
        usize::try_from(pipid).ok().and_then(|p| self.tasks.get(p))
    }
}

thread_local! {
    /// The task whose main thread this is (null on every other thread).
    static CURRENT_TASK: Cell<*const TaskSlot> = const { Cell::new(std::ptr::null()) };
}

/// The live root of this process, if any.
static LIVE_ROOT: AtomicPtr<RootState> = AtomicPtr::new(std::ptr::null_mut());

pub(crate) fn current_task() -> Option<&'static TaskSlot> {
    let p = CURRENT_TASK.with(|c| c.get());
    // SAFETY: slots live in leaked RootStates.
    unsafe { p.as_ref() }
}

/// Called by the signal handler on a task's main thread: records `sig`, tells the root, and ends
/// the thread. Async-signal-safe.
pub(crate) fn end_task_from_signal(slot: &TaskSlot, sig: i32) -> ! {
    slot.record(ExitStatus::Signaled(sig));
    CURRENT_TASK.with(|c| c.set(std::ptr::null()));
    slot.publish_finished();
    crate::sys::exit_thread_now()
}

/// Called by the signal handler for a termination signal sent to the process: if the live root
/// catches them, records it and wakes the root's waits. Async-signal-safe.
pub(crate) fn interrupt(sig: i32) -> bool {
    let root = LIVE_ROOT.load(Ordering::Acquire);
    // SAFETY: RootStates are leaked, so the pointer stays valid.
    match unsafe { root.as_ref() } {
        Some(r) if r.catch_termination => {
            r.interrupt.store(sig, Ordering::SeqCst);
            r.events.fetch_add(1, Ordering::SeqCst);
            futex_wake(&r.events, i32::MAX);
            true
        }
        _ => false,
    }
}

// --- RootOps: the functions tasks call --------------------------------------------------------

fn state_of(abi: *const RootAbi) -> &'static RootState {
    // SAFETY: `abi` is the first field of a leaked, #[repr(C)] RootState.
    unsafe { &*(abi as *const RootState) }
}

extern "C" {
    #[link_name = "pthread_exit"]
    fn pthread_exit_unwinding(retval: *mut c_void) -> !;
}

unsafe extern "C-unwind" fn op_task_exit(_abi: *const RootAbi, code: c_int) -> c_int {
    let Some(slot) = current_task() else {
        return libc::ESRCH;
    };
    let rust_exit = slot.rust_exit.load(Ordering::Acquire);
    if rust_exit != 0 {
        // A Rust task unwinds its own stack up to its entry (which catches the unwind and
        // returns): a forced unwind would be caught, and refused, by the entry's catch_unwind.
        // SAFETY: `rust_exit` is the task's `pip_rs_task_exit` (ABI checked at load).
        let f: crate::loader::ExitFn = unsafe { std::mem::transmute(rust_exit) };
        // SAFETY: called on the task's own thread, inside its entry.
        unsafe { f(code) };
    }
    slot.record(ExitStatus::Exited(code));
    // SAFETY: we are on the task's thread, created by pthread_create with an unwinding-capable
    // start routine; the forced unwind runs the task's cleanups and our `Finish` guard.
    unsafe { pthread_exit_unwinding(std::ptr::null_mut()) }
}

unsafe extern "C" fn op_task_panicked(abi: *const RootAbi, pipid: c_int) {
    if let Some(slot) = state_of(abi).slot(pipid) {
        slot.record(ExitStatus::Panicked);
    }
}

unsafe extern "C" fn op_export(abi: *const RootAbi, pipid: c_int, addr: *mut c_void) -> c_int {
    let root = state_of(abi);
    if addr.is_null() {
        return libc::EINVAL;
    }
    if pipid == PIPID_ROOT {
        root.abi.root_export.store(addr, Ordering::Release);
        return 0;
    }
    match root.slot(pipid) {
        Some(s) => {
            s.export.store(addr, Ordering::Release);
            0
        }
        None => libc::ERANGE,
    }
}

unsafe extern "C" fn op_import(abi: *const RootAbi, pipid: c_int, out: *mut *mut c_void) -> c_int {
    let root = state_of(abi);
    let v = if pipid == PIPID_ROOT {
        root.abi.root_export.load(Ordering::Acquire)
    } else {
        match root.slot(pipid) {
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

unsafe extern "C" fn op_named_export(
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
    root.exports_seq.fetch_add(1, Ordering::SeqCst);
    futex_wake(&root.exports_seq, i32::MAX);
    0
}

unsafe extern "C" fn op_named_import(
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
    loop {
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
            let st = slot.state.load(Ordering::Acquire);
            if st >= FINISHED {
                return libc::ECANCELED;
            }
        }
        if block == 0 {
            return libc::EAGAIN;
        }
        futex_wait(&root.exports_seq, seq);
    }
}

unsafe extern "C" fn op_aux(
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
            slot.aux.store(*value, Ordering::Release);
        } else {
            *value = slot.aux.load(Ordering::Acquire);
        }
    }
    0
}

// --- The root ----------------------------------------------------------------------------------

/// Options for [`Root::init`]; start with [`Root::builder`].
#[derive(Debug)]
pub struct RootBuilder {
    ntasks: usize,
    isolation: Isolation,
    export: *mut c_void,
    catch_termination: bool,
}

impl RootBuilder {
    /// The isolation level of every task of this job (default: [`Isolation::SharedLibc`]).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// The root's export, which tasks read with [`root_export`](crate::root_export) (PiP's
    /// `root_expp`).
    pub fn export<T>(mut self, addr: *mut T) -> Self {
        self.export = addr.cast();
        self
    }

    /// When true, `SIGINT`, `SIGTERM` and `SIGHUP` sent to the process no longer end it: the
    /// root's waits return [`Error::Interrupted`] instead, so the root can end its tasks and
    /// report (pip-exec does this). Default: false.
    pub fn catch_termination_signals(mut self, yes: bool) -> Self {
        self.catch_termination = yes;
        self
    }

    /// Initialises the root. See [`Root::init`].
    pub fn init(self) -> Result<Root> {
        Root::init_with(self)
    }
}

/// A PiP root: the owner of a job of tasks.
///
/// There is at most one live root per process. Tasks are spawned into pipids `0..ntasks`; a
/// pipid is never reused, even after its task was waited for (other tasks may still hold
/// pointers into its image).
///
/// ```no_run
/// use pip_core::{Root, Spawn};
///
/// let mut root = Root::init(2)?;
/// for _ in 0..2 {
///     root.spawn(Spawn::program("target/debug/examples/libhello.so"))?;
/// }
/// while let Ok((pipid, status)) = root.wait_any() {
///     println!("task {pipid} {status}");
/// }
/// root.fin()?;
/// # Ok::<(), pip_core::Error>(())
/// ```
pub struct Root {
    state: &'static RootState,
    loader: Loader,
    next: usize,
    finished: bool,
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Root")
            .field("ntasks", &self.state.tasks.len())
            .field("isolation", &self.state.isolation)
            .finish()
    }
}

impl Root {
    /// Options for a root of `ntasks` tasks.
    pub fn builder(ntasks: usize) -> RootBuilder {
        RootBuilder {
            ntasks,
            isolation: Isolation::SharedLibc,
            export: std::ptr::null_mut(),
            catch_termination: false,
        }
    }

    /// Initialises a root for up to `ntasks` tasks with default options
    /// (`shared-libc` isolation).
    ///
    /// Errors: [`Error::InvalidTaskCount`] (0 or more than [`MAX_TASKS`]),
    /// [`Error::AlreadyInitialized`], [`Error::ExitNotExported`] (the root binary must export
    /// `exit`; see the error's message), [`Error::NamespaceLimit`].
    pub fn init(ntasks: usize) -> Result<Root> {
        Root::builder(ntasks).init()
    }

    fn init_with(b: RootBuilder) -> Result<Root> {
        if b.ntasks == 0 || b.ntasks > MAX_TASKS {
            return Err(Error::InvalidTaskCount {
                requested: b.ntasks,
                max: MAX_TASKS,
            });
        }
        if crate::is_task() {
            return Err(Error::NotRoot(
                "initialise a root (a task cannot be a root)",
            ));
        }
        // SAFETY: dlsym with RTLD_DEFAULT and a valid name.
        let exported = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"exit".as_ptr()) };
        if exported as *const c_void != crate::task::interposer_address() {
            return Err(Error::ExitNotExported);
        }
        if b.isolation == Isolation::Namespace {
            let left = crate::loader::namespaces_left();
            if b.ntasks > left {
                let (limit, why) = crate::loader::namespace_limit();
                return Err(Error::NamespaceLimit {
                    limit: limit.min(left),
                    why,
                });
            }
        }
        let state: &'static mut RootState = Box::leak(Box::new(RootState {
            abi: RootAbi {
                magic: ROOT_MAGIC,
                version: ABI_VERSION,
                size: std::mem::size_of::<RootAbi>() as u32,
                ops_size: std::mem::size_of::<RootOps>() as u32,
                ntasks: b.ntasks as u32,
                isolation: b.isolation as u32,
                mode: 0,
                root_export: AtomicPtr::new(b.export),
                ops: RootOps {
                    task_exit: op_task_exit,
                    task_panicked: op_task_panicked,
                    export: op_export,
                    import: op_import,
                    named_export: op_named_export,
                    named_import: op_named_import,
                    aux: op_aux,
                },
            },
            isolation: b.isolation,
            tasks: Box::new([]),
            events: AtomicU32::new(0),
            exports_seq: AtomicU32::new(0),
            named: Mutex::new(HashMap::new()),
            interrupt: AtomicI32::new(0),
            catch_termination: b.catch_termination,
        }));
        let root_ptr: *const RootState = state;
        state.tasks = (0..b.ntasks)
            .map(|pipid| TaskSlot {
                pipid,
                state: AtomicU32::new(FREE),
                status_kind: AtomicU32::new(ST_NONE),
                status_value: AtomicI32::new(0),
                setup_errno: AtomicI32::new(0),
                tid: AtomicI32::new(0),
                export: AtomicPtr::new(std::ptr::null_mut()),
                aux: AtomicPtr::new(std::ptr::null_mut()),
                thread: AtomicUsize::new(0),
                alt_stack: Mutex::new(None),
                program: Mutex::new(String::new()),
                rust_exit: AtomicUsize::new(0),
                root: root_ptr,
            })
            .collect();
        let state: &'static RootState = state;
        if LIVE_ROOT
            .compare_exchange(
                std::ptr::null_mut(),
                state as *const _ as *mut _,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(Error::AlreadyInitialized);
        }
        crate::signals::install();
        crate::task::set_root_context(&state.abi);
        Ok(Root {
            state,
            loader: Loader::default(),
            next: 0,
            finished: false,
        })
    }

    /// The number of tasks this root was initialised for.
    pub fn ntasks(&self) -> usize {
        self.state.tasks.len()
    }

    /// The isolation level of this job.
    pub fn isolation(&self) -> Isolation {
        self.state.isolation
    }

    /// Checks that `spawn` could load this program and its entry, without loading it (the
    /// checks `pip-check` does).
    pub fn check(&self, spawn: &Spawn) -> Result<()> {
        self.loader.check(&spawn.program, spawn.entry_symbol())
    }

    /// Spawns a task and returns its pipid once the task's thread is running.
    ///
    /// The program is loaded (a private copy, constructors included) on the calling thread.
    /// Errors: every [`TaskFileError`](crate::elf::TaskFileError) of the file,
    /// [`Error::TooManyTasks`], [`Error::PipidInUse`], [`Error::InvalidPipid`],
    /// [`Error::NamespaceLimit`], [`Error::Load`], [`Error::AbiMismatch`], and set-up failures
    /// (`unshare`, `chdir`, the CPU core) as [`Error::System`].
    pub fn spawn(&mut self, spawn: Spawn) -> Result<usize> {
        let n = self.ntasks();
        let pipid = match spawn.pipid {
            Some(p) if p >= n => {
                return Err(Error::InvalidPipid {
                    pipid: p as i64,
                    ntasks: n,
                })
            }
            Some(p) if self.state.tasks[p].state.load(Ordering::Acquire) != FREE => {
                return Err(Error::PipidInUse(p))
            }
            Some(p) => p,
            None => (0..n)
                .map(|i| (self.next + i) % n)
                .find(|&p| self.state.tasks[p].state.load(Ordering::Acquire) == FREE)
                .ok_or(Error::TooManyTasks { ntasks: n })?,
        };
        let image = self
            .loader
            .load(&spawn.program, spawn.entry_symbol(), self.state.isolation)?;
        let slot = &self.state.tasks[pipid];
        *slot.program.lock().unwrap() = spawn.program.display().to_string();
        slot.aux.store(spawn.aux, Ordering::Release);
        slot.state.store(STARTING, Ordering::Release);
        self.next = pipid + 1;

        let stack_size = spawn.stack_size.unwrap_or_else(default_stack_size);
        let start = Box::new(TaskStart::new(slot, image, spawn, self.state));
        // SAFETY: plain pthread attribute set-up, checked below.
        let mut thread: libc::pthread_t = 0;
        let rc = unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            libc::pthread_attr_init(&mut attr);
            libc::pthread_attr_setstacksize(&mut attr, stack_size.max(libc::PTHREAD_STACK_MIN));
            let start_routine: extern "C" fn(*mut c_void) -> *mut c_void = std::mem::transmute(
                task_thread as unsafe extern "C-unwind" fn(*mut c_void) -> *mut c_void,
            );
            let rc = libc::pthread_create(
                &mut thread,
                &attr,
                start_routine,
                Box::into_raw(start).cast(),
            );
            libc::pthread_attr_destroy(&mut attr);
            rc
        };
        if rc != 0 {
            slot.record(ExitStatus::Exited(127));
            slot.state.store(WAITED, Ordering::Release);
            return Err(Error::System {
                op: "creating the task thread",
                source: std::io::Error::from_raw_os_error(rc),
            });
        }
        slot.thread.store(thread as usize, Ordering::Release);
        loop {
            let st = slot.state.load(Ordering::Acquire);
            if st != STARTING {
                if st == SETUP_FAILED {
                    self.join(slot);
                    slot.state.store(WAITED, Ordering::Release);
                    return Err(Error::System {
                        op: "setting up the task (CPU core, unshare or chdir)",
                        source: std::io::Error::from_raw_os_error(
                            slot.setup_errno.load(Ordering::Acquire),
                        ),
                    });
                }
                return Ok(pipid);
            }
            futex_wait(&slot.state, STARTING);
        }
    }

    fn check_pipid(&self, pipid: usize) -> Result<&TaskSlot> {
        self.state.tasks.get(pipid).ok_or(Error::InvalidPipid {
            pipid: pipid as i64,
            ntasks: self.ntasks(),
        })
    }

    fn join(&self, slot: &TaskSlot) {
        let t = slot.thread.swap(0, Ordering::AcqRel);
        if t != 0 {
            // SAFETY: `t` is a joinable thread we created and have not joined yet.
            unsafe { libc::pthread_join(t as libc::pthread_t, std::ptr::null_mut()) };
        }
        if let Some((addr, size)) = slot.alt_stack.lock().unwrap().take() {
            // SAFETY: the thread has ended, so nobody uses its alternate signal stack.
            unsafe { libc::munmap(addr as *mut c_void, size) };
        }
    }

    /// Reaps a finished task: joins its thread and marks it waited.
    fn reap(&self, slot: &TaskSlot) -> ExitStatus {
        self.join(slot);
        slot.state.store(WAITED, Ordering::Release);
        slot.status()
    }

    fn take_interrupt(&self) -> Result<()> {
        match self.state.interrupt.swap(0, Ordering::SeqCst) {
            0 => Ok(()),
            sig => Err(Error::Interrupted(sig)),
        }
    }

    /// Waits for task `pipid` to end and returns how it ended.
    ///
    /// Errors: [`Error::InvalidPipid`], [`Error::NoSuchTask`] (never spawned or already
    /// waited for), [`Error::Interrupted`].
    pub fn wait(&mut self, pipid: usize) -> Result<ExitStatus> {
        let slot = self.check_pipid(pipid)?;
        loop {
            let seen = self.state.events.load(Ordering::SeqCst);
            match slot.state.load(Ordering::Acquire) {
                FINISHED => return Ok(self.reap(slot)),
                RUNNING | STARTING => {}
                _ => return Err(Error::NoSuchTask(pipid)),
            }
            self.take_interrupt()?;
            futex_wait(&self.state.events, seen);
        }
    }

    /// Returns how task `pipid` ended if it has, `None` if it is still running.
    pub fn try_wait(&mut self, pipid: usize) -> Result<Option<ExitStatus>> {
        let slot = self.check_pipid(pipid)?;
        match slot.state.load(Ordering::Acquire) {
            FINISHED => Ok(Some(self.reap(slot))),
            RUNNING | STARTING => Ok(None),
            _ => Err(Error::NoSuchTask(pipid)),
        }
    }

    /// One scan: a finished task if any; `Err(NoTasks)` if none is left to wait for.
    fn scan(&self) -> Result<Option<(usize, ExitStatus)>> {
        let mut live = false;
        for slot in self.state.tasks.iter() {
            match slot.state.load(Ordering::Acquire) {
                FINISHED => return Ok(Some((slot.pipid, self.reap(slot)))),
                RUNNING | STARTING => live = true,
                _ => {}
            }
        }
        if live {
            Ok(None)
        } else {
            Err(Error::NoTasks)
        }
    }

    /// Waits for any task to end; returns its pipid and status. [`Error::NoTasks`] when no
    /// task is left to wait for.
    pub fn wait_any(&mut self) -> Result<(usize, ExitStatus)> {
        loop {
            let seen = self.state.events.load(Ordering::SeqCst);
            if let Some(done) = self.scan()? {
                return Ok(done);
            }
            self.take_interrupt()?;
            futex_wait(&self.state.events, seen);
        }
    }

    /// Like [`wait_any`](Root::wait_any) but gives up with [`Error::TimedOut`] after `timeout`.
    pub fn wait_any_timeout(&mut self, timeout: Duration) -> Result<(usize, ExitStatus)> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.state.events.load(Ordering::SeqCst);
            if let Some(done) = self.scan()? {
                return Ok(done);
            }
            self.take_interrupt()?;
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::TimedOut);
            }
            futex_wait_timeout(&self.state.events, seen, deadline - now);
        }
    }

    /// A finished task if there is one, `None` if tasks are running but none has ended;
    /// [`Error::NoTasks`] when none is left.
    pub fn try_wait_any(&mut self) -> Result<Option<(usize, ExitStatus)>> {
        self.scan()
    }

    /// Sends `signal` to task `pipid` alone (`tgkill`).
    ///
    /// A signal whose default action would end the process (and that the program does not
    /// handle) ends only that task, reported as [`ExitStatus::Signaled`]. `SIGKILL` cannot be
    /// aimed at one thread, so it is delivered as [`kill_signal`](crate::signals::kill_signal)
    /// and reported as `SIGKILL`. Signal 0 only checks that the task runs.
    ///
    /// Errors: [`Error::InvalidPipid`], [`Error::NotRunning`].
    pub fn kill(&self, pipid: usize, signal: i32) -> Result<()> {
        let slot = self.check_pipid(pipid)?;
        if slot.state.load(Ordering::Acquire) != RUNNING {
            return Err(Error::NotRunning(pipid));
        }
        if !(0..=64).contains(&signal) {
            return Err(Error::InvalidArgument(format!(
                "{signal} is not a signal number"
            )));
        }
        let sig = if signal == libc::SIGKILL {
            crate::signals::kill_signal()
        } else {
            signal
        };
        crate::sys::tgkill(slot.tid.load(Ordering::Acquire), sig).map_err(|source| {
            match source.raw_os_error() {
                Some(libc::ESRCH) => Error::NotRunning(pipid),
                _ => Error::System {
                    op: "tgkill",
                    source,
                },
            }
        })
    }

    /// Kills every running task (as `kill(pipid, SIGKILL)`); returns how many were signalled.
    pub fn kill_all(&self) -> usize {
        (0..self.ntasks())
            .filter(|&p| self.kill(p, libc::SIGKILL).is_ok())
            .count()
    }

    /// Kills every task, then aborts the process (`SIGABRT`).
    pub fn abort(&self) -> ! {
        self.kill_all();
        std::process::abort()
    }

    /// The thread id of a running task (for tools and debuggers).
    pub fn tid(&self, pipid: usize) -> Result<i32> {
        let slot = self.check_pipid(pipid)?;
        match slot.state.load(Ordering::Acquire) {
            RUNNING => Ok(slot.tid.load(Ordering::Acquire)),
            _ => Err(Error::NotRunning(pipid)),
        }
    }

    /// The program a task runs (as given to spawn).
    pub fn program(&self, pipid: usize) -> Result<String> {
        Ok(self.check_pipid(pipid)?.program.lock().unwrap().clone())
    }

    /// Ends the root: an error ([`Error::TasksAlive`]) while tasks have not been waited for.
    /// After `fin`, another root may be initialised in this process.
    pub fn fin(&mut self) -> Result<()> {
        if self.finished {
            return Err(Error::NotInitialized);
        }
        let alive = self
            .state
            .tasks
            .iter()
            .filter(|s| {
                matches!(
                    s.state.load(Ordering::Acquire),
                    STARTING | RUNNING | FINISHED
                )
            })
            .count();
        if alive > 0 {
            return Err(Error::TasksAlive(alive));
        }
        self.finished = true;
        crate::task::clear_root_context();
        LIVE_ROOT.store(std::ptr::null_mut(), Ordering::Release);
        Ok(())
    }
}

impl Drop for Root {
    /// A root dropped without `fin` kills its remaining tasks and waits (a few seconds at most)
    /// for them, so that nothing runs on behind the program's back.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if self.kill_all() > 0
            || self
                .state
                .tasks
                .iter()
                .any(|s| s.state.load(Ordering::Acquire) == FINISHED)
        {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                match self.wait_any_timeout(deadline - Instant::now()) {
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
        }
        let _ = self.fin();
    }
}

fn default_stack_size() -> usize {
    std::env::var("PIP_STACKSIZE")
        .ok()
        .and_then(|s| crate::parse_size(&s))
        .unwrap_or(8 << 20)
        .max(1 << 20)
}

// --- The task thread ---------------------------------------------------------------------------

/// Everything the task thread needs, handed over through `pthread_create`.
struct TaskStart {
    slot: &'static TaskSlot,
    root: &'static RootState,
    image: Image,
    spawn: Spawn,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
}

/// Leaks a C string: argv and env strings must outlive the task (tasks keep pointers to them).
fn leak(s: &str) -> *const c_char {
    CString::new(s.replace('\0', "")).unwrap().into_raw()
}

impl TaskStart {
    fn new(slot: &TaskSlot, image: Image, spawn: Spawn, root: &'static RootState) -> TaskStart {
        let mut argv: Vec<*const c_char> = std::iter::once(spawn.program.display().to_string())
            .chain(spawn.args.iter().cloned())
            .map(|a| leak(&a))
            .collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const c_char> = spawn
            .environment()
            .iter()
            .map(|(k, v)| leak(&format!("{k}={v}")))
            .collect();
        envp.push(std::ptr::null());
        // SAFETY: `slot` lives in the leaked RootState.
        let slot: &'static TaskSlot = unsafe { &*(slot as *const TaskSlot) };
        TaskStart {
            slot,
            root,
            image,
            spawn,
            argv,
            envp,
        }
    }

    /// Applies the CPU core, private fd table and cwd. Runs before the root's `spawn` returns.
    fn setup(&self) -> std::result::Result<(), i32> {
        let errno = || {
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO)
        };
        if let Some(core) = self.spawn.core {
            // SAFETY: a zeroed cpu_set_t is empty; CPU_SET checks nothing, so bound `core`.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                if core >= libc::CPU_SETSIZE as usize {
                    return Err(libc::EINVAL);
                }
                libc::CPU_SET(core, &mut set);
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(errno());
                }
            }
        }
        let mut flags = 0;
        if self.spawn.private_fds {
            flags |= libc::CLONE_FILES;
        }
        if self.spawn.cwd.is_some() {
            flags |= libc::CLONE_FS;
        }
        // SAFETY: unshare on the calling thread only affects this thread's fd table / fs info.
        if flags != 0 && unsafe { libc::unshare(flags) } != 0 {
            return Err(errno());
        }
        if let Some(cwd) = &self.spawn.cwd {
            std::env::set_current_dir(cwd).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        }
        Ok(())
    }
}

/// Runs when the task's thread leaves its entry normally or by `exit()` (forced unwind):
/// after hook, stdio flush, then `FINISHED`.
struct Finish<'a> {
    start: &'a mut TaskStart,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let slot = self.start.slot;
        if let Some(after) = self.start.spawn.after.take() {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(after)).unwrap_or(1);
            if r != 0 && slot.status() == ExitStatus::Exited(0) {
                slot.status_value.store(r, Ordering::Release);
            }
        }
        // SAFETY: the flush functions belong to this task's image or libc and take no
        // arguments (fflush(NULL) flushes every stream of that libc).
        unsafe {
            if let Some(flush) = self.start.image.flush {
                flush();
            }
            match self.start.image.ns.and_then(|ns| ns.fflush) {
                Some(fflush) => {
                    fflush(std::ptr::null_mut());
                }
                None => {
                    libc::fflush(std::ptr::null_mut());
                }
            }
        }
        slot.record(ExitStatus::Exited(0));
        CURRENT_TASK.with(|c| c.set(std::ptr::null()));
        slot.publish_finished();
    }
}

/// `on_exit` handler for a namespace task's private libc: its `exit()` ends only the task.
unsafe extern "C-unwind" fn ns_on_exit(code: c_int, _arg: *mut c_void) {
    // Returns only when called on a thread that is not a task's main thread.
    // SAFETY: no ABI block is needed by op_task_exit.
    unsafe { op_task_exit(std::ptr::null(), code) };
}

/// The task thread's start routine. `C-unwind` because `exit()` in the task ends the thread with
/// a forced unwind that must pass through this frame (running `Finish`) to `pthread_create`'s
/// own frame.
unsafe extern "C-unwind" fn task_thread(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` is the Box<TaskStart> leaked by Root::spawn for this thread alone.
    let mut start = unsafe { Box::from_raw(arg as *mut TaskStart) };
    let slot = start.slot;
    slot.tid.store(gettid(), Ordering::Release);
    CURRENT_TASK.with(|c| c.set(slot));
    crate::sys::set_thread_name(&thread_name(slot.pipid, &start.spawn.program));
    *slot.alt_stack.lock().unwrap() = crate::signals::alt_stack();
    if let Err(e) = start.setup() {
        CURRENT_TASK.with(|c| c.set(std::ptr::null()));
        slot.setup_errno.store(e, Ordering::Release);
        slot.state.store(SETUP_FAILED, Ordering::Release);
        futex_wake(&slot.state, 1);
        return std::ptr::null_mut();
    }
    slot.state.store(RUNNING, Ordering::Release);
    futex_wake(&slot.state, 1);

    let root = start.root;
    let pipid = slot.pipid as c_int;
    let guard = Finish { start: &mut start };
    let start = &mut *guard.start;

    if let Some(ns) = start.image.ns {
        // SAFETY: the namespace libc's own symbols; `environ` is its `char **environ`.
        unsafe {
            if let Some(ci) = ns.ctype_init {
                ci();
            }
            if !ns.environ.is_null() {
                *ns.environ = start.envp.as_ptr();
            }
            if let Some(on_exit) = ns.on_exit {
                on_exit(ns_on_exit, std::ptr::null_mut());
            }
        }
    }
    if let Some(before) = start.spawn.before.take() {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(before)).unwrap_or(1);
        if r != 0 {
            slot.record(ExitStatus::Exited(r));
            drop(guard);
            return std::ptr::null_mut();
        }
    }
    stop_on_start(slot.pipid);
    if let Some(exit) = start.image.exit {
        slot.rust_exit.store(exit as usize, Ordering::Release);
    }
    if let Some(attach) = start.image.attach {
        // SAFETY: a pip-rs task's attach function (ABI checked at load); argv/envp are
        // null-terminated and leaked.
        let rc = unsafe { attach(&root.abi, pipid, start.argv.as_ptr(), start.envp.as_ptr()) };
        if rc != 0 {
            slot.record(ExitStatus::Exited(127));
            drop(guard);
            return std::ptr::null_mut();
        }
    }
    let code = match &start.spawn.function {
        Some((_, arg)) => {
            // SAFETY: the entry is `int f(void *)`, as the spawn asked for a start function.
            let f: unsafe extern "C-unwind" fn(*mut c_void) -> c_int =
                unsafe { std::mem::transmute(start.image.entry) };
            unsafe { f(*arg as *mut c_void) }
        }
        None => {
            // SAFETY: the entry is `int main(int, char **, char **)`.
            let f: unsafe extern "C-unwind" fn(
                c_int,
                *const *const c_char,
                *const *const c_char,
            ) -> c_int = unsafe { std::mem::transmute(start.image.entry) };
            unsafe {
                f(
                    (start.argv.len() - 1) as c_int,
                    start.argv.as_ptr(),
                    start.envp.as_ptr(),
                )
            }
        }
    };
    slot.record(ExitStatus::Exited(code));
    drop(guard);
    std::ptr::null_mut()
}

/// PiP's thread name: the last digit of the pipid, `|` for thread mode, then the program name.
fn thread_name(pipid: usize, program: &std::path::Path) -> String {
    let base = program
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = base.strip_prefix("lib").unwrap_or(&base);
    let base = base.strip_suffix(".so").unwrap_or(base);
    format!("{}|{}", pipid % 10, base)
}

/// `PIP_STOP_ON_START=N` stops the process (`SIGSTOP`) when task N starts; a negative N stops
/// at every task. Continue with `kill -CONT <pid>` after attaching a debugger.
fn stop_on_start(pipid: usize) {
    let Some(v) = std::env::var("PIP_STOP_ON_START")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return;
    };
    if v < 0 || v as usize == pipid {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        eprintln!("pip: task {pipid} (tid {}) stopped on start (PIP_STOP_ON_START); attach with `gdb -p {pid}`, continue with `kill -CONT {pid}`", gettid());
        // SAFETY: stops the process; it continues on SIGCONT.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
    }
}

/// The pipid of the task on the calling thread, if it is a task's main thread.
pub fn current_pipid() -> Option<usize> {
    current_task().map(|s| s.pipid)
}

/// The running roots' bookkeeping says whether `exit` is interposed (for pip-check).
pub fn exit_is_exported() -> bool {
    // SAFETY: dlsym with RTLD_DEFAULT and a valid name.
    let exported = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"exit".as_ptr()) };
    exported as *const c_void == crate::task::interposer_address()
}
