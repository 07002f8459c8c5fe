//! Initialising a root: [`RootBuilder`]'s options, the checks, and the shared state it builds
//! (the ABI block, the task slots, the wait board).

use super::ops::*;
use super::state::*;
use super::{env, exit_is_exported, Root, MAX_TASKS};
use crate::abi::{RootAbi, RootOps, ABI_VERSION, ROOT_MAGIC};
use crate::error::{Error, Result};
use crate::root::loader::Loader;
use crate::{Isolation, Mode};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Options for [`Root::init`]; start with [`Root::builder`].
#[derive(Debug)]
pub struct RootBuilder {
    pub(super) ntasks: usize,
    pub(super) isolation: Isolation,
    pub(super) export: *mut c_void,
    pub(super) catch_termination: bool,
    pub(super) mode: Mode,
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

    /// Refuses a request that cannot work: a bad task count, a task as root, a root program
    /// that does not export `exit`, more namespace tasks than namespaces are left.
    fn check(&self) -> Result<()> {
        if self.ntasks == 0 || self.ntasks > MAX_TASKS {
            return Err(Error::InvalidTaskCount {
                requested: self.ntasks,
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
        if self.isolation == Isolation::Namespace {
            let left = crate::root::loader::namespaces_left();
            if self.ntasks > left {
                let (limit, why) = crate::root::loader::namespace_limit();
                return Err(Error::NamespaceLimit {
                    limit: limit.min(left),
                    why,
                });
            }
        }
        Ok(())
    }

    /// Initialises the root. See [`Root::init`].
    pub fn init(self) -> Result<Root> {
        Root::init_with(self)
    }
}

impl Root {
    pub(super) fn init_with(b: RootBuilder) -> Result<Root> {
        b.check()?;
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
            abi: new_abi(&b, board_ptr),
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
            .map(|pipid| new_slot(pipid, root_ptr))
            .collect();
        let state: &'static RootState = state;
        // SYNC(root#the-live-root): AcqRel: publishes the complete state to the Acquire loads of readers, and sees an earlier live root
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
        crate::task::set_exit_hook(before_libc_exit);
        Ok(Root {
            state,
            loader: Loader::new(job_env.full_image),
            next: 0,
            finished: false,
        })
    }
}

/// The root's side of the ABI for the job `b` describes.
fn new_abi(b: &RootBuilder, board_ptr: *mut crate::waits::BoardHeader) -> RootAbi {
    RootAbi {
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
    }
}

/// The slot of task `pipid`, free.
fn new_slot(pipid: usize, root: *const RootState) -> TaskSlot {
    TaskSlot {
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
        root,
    }
}
