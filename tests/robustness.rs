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

/// Tasks killed over and over in the middle of malloc never hang the root.
///
/// Known to fail today (a reproducer for the next step): a task killed inside malloc leaves its
/// malloc arena locked, and once a process has more threads than glibc has arenas (8 per CPU),
/// threads share arenas, so the root itself can later wait for that lock forever. The fix is
/// to make kills wait for the end of an allocator call (interposing the malloc family in the
/// root, as PiP 2.4 does for its own reasons). Run it with `--ignored`.
#[test]
#[ignore = "known bug: a task killed inside malloc can leave a shared arena locked (see the doc comment)"]
fn killing_tasks_inside_malloc_never_hangs_the_root() {
    use pip_core::{ExitStatus, Mode, Root, Spawn};
    let _g = root_lock();
    // A hang here would hang the whole suite: fail loudly instead.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = done.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        if !d.load(std::sync::atomic::Ordering::SeqCst) {
            eprintln!("killing_tasks_inside_malloc_never_hangs_the_root: the root hung");
            std::process::abort();
        }
    });
    for mode in [Mode::Thread, Mode::Process] {
        for round in 0..15 {
            let mut root = Root::builder(2).mode(mode).init().unwrap();
            for _ in 0..2 {
                root.spawn(Spawn::program(test_tasks()).arg("malloc_loop"))
                    .unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(1 + round % 5));
            root.kill_all();
            for p in 0..2 {
                assert_eq!(
                    root.wait(p).unwrap(),
                    ExitStatus::Signaled(libc::SIGKILL),
                    "{mode:?} round {round}"
                );
            }
            root.fin().unwrap();
        }
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
}
