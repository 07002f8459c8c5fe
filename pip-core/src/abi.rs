//! The root/task ABI: everything the root and its tasks share, laid out `#[repr(C)]`.
//!
//! The root (pip-exec, or any program that calls [`Root::init`](crate::Root::init)) and its
//! tasks may be different builds, even of different pip-core versions. They share exactly two
//! things, both checked on both sides before any task code runs:
//!
//! * [`RootAbi`], owned by the root: a magic number, the ABI version, the sizes of the struct
//!   and of its function table, the job's shape, and [`RootOps`], the functions a task calls to
//!   reach root-side state (exports, exit, aux). A task never reads the root's internal data
//!   structures, so they may change freely between versions.
//! * [`TaskAbiInfo`], a static exported by every Rust task (symbol [`TASK_INFO_SYMBOL`]): the
//!   root reads it before running the task and refuses a task whose ABI differs.
//!
//! The root hands a task its context by calling the task's exported `pip_rs_task_attach`
//! (in the task module, `pip_core::task`) on the task's thread, before the entry point. The task checks the
//! magic, version and sizes again and refuses to run on a mismatch.
//!
//! Every function in [`RootOps`] returns 0 or an `errno` value, as PiP's C API does.

use std::ffi::{c_int, c_void};
use std::sync::atomic::AtomicPtr;

/// `"PIPRSRT\x01"`: marks a [`RootAbi`].
pub const ROOT_MAGIC: u64 = u64::from_le_bytes(*b"PIPRSRT\x01");
/// `"PIPRSTK\x01"`: marks a [`TaskAbiInfo`].
pub const TASK_MAGIC: u64 = u64::from_le_bytes(*b"PIPRSTK\x01");
/// The version of this ABI. Bumped on any change to the shared structs or their meaning.
pub const ABI_VERSION: u32 = 2;
/// The name of the [`TaskAbiInfo`] static in a task.
pub const TASK_INFO_SYMBOL: &str = "pip_rs_task_abi";
/// The pipid value that stands for the root in the ABI.
pub const PIPID_ROOT: c_int = -1;

/// The root's side of the ABI. Lives as long as the process (it is never freed, since tasks
/// keep pointers to it).
#[repr(C)]
pub struct RootAbi {
    /// [`ROOT_MAGIC`].
    pub magic: u64,
    /// [`ABI_VERSION`].
    pub version: u32,
    /// `size_of::<RootAbi>()` as the root was built.
    pub size: u32,
    /// `size_of::<RootOps>()` as the root was built.
    pub ops_size: u32,
    /// The number of tasks the root was initialised for.
    pub ntasks: u32,
    /// The isolation level (0 = shared-libc, 1 = namespace).
    pub isolation: u32,
    /// The execution mode (0 = thread).
    pub mode: u32,
    /// The root's export (see [`crate::root_export`]).
    pub root_export: AtomicPtr<c_void>,
    /// The job's wait board (see [`crate::waits`]), or null if the root has none. Set before
    /// any task starts; the mapping is never removed.
    pub wait_board: AtomicPtr<crate::waits::BoardHeader>,
    /// The functions a task calls into the root.
    pub ops: RootOps,
}

/// Root functions that tasks call. Each takes the [`RootAbi`] it was found in.
#[repr(C)]
pub struct RootOps {
    /// Ends the calling task with `code` if the caller is a task's main thread (does not
    /// return then); returns `ESRCH` otherwise.
    pub task_exit: unsafe extern "C-unwind" fn(*const RootAbi, c_int) -> c_int,
    /// Marks the task as having panicked (its entry then returns 101).
    pub task_panicked: unsafe extern "C" fn(*const RootAbi, c_int),
    /// Sets the unnamed export of `pipid`.
    pub export: unsafe extern "C" fn(*const RootAbi, c_int, *mut c_void) -> c_int,
    /// Reads the unnamed export of `pipid` (null if none).
    pub import: unsafe extern "C" fn(*const RootAbi, c_int, *mut *mut c_void) -> c_int,
    /// `named_export(abi, me, name, name_len, addr)`.
    pub named_export:
        unsafe extern "C" fn(*const RootAbi, c_int, *const u8, usize, *mut c_void) -> c_int,
    /// `named_import(abi, me, from, name, name_len, block, out)`.
    pub named_import: unsafe extern "C" fn(
        *const RootAbi,
        c_int,
        c_int,
        *const u8,
        usize,
        c_int,
        *mut *mut c_void,
    ) -> c_int,
    /// `aux(abi, pipid, set, value_inout)`: reads (set = 0) or writes the task's aux pointer.
    pub aux: unsafe extern "C" fn(*const RootAbi, c_int, c_int, *mut *mut c_void) -> c_int,
}

/// The task's side of the ABI: a static every Rust task exports as [`TASK_INFO_SYMBOL`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskAbiInfo {
    /// [`TASK_MAGIC`].
    pub magic: u64,
    /// [`ABI_VERSION`] the task was built with.
    pub version: u32,
    /// `size_of::<RootAbi>()` the task expects.
    pub root_size: u32,
    /// `size_of::<RootOps>()` the task expects.
    pub ops_size: u32,
    /// Reserved, zero.
    pub reserved: u32,
}

impl TaskAbiInfo {
    /// The info this build of pip-core exports.
    pub const CURRENT: TaskAbiInfo = TaskAbiInfo {
        magic: TASK_MAGIC,
        version: ABI_VERSION,
        root_size: std::mem::size_of::<RootAbi>() as u32,
        ops_size: std::mem::size_of::<RootOps>() as u32,
        reserved: 0,
    };

    /// Checks a task's info against this build; `Err` says what differs.
    pub fn check(&self) -> Result<(), String> {
        let me = &Self::CURRENT;
        if self.magic != me.magic {
            return Err(format!("the task's ABI block has magic {:#x}, expected {:#x} (not a pip-rs task, or a damaged one)", self.magic, me.magic));
        }
        if self.version != me.version
            || self.root_size != me.root_size
            || self.ops_size != me.ops_size
        {
            return Err(format!(
                "the task was built with pip-core ABI v{} (root struct {} bytes, ops {} bytes) but the root has v{} ({} and {} bytes); rebuild the task and the root with the same pip-core version",
                self.version, self.root_size, self.ops_size, me.version, me.root_size, me.ops_size
            ));
        }
        Ok(())
    }
}

impl RootAbi {
    /// Checks a root's ABI block against this build; `Err` says what differs.
    pub fn check(&self) -> Result<(), String> {
        if self.magic != ROOT_MAGIC {
            return Err(format!(
                "the root's ABI block has magic {:#x}, expected {:#x}",
                self.magic, ROOT_MAGIC
            ));
        }
        let (size, ops) = (
            std::mem::size_of::<RootAbi>() as u32,
            std::mem::size_of::<RootOps>() as u32,
        );
        if self.version != ABI_VERSION || self.size != size || self.ops_size != ops {
            return Err(format!(
                "the root was built with pip-core ABI v{} (root struct {} bytes, ops {} bytes) but this task has v{} ({} and {} bytes); rebuild the task and the root with the same pip-core version",
                self.version, self.size, self.ops_size, ABI_VERSION, size, ops
            ));
        }
        Ok(())
    }
}
