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
