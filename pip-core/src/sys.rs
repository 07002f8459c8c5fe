//! Thin wrappers over the Linux calls pip-core needs and std does not expose.
//!
//! All tasks share one address space (one `mm`), so process-private futexes
//! (`FUTEX_PRIVATE_FLAG`) are enough for every wait in pip-core.

use std::io;

/// The calling thread's kernel thread id.
pub(crate) fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

pub(crate) use crate::futex::{
    wait as futex_wait, wait_timeout as futex_wait_timeout, wake as futex_wake,
};

/// Sends `sig` to one thread of this process.
pub(crate) fn tgkill(tid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: plain system call; an invalid tid gives ESRCH.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, sig) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Ends the calling thread at once, without unwinding or running any cleanup (the kernel clears
/// the thread id and wakes `pthread_join`). Used only from the fault handler, where nothing else
/// is safe. Async-signal-safe.
pub(crate) fn exit_thread_now() -> ! {
    loop {
        // SAFETY: SYS_exit ends only the calling thread; it does not return.
        unsafe {
            libc::syscall(libc::SYS_exit, 0);
        }
    }
}

/// Sets the calling thread's name (15 bytes at most), as `ps -L` and `pips` show it.
pub(crate) fn set_thread_name(name: &str) {
    let mut buf = [0u8; 16];
    let bytes = name.as_bytes();
    let n = bytes.len().min(15);
    buf[..n].copy_from_slice(&bytes[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, buf.as_ptr() as libc::c_ulong, 0, 0, 0);
    }
}
