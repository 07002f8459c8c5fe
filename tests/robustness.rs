//! The job never hangs on what a dead task left behind.
mod common;
mod support;
use common::*;
use support::*;

/// A C task that dies of SIGSEGV while it holds the lock of libc's `stdout` (shared by every task
/// and the root in shared-libc isolation), next to a task that keeps running.
const LOCK_AND_DIE: &str = r#"
#include <stdio.h>
#include <signal.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc > 1) { for (;;) pause(); }
    printf("about to die holding stdout's lock\n");
    flockfile(stdout);
    raise(SIGSEGV);
    return 0;
}
"#;

#[test]
fn pip_exec_ends_even_when_a_dead_task_holds_the_stdout_lock() {
    let dir = build_dir("robust");
    let task = cc(&dir, "lockdie.so", LOCK_AND_DIE, &["-shared", "-fPIC"]);
    // Task 0 dies holding the lock; task 1 waits forever; pip-exec must end the job and exit.
    let out = start(
        std::process::Command::new(pip_exec())
            .arg("-n")
            .arg("1")
            .arg(&task)
            .arg(":")
            .arg("-n")
            .arg("1")
            .arg(&task)
            .arg("wait"),
    )
    .finish(std::time::Duration::from_secs(60));
    assert_eq!(out.code, Some(128 + libc::SIGSEGV), "{}", out.both());
    assert!(
        out.stderr.contains("task 0") && out.stderr.contains("SIGSEGV"),
        "{}",
        out.both()
    );
}
