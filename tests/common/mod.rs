//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// One PiP root per process: tests that init a root take this lock.
pub fn root_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `target/<profile>/` of this build.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test>-<hash>
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The path of a task example (a cdylib built by `cargo test` / `cargo build --examples`).
pub fn example(name: &str) -> PathBuf {
    let p = target_dir().join("examples").join(format!("lib{name}.so"));
    assert!(
        p.exists(),
        "{} is missing: build the task examples first (`cargo build --examples`; a plain `cargo test` builds them)",
        p.display()
    );
    p
}

/// The test task program.
pub fn test_tasks() -> PathBuf {
    example("test_tasks")
}

/// The pip-exec binary.
pub fn pip_exec() -> PathBuf {
    let p = target_dir().join("pip-exec");
    assert!(
        p.exists(),
        "{} is missing: build it first (`cargo build -p pip-tools`)",
        p.display()
    );
    p
}

/// A small tmpfs mounted `noexec` on a fresh directory, unmounted (and removed) when dropped.
pub struct NoexecMount(pub PathBuf);

impl NoexecMount {
    /// Mounts one, or says why not (not root, no permission to mount).
    pub fn new(tag: &str) -> Result<NoexecMount, String> {
        let dir = std::env::temp_dir().join(format!("pip-rs-noexec-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let target = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        // SAFETY: valid NUL-terminated strings; the data string is a tmpfs option.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOEXEC | libc::MS_NOSUID | libc::MS_NODEV,
                c"size=64m".as_ptr().cast(),
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            let _ = std::fs::remove_dir(&dir);
            return Err(format!("mount -t tmpfs -o noexec {}: {e}", dir.display()));
        }
        Ok(NoexecMount(dir))
    }
}

impl Drop for NoexecMount {
    fn drop(&mut self) {
        let target = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: a valid path that we mounted; MNT_DETACH never blocks.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        let _ = std::fs::remove_dir(&self.0);
    }
}
