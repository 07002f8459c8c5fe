//! The root: initialise a job, spawn tasks, wait for them, signal them.
//!
//! # Life of a task (thread mode)
//!
//! 1. [`Root::spawn`] (on the root's thread) claims a pipid, loads a private copy of the program
//!    ([`loader`]), and creates the task's thread. Slot state: `FREE -> STARTING`.
//! 2. The task thread (`task_thread`) takes the start-up steps of [`StartStep`], in this order:
//!    it [names itself](StartStep::NameThread), [records its tid](StartStep::RecordTid)
//!    (thread mode), [applies the CPU core, `unshare` and `chdir`](StartStep::Setup), then
//!    [publishes `RUNNING`](StartStep::PublishRunning) (or `SETUP_FAILED`) and wakes the root,
//!    which waits for this before `spawn` returns (so `kill` always has a tid).
//! 3. It [sets up the namespace libc](StartStep::NamespaceLibc), runs the
//!    [before hook](StartStep::BeforeHook), [`PIP_STOP_ON_START`](StartStep::StopOnStart),
//!    [hands a Rust task its context](StartStep::Attach) (`pip_rs_task_attach`), and
//!    [calls the entry](StartStep::Entry).
//! 4. It ends in one of three ways, each of which records an [`ExitStatus`] *before* publishing
//!    `FINISHED` (Release) and waking the root:
//!    * the entry returns: the status is its return value (or `Panicked`);
//!    * the task calls `exit()`: the interposed `exit` calls [`RootOps::task_exit`](crate::abi::RootOps::task_exit), which
//!      records the code and calls `pthread_exit`; the forced unwind runs the task's destructors;
//!    * a fatal signal ([`crate::root::signals`]): the handler records it and ends the thread at once.
//!
//!    In the first two cases a drop guard (`Finish`) runs the after hook and flushes the task's
//!    stdio first.
//! 5. [`Root::wait`] sees `FINISHED` (Acquire), joins the thread and marks the slot `WAITED`.
//!
//! # Events and exports
//!
//! The root sleeps on one futex word, `events`, which every ending task increments and wakes.
//! Waiters read `events`, scan the slots, and sleep only if `events` is unchanged, so no ending is
//! missed. Named imports sleep on a second word, `exports_seq`, bumped by every export and every
//! ending task (an import from a task that ended must fail, not wait forever).
//!
//! # Slot fields
//!
//! A task slot's fields other than `state` (tid, thread handle, exit key, aux, status, set-up
//! error, process-mode start block) are written before the `state` store that publishes them
//! (Release) or before the task thread is created, and read after an Acquire load of `state`
//! (or of the field itself, for fields a task may change while running: aux, export). Each is
//! written by one side only: the root before the task starts, the task thread while it starts
//! and ends.
//!
//! # The live root
//!
//! `LIVE_ROOT` points to the one live root's state: set with a compare-exchange (AcqRel) by
//! [`Root::init`], after the state is built, so that a reader that loads it (Acquire: the bridge,
//! the signal handlers, `pip_rs_current_task`) sees the state complete; cleared (Release) by
//! [`Root::fin`] once every task was waited for.

use crate::abi::{RootAbi, PIPID_ROOT};
use crate::error::{Error, Result};
use crate::root::loader::{Image, Loader};
use crate::sys::{futex_wait, futex_wake, gettid};
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
mod builder;
mod env;
pub(crate) mod exit_handlers;
pub(crate) mod loader;
pub(crate) mod loading;
mod ops;
pub mod signals;
mod state;
mod thread;
mod wait;

pub use builder::RootBuilder;
use state::*;
pub(crate) use state::{current_task, end_task_from_signal, interrupt};
use thread::*;

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
            // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
            Some(p) if self.state.tasks[p].state.load(Ordering::Acquire) != FREE => {
                return Err(Error::PipidInUse(p))
            }
            Some(p) => p,
            None => (0..n)
                .map(|i| (self.next + i) % n)
                // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
                .find(|&p| self.state.tasks[p].state.load(Ordering::Acquire) == FREE)
                .ok_or(Error::TooManyTasks { ntasks: n })?,
        };
        let image = {
            // The program's constructors run in here: a fault or a termination signal while
            // they run is reported as this task's (see crate::root::loading).
            let _loading = crate::root::loading::begin(pipid, &spawn.program);
            self.loader
                // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
                .load(&spawn.program, spawn.entry_symbol(), self.state.isolation)?
        };
        let slot = &self.state.tasks[pipid];
        *slot.program.lock().unwrap() = spawn.program.display().to_string();
        // SYNC(root#slot-fields): written before the task thread is created
        slot.exit_key.store(image.exit_key, Ordering::Release);
        // SYNC(root#slot-fields): written before the task thread is created; Release pairs with the Acquire load of `aux` calls
        slot.aux.store(spawn.aux, Ordering::Release);
        // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
        slot.state.store(STARTING, Ordering::Release);
        self.next = pipid + 1;

        let stack_size = spawn.stack_size.unwrap_or(self.state.env.stack_size);
        let start = Box::new(TaskStart::new(slot, image, spawn, self.state, stack_size));
        let mut thread: libc::pthread_t = 0;
        // SAFETY: plain pthread attribute set-up, checked below.
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
            // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
            slot.state.store(WAITED, Ordering::Release);
            return Err(Error::System {
                op: "creating the task thread (is PIP_STACKSIZE or Spawn::stack_size too large?)",
                source: std::io::Error::from_raw_os_error(rc),
            });
        }
        // SYNC(root#slot-fields): the thread handle, written before the task can end; taken once (AcqRel) by the joiner
        slot.thread.store(thread as usize, Ordering::Release);
        loop {
            // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
            let st = slot.state.load(Ordering::Acquire);
            if st != STARTING {
                if st == SETUP_FAILED {
                    self.join(slot);
                    // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
                    slot.state.store(WAITED, Ordering::Release);
                    // SYNC(root#slot-fields): read after SETUP_FAILED (Acquire); pairs with the Release store of the task thread
                    let step = SetupStep::from_u32(slot.setup_step.load(Ordering::Acquire));
                    return Err(Error::System {
                        op: step.op(),
                        source: std::io::Error::from_raw_os_error(
                            // SYNC(root#slot-fields): read after SETUP_FAILED (Acquire); pairs with the Release store of the task thread
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
        // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
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
        // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
        match slot.state.load(Ordering::Acquire) {
            // SYNC(root#slot-fields): read after RUNNING (Acquire); the task thread wrote it before
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
                    // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
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
        // SYNC(root#the-live-root): cleared (Release) once every task was waited for
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
                // SYNC(root#slot-fields): Acquire pairs with the task thread's Release stores (RUNNING, SETUP_FAILED, FINISHED); the root's own stores (STARTING, WAITED) Release the fields written before them
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
