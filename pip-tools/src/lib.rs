//! The logic of the pip tools (`pip-exec`, `pip-check`, `pip-mode`, `pips`), kept here so that tests
//! can call it; the binaries in `src/bin` are thin.
#![warn(missing_docs)]

pub mod check;
pub mod exec;
pub mod mode;
pub mod pips;

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
