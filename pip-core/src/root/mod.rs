//! The root: initialise a job, spawn tasks, wait for them, signal them.
//!
//! # Life of a task (thread mode)
//!
//! 1. [`Root::spawn`] (on the root's thread) claims a pipid, loads a private copy of the program
//!    ([`loader`]), and creates the task's thread. Slot state: `FREE -> STARTING`.
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
//!    * a fatal signal ([`crate::root::signals`]): the handler records it and ends the thread at once.
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
use crate::root::loader::{Image, Loader};
use crate::sys::{futex_wait, futex_wait_timeout, futex_wake, gettid};
use crate::{ExitStatus, Isolation, Mode, Spawn};
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The largest task count a root accepts.
pub const MAX_TASKS: usize = 4096;

pub mod alloc_guard;
pub mod bridge;
mod env;
pub(crate) mod exit_handlers;
pub(crate) mod loader;
pub(crate) mod loading;
mod ops;
pub mod signals;
mod state;
mod thread;

use ops::*;
use state::*;
pub(crate) use state::{current_task, end_task_from_signal, interrupt};
use thread::*;

/// Options for [`Root::init`]; start with [`Root::builder`].
#[derive(Debug)]
pub struct RootBuilder {
    ntasks: usize,
    isolation: Isolation,
    export: *mut c_void,
    catch_termination: bool,
    mode: Mode,
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

    /// The execution mode of every task of this job (default: [`Mode::Thread`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// When true, `SIGINT`, `SIGTERM` and `SIGHUP` sent to the process no longer end it: the
    /// root's waits return [`Error::Interrupted`] instead, so the root can end its tasks and
    /// report (pip-exec does this). Default: false.
    ///
    /// Only the first one is caught: a second one ends the process at once (so a second Ctrl-C
    /// always works). One that arrives while [`Root::spawn`] loads a program (its constructors
    /// run then, and could run forever) ends the process too, after a message naming the task.
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
            mode: Mode::Thread,
        }
    }

    /// Initialises a root for up to `ntasks` tasks with default options
    /// (`shared-libc` isolation).
    ///
    /// Every task keeps its image open as a memfd (at fd 1024 or above), so this raises the
    /// process's soft open-file limit to `1024 + ntasks + 64` when it is lower, up to the hard
    /// limit.
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
        if !exit_is_exported() {
            return Err(Error::ExitNotExported);
        }
        if b.isolation == Isolation::Namespace {
            let left = crate::root::loader::namespaces_left();
            if b.ntasks > left {
                let (limit, why) = crate::root::loader::namespace_limit();
                return Err(Error::NamespaceLimit {
                    limit: limit.min(left),
                    why,
                });
            }
        }
        let job_env = env::JobEnv::read(b.ntasks)?;
        // The wait board is advisory: without one (PIP_WAIT_BOARD=0, or no memfd) the job
        // runs the same, and `pips waits` sees only what procfs shows.
        let board = if !job_env.wait_board {
            None
        } else {
            crate::waits::Board::create(b.ntasks)
        };
        let board_ptr = board.as_ref().map_or(std::ptr::null_mut(), |b| b.as_ptr());
        let state: &'static mut RootState = Box::leak(Box::new(RootState {
            abi: RootAbi {
                magic: ROOT_MAGIC,
                version: ABI_VERSION,
                size: std::mem::size_of::<RootAbi>() as u32,
                ops_size: std::mem::size_of::<RootOps>() as u32,
                ntasks: b.ntasks as u32,
                isolation: b.isolation as u32,
                mode: b.mode as u32,
                root_export: AtomicPtr::new(b.export),
                wait_board: AtomicPtr::new(board_ptr),
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
            mode: b.mode,
            tasks: Box::new([]),
            events: AtomicU32::new(0),
            exports_seq: AtomicU32::new(0),
            named: Mutex::new(HashMap::new()),
            interrupt: AtomicI32::new(0),
            catch_termination: b.catch_termination,
            interrupts: AtomicU32::new(0),
            board: Mutex::new(board),
            env: job_env,
        }));
        let root_ptr: *const RootState = state;
        state.tasks = (0..b.ntasks)
            .map(|pipid| TaskSlot {
                pipid,
                state: AtomicU32::new(FREE),
                status_kind: AtomicU32::new(ST_NONE),
                status_value: AtomicI32::new(0),
                setup_errno: AtomicI32::new(0),
                setup_step: AtomicU32::new(0),
                tid: AtomicI32::new(0),
                export: AtomicPtr::new(std::ptr::null_mut()),
                aux: AtomicPtr::new(std::ptr::null_mut()),
                thread: AtomicUsize::new(0),
                alt_stack: Mutex::new(None),
                program: Mutex::new(String::new()),
                rust_exit: AtomicUsize::new(0),
                exit_key: AtomicI32::new(-1),
                process_start: AtomicPtr::new(std::ptr::null_mut()),
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
        crate::root::loader::raise_open_file_limit(b.ntasks);
        crate::root::signals::install();
        crate::task::set_root_context(&state.abi);
        crate::task::set_exit_hook(ops::before_libc_exit);
        Ok(Root {
            state,
            loader: Loader::new(job_env.full_image),
            next: 0,
            finished: false,
        })
    }

    /// The number of tasks this root was initialised for.
    pub fn ntasks(&self) -> usize {
        self.state.tasks.len()
    }

    /// The isolation level of this job.
    pub fn mode(&self) -> Mode {
        self.state.mode
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
        let image = {
            // The program's constructors run in here: a fault or a termination signal while
            // they run is reported as this task's (see crate::root::loading).
            let _loading = crate::root::loading::begin(pipid, &spawn.program);
            self.loader
                .load(&spawn.program, spawn.entry_symbol(), self.state.isolation)?
        };
        let slot = &self.state.tasks[pipid];
        *slot.program.lock().unwrap() = spawn.program.display().to_string();
        slot.exit_key.store(image.exit_key, Ordering::Release);
        slot.aux.store(spawn.aux, Ordering::Release);
        slot.state.store(STARTING, Ordering::Release);
        self.next = pipid + 1;

        let stack_size = spawn.stack_size.unwrap_or(self.state.env.stack_size);
        let start = Box::new(TaskStart::new(slot, image, spawn, self.state, stack_size));
        // SAFETY: plain pthread attribute set-up, checked below.
        let mut thread: libc::pthread_t = 0;
        let rc = unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            libc::pthread_attr_init(&mut attr);
            // In process mode the task runs on its own stack; the host thread only waits.
            let thread_stack = if self.state.mode == Mode::Process {
                256 << 10
            } else {
                stack_size
            };
            libc::pthread_attr_setstacksize(&mut attr, thread_stack.max(libc::PTHREAD_STACK_MIN));
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
                op: "creating the task thread (is PIP_STACKSIZE or Spawn::stack_size too large?)",
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
                    let step = SetupStep::from_u32(slot.setup_step.load(Ordering::Acquire));
                    return Err(Error::System {
                        op: step.op(),
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

    /// Publishes on the wait board that the root waits for task `peer` (or any) to end.
    fn publish_wait(&self, peer: i32) -> crate::waits::Published {
        let mut w = crate::waits::WaitInfo::new(crate::waits::WaitKind::TaskEnd);
        w.peer = peer;
        // SAFETY: the board, if any, is this root's and is never unmapped; its last slot is
        // the root's.
        unsafe {
            crate::waits::publish_in(
                self.state.abi.wait_board.load(Ordering::Acquire),
                self.state.tasks.len(),
                &w,
            )
        }
    }

    /// Waits for task `pipid` to end and returns how it ended.
    ///
    /// Errors: [`Error::InvalidPipid`], [`Error::NoSuchTask`] (never spawned or already
    /// waited for), [`Error::Interrupted`].
    pub fn wait(&mut self, pipid: usize) -> Result<ExitStatus> {
        let slot = self.check_pipid(pipid)?;
        let mut published = None;
        loop {
            let seen = self.state.events.load(Ordering::SeqCst);
            match slot.state.load(Ordering::Acquire) {
                FINISHED => return Ok(self.reap(slot)),
                RUNNING | STARTING => {}
                _ => return Err(Error::NoSuchTask(pipid)),
            }
            self.take_interrupt()?;
            published.get_or_insert_with(|| self.publish_wait(pipid as i32));
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
        let mut published = None;
        loop {
            let seen = self.state.events.load(Ordering::SeqCst);
            if let Some(done) = self.scan()? {
                return Ok(done);
            }
            self.take_interrupt()?;
            published.get_or_insert_with(|| self.publish_wait(crate::waits::ANY));
            futex_wait(&self.state.events, seen);
        }
    }

    /// Like [`wait_any`](Root::wait_any) but gives up with [`Error::TimedOut`] after `timeout`.
    pub fn wait_any_timeout(&mut self, timeout: Duration) -> Result<(usize, ExitStatus)> {
        let deadline = Instant::now() + timeout;
        let mut published = None;
        loop {
            let seen = self.state.events.load(Ordering::SeqCst);
            if let Some(done) = self.scan()? {
                return Ok(done);
            }
            self.take_interrupt()?;
            published.get_or_insert_with(|| self.publish_wait(crate::waits::ANY));
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

    /// Sends `signal` to task `pipid` alone.
    ///
    /// Thread mode (`tgkill`): a signal whose default action would end the process (and that
    /// the program does not handle) ends only that task, reported as [`ExitStatus::Signaled`].
    /// `SIGKILL` cannot be aimed at one thread, so it is delivered as
    /// [`kill_signal`](crate::root::signals::kill_signal) and reported as `SIGKILL`. Process mode
    /// (`kill`): the task is a process, so the signal acts on it as on any process; `SIGKILL`
    /// is sent as the kill signal to the task's main thread, which ends it with `SIGKILL` at
    /// once, or after the allocator call it is in when the root carries
    /// [`guard_allocator!`](crate::guard_allocator). Signal 0 only checks that the task runs.
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
        let sent = self.state.signal_task(slot, signal);
        sent.map_err(|source| match source.raw_os_error() {
            Some(libc::ESRCH) => Error::NotRunning(pipid),
            _ => Error::System {
                op: "sending a signal to the task",
                source,
            },
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
        if let Some(b) = self
            .state
            .board
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            b.close_fd();
        }
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

/// The pipid of the task on the calling thread, if it is a task's main thread.
pub fn current_pipid() -> Option<usize> {
    current_task().map(|s| s.pipid)
}

/// True if this program exports pip-core's `exit` interposer, so that tasks bind to it (a
/// root needs this; see [`Error::ExitNotExported`]).
pub fn exit_is_exported() -> bool {
    // SAFETY: dlsym with RTLD_DEFAULT and a valid name.
    let exported = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"exit".as_ptr()) };
    std::ptr::eq(exported, crate::task::interposer_address())
}
