//! The constants of `pip.h`, with the same values (PiP v2.0).

use std::ffi::c_int;

/// `PIP_MODE_PTHREAD`: tasks are threads of the root's process.
pub const PIP_MODE_PTHREAD: u32 = 0x1000;
/// `PIP_MODE_PROCESS`: a process mode (pip-core's; see `docs/c-api.md`).
pub const PIP_MODE_PROCESS: u32 = 0x2000;
/// `PIP_MODE_PROCESS_PRELOAD` (refused: needs PiP's patched glibc or an old one).
pub const PIP_MODE_PROCESS_PRELOAD: u32 = 0x2100;
/// `PIP_MODE_PROCESS_PIPCLONE` (refused: needs PiP's patched glibc).
pub const PIP_MODE_PROCESS_PIPCLONE: u32 = 0x2200;
/// `PIP_MODE_PROCESS_GOT` (refused: needs an old glibc).
pub const PIP_MODE_PROCESS_GOT: u32 = 0x2400;
/// `PIP_MODE_MASK`.
pub const PIP_MODE_MASK: u32 = 0xFF00;
/// `PIP_VALID_OPTS`: every bit `pip_init` accepts in `opts`.
pub const PIP_VALID_OPTS: u32 =
    PIP_MODE_PTHREAD | PIP_MODE_PROCESS_PRELOAD | PIP_MODE_PROCESS_PIPCLONE | PIP_MODE_PROCESS_GOT;

/// `PIP_PIPID_ROOT`.
pub const PIP_PIPID_ROOT: c_int = -748;
/// `PIP_PIPID_MYSELF`: the caller.
pub const PIP_PIPID_MYSELF: c_int = -749;
/// `PIP_PIPID_ANY`: any pipid (spawning: the next free one).
pub const PIP_PIPID_ANY: c_int = -750;
/// `PIP_PIPID_NULL`: no pipid.
pub const PIP_PIPID_NULL: c_int = -751;

/// `PIP_NTASKS_MAX`: the largest task count of `pip_init`.
pub const PIP_NTASKS_MAX: c_int = 300;

/// `PIP_CPUCORE_FLAG_SHIFT`.
pub const PIP_CPUCORE_FLAG_SHIFT: u32 = 24;
/// `PIP_CPUCORE_FLAG_MASK`.
pub const PIP_CPUCORE_FLAG_MASK: u32 = 0xFF << PIP_CPUCORE_FLAG_SHIFT;
/// `PIP_CPUCORE_ASIS`: do not pin the task.
pub const PIP_CPUCORE_ASIS: u32 = 1 << PIP_CPUCORE_FLAG_SHIFT;
/// `PIP_CPUCORE_ABS`: the core number is an absolute CPU number.
pub const PIP_CPUCORE_ABS: u32 = 2 << PIP_CPUCORE_FLAG_SHIFT;
/// `PIP_CPUCORE_CORENO_MASK`.
pub const PIP_CPUCORE_CORENO_MASK: u32 = (1 << PIP_CPUCORE_FLAG_SHIFT) - 1;
/// `PIP_CPUCORE_CORENO_MAX`.
pub const PIP_CPUCORE_CORENO_MAX: u32 = (1 << 20) - 1;

/// `PIP_YIELD_DEFAULT`.
pub const PIP_YIELD_DEFAULT: c_int = 0;
/// `PIP_YIELD_USER`.
pub const PIP_YIELD_USER: c_int = 1;
/// `PIP_YIELD_SYSTEM`.
pub const PIP_YIELD_SYSTEM: c_int = 2;

/// The PiP API version this library implements (`libpip.so --version`).
pub const PIP_API_VERSION: &str = "2.0.0";
