//! The logic of the pip tools (`pip-exec`, `pip-check`, `pip-mode`, `printpipmode`, `pips`),
//! kept here so that tests can call it; the binaries in `src/bin` are thin. [`generate`] writes
//! their man pages and shell completions.
#![warn(missing_docs)]

pub mod check;
pub mod cmdline;
pub mod exec;
pub mod generate;
pub mod mode;
pub mod pips;
pub mod reaper;

/// Names the calling (root) thread as PiP does: `R|` then the program name, so that tools can
/// find the job's root.
pub fn set_root_thread_name() {
    let exe = std::env::args_os().next().unwrap_or_default();
    let base = std::path::Path::new(&exe)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = std::ffi::CString::new(format!("R|{base}").chars().take(15).collect::<String>())
        .unwrap_or_default();
    // SAFETY: PR_SET_NAME reads a NUL-terminated string (truncated to 16 bytes by the kernel).
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong, 0, 0, 0) };
}

/// Gives `SIGPIPE` its default action again, as a C program has it: a tool whose reader went
/// away (`pip-check *.so | head -1`) then ends quietly, killed by `SIGPIPE` as `cat` would be,
/// instead of failing on `EPIPE` (Rust ignores `SIGPIPE` before `main`, and `println!` panics
/// on the error). Called first thing in `main` by the tools that print; a tool that writes to
/// sockets or to other programs' pipes must guard those writes itself (see
/// [`pips::render::dot_to_svg`] and `pips serve`).
pub fn default_sigpipe() {
    // SAFETY: setting a signal's disposition to SIG_DFL has no memory-safety preconditions;
    // nothing else in the process has installed a handler for SIGPIPE.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// Ignores `SIGPIPE` in the whole process, so that a write to a closed socket or pipe fails
/// with `EPIPE` instead of ending the process (what `pips serve` needs once it serves).
pub fn ignore_sigpipe() {
    // SAFETY: as in `default_sigpipe`: only a disposition changes.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Blocks `SIGPIPE` in the calling thread only: a write of this thread to a pipe whose reader
/// has gone then fails with `EPIPE`, whatever the process's disposition (the signal stays
/// pending on the thread and is discarded when it ends).
pub fn block_sigpipe_in_this_thread() {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use; pthread_sigmask
    // changes only this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}
