//! What a task object does when it is run as a program (`./libtask.so`): print
//! `this is a PiP task: run it with pip-exec -n N ./libtask.so` on stderr and exit with 2,
//! instead of crashing at address 0.
//!
//! The kernel runs a shared object without an interpreter by jumping to its ELF entry point
//! with nothing relocated and no libc set up, so the entry is a few position-independent
//! instructions making raw system calls (`direct_run_x86_64.s`). It defines `_start` as a weak
//! hidden alias: both GNU ld and lld make `_start` the entry of a shared object when it is
//! defined, so no linker option is needed. In a program, the C runtime's strong `_start` wins,
//! so programs linking pip-core are unchanged. [`task_main!`](crate::task_main) and
//! [`task_function!`](crate::task_function) reference the entry so that the linker keeps it in
//! the task. pipcc puts the same code into C tasks it links with `-shared`
//! ([`ENTRY_ASM`]). x86-64 only for now; elsewhere a task run as a program still crashes.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
core::arch::global_asm!(include_str!("direct_run_x86_64.s"));

/// The entry's assembly (Intel syntax, for an assembler that starts in AT&T syntax put
/// `.intel_syntax noprefix` first), for compiler drivers that link C tasks.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub const ENTRY_ASM: &str = include_str!("direct_run_x86_64.s");

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
extern "C" {
    /// The entry point of a task object run as a program; never called from Rust (it reads the
    /// initial process stack). Referenced by the task macros to keep it linked.
    pub fn pip_rs_direct_run() -> !;
}

/// Keeps the direct-run entry in the task being built; used by the task macros.
#[doc(hidden)]
#[macro_export]
macro_rules! __keep_direct_run_entry {
    () => {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        const _: () = {
            #[used]
            static PIP_RS_DIRECT_RUN: unsafe extern "C" fn() -> ! =
                $crate::direct_run::pip_rs_direct_run;
        };
    };
}
