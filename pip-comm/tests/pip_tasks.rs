//! pip-comm inside real PiP jobs: tasks launched by pip-exec get their world from
//! `pip_comm::world()`.
//!
//! Needs pip-exec in the same target directory (`cargo build -p pip-tools`); the tests say
//! they were skipped when it is missing.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn tools() -> Option<(PathBuf, PathBuf)> {
    // This test binary is <target>/<profile>/deps/pip_tasks-<hash>.
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent()?.parent()?;
    let (pip_exec, task) = (
        profile.join("pip-exec"),
        profile.join("examples/libcomm_tasks.so"),
    );
    if pip_exec.exists() && task.exists() {
        Some((pip_exec, task))
    } else {
        eprintln!(
            "skipped: {} or {} is missing (cargo build -p pip-tools)",
            pip_exec.display(),
            task.display()
        );
        None
    }
}

fn pip_exec(n: usize, mode: &str) -> Option<Output> {
    pip_exec_with(&[], n, mode)
}

fn pip_exec_with(options: &[&str], n: usize, mode: &str) -> Option<Output> {
    let (pip_exec, task) = tools()?;
    let mut cmd = Command::new(pip_exec);
    cmd.args(options)
        .arg("-n")
        .arg(n.to_string())
        .arg(task)
        .arg(mode);
    Some(cmd.output().unwrap())
}

#[test]
fn tasks_exchange_over_every_protocol() {
    let _watchdog = common::watchdog("tasks_exchange_over_every_protocol");
    for n in [2, 3, 5] {
        let Some(out) = pip_exec(n, "exchange") else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "n={n}: {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("exchange: {n} tasks ok")),
            "{stdout}"
        );
    }
}

#[test]
fn a_world_from_another_build_is_refused() {
    let _watchdog = common::watchdog("a_world_from_another_build_is_refused");
    let Some(out) = pip_exec(3, "bad-world") else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stderr}", out.status);
    assert!(
        stderr.contains("pip-comm layout mismatch") && stderr.contains("layout version"),
        "{stderr}"
    );
}

#[test]
fn tasks_exchange_with_private_libcs_and_as_processes() {
    let _watchdog = common::watchdog("tasks_exchange_with_private_libcs_and_as_processes");
    // Namespace isolation: each task has its own malloc, so nothing may be freed across ranks.
    // Process mode: each task is a process of its own in the shared address space.
    for options in [
        &["--isolation", "namespace"][..],
        &["--mode", "process"][..],
    ] {
        let Some(out) = pip_exec_with(options, 3, "exchange") else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("exchange: 3 tasks ok"),
            "{options:?}: {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn tasks_probe_sendrecv_requests_communicators_and_send_vec() {
    let _watchdog = common::watchdog("tasks_probe_sendrecv_requests_communicators_and_send_vec");
    for (options, n, moved) in [
        (&[][..], 4, true),
        (&["--isolation", "namespace"][..], 3, false),
    ] {
        let Some(out) = pip_exec_with(options, n, "more") else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success()
                && stdout.contains(&format!("more: {n} tasks ok (send_vec moved: {moved})")),
            "{options:?}: {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
