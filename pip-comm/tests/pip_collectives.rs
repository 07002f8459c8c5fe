//! Collectives inside real PiP jobs: tasks launched by pip-exec, each with its own copy of
//! the program's statics, run every kind of collective (see `tests/tasks/coll_tasks.rs`).
//!
//! Needs pip-exec in the same target directory (`cargo build -p pip-tools`); the test says it
//! was skipped when it is missing.

mod common;

use std::process::Command;

#[test]
fn collectives_in_pip_tasks() {
    let _watchdog = common::watchdog("collectives_in_pip_tasks");
    // This test binary is <target>/<profile>/deps/pip_collectives-<hash>.
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().unwrap().parent().unwrap();
    let (pip_exec, task) = (
        profile.join("pip-exec"),
        profile.join("examples/libcoll_tasks.so"),
    );
    if !pip_exec.exists() || !task.exists() {
        eprintln!(
            "skipped: {} or {} is missing (cargo build -p pip-tools)",
            pip_exec.display(),
            task.display()
        );
        return;
    }
    for (n, steal) in [(1, "1"), (3, "1"), (4, "0"), (5, "1")] {
        let out = Command::new(&pip_exec)
            .env("PIP_COMM_STEAL", steal)
            .arg("-n")
            .arg(n.to_string())
            .arg(&task)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(&format!("collectives: {n} tasks ok")),
            "n={n}: {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
