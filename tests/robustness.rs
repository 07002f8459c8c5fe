//! The job never hangs on what a dead task left behind.

// This test binary is a root: its kills wait for the end of a task's malloc or free.
pip_rs::pip_core::guard_allocator!();

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

/// Kills tasks over and over while they allocate and free, `rounds` times, and checks that
/// each ends with SIGKILL and that the root never hangs (a watchdog aborts the test binary
/// after two minutes instead).
fn kill_tasks_inside_malloc(mode: pip_core::Mode, rounds: u64) {
    use pip_core::{ExitStatus, Root, Spawn};
    let _g = root_lock();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = done.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        if !d.load(std::sync::atomic::Ordering::SeqCst) {
            // No formatting, no allocation: the allocator may be what hangs.
            let msg = b"killing tasks inside malloc: the root hung\n";
            // SAFETY: write(2) of a static buffer, then abort.
            unsafe {
                libc::write(2, msg.as_ptr().cast(), msg.len());
                libc::abort();
            }
        }
    });
    // More threads than glibc has arenas (8 per CPU), so that tasks and the root share some.
    let tasks = 8 * std::thread::available_parallelism().map_or(2, |n| n.get()) + 4;
    for round in 0..rounds {
        let mut root = Root::builder(tasks).mode(mode).init().unwrap();
        for _ in 0..tasks {
            root.spawn(Spawn::program(test_tasks()).arg("malloc_loop"))
                .unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(1 + round % 5));
        root.kill_all();
        for p in 0..tasks {
            assert_eq!(
                root.wait(p).unwrap(),
                ExitStatus::Signaled(libc::SIGKILL),
                "{mode:?} round {round}"
            );
        }
        // The root allocates after every kill: this is where a lock left held would hang it.
        let v: Vec<Box<[u8; 64]>> = (0..1000).map(|_| Box::new([0; 64])).collect();
        drop(v);
        root.fin().unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Thread-mode tasks killed in the middle of malloc never hang the root: the kill waits for
/// the end of the allocator call (`guard_allocator!` above).
#[test]
fn killing_tasks_inside_malloc_never_hangs_the_root() {
    assert!(pip_core::alloc_guard::is_active());
    kill_tasks_inside_malloc(pip_core::Mode::Thread, 20);
}

/// The same in process mode: the root's SIGKILL reaches the child as the kill signal, which
/// also waits for the allocator (the child shares glibc's arenas with the root in shared-libc
/// isolation).
#[test]
fn killing_process_mode_tasks_inside_malloc_never_hangs_the_root() {
    kill_tasks_inside_malloc(pip_core::Mode::Process, 20);
}

/// The start time of live process `pid` (clock ticks after boot), or `None` if it is gone or a
/// zombie.
fn live_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Runs `pip-exec --mode MODE test_tasks fork_sleeper FILE EXTRA...`, waits for the detached
/// grandchild that the task forks to write its pid, lets `end` end the job, and checks that the
/// grandchild is gone afterwards (it is killed here, and the test fails, if it is not).
fn forked_grandchild_ends_with_the_job(
    mode: &str,
    extra: &[&str],
    end: impl FnOnce(&Running),
) -> Output {
    let dir = Scratch::new("tree");
    let pidfile = dir.path("grandchild.pid");
    let job = start(
        std::process::Command::new(pip_exec())
            .args(["--mode", mode])
            .arg(test_tasks())
            .arg("fork_sleeper")
            .arg(&pidfile)
            .args(extra),
    );
    let deadline = std::time::Instant::now() + HANG_LIMIT;
    let pid: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.parse().ok())
        {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{mode}: the grandchild did not write its pid"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let started = live_start_time(pid);
    end(&job);
    let out = job.finish(HANG_LIMIT);
    // pip-exec reaps what it kills, so the grandchild should be gone at once; allow for a slow
    // machine all the same.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while started.is_some() && live_start_time(pid) == started {
        if std::time::Instant::now() >= deadline {
            // SAFETY: kill(2) of the test's own leftover process (same start time).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!(
                "{mode}: the task's grandchild {pid} outlived the job\n{}",
                out.both()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    out
}

/// A process that a task forked and detached (a grandchild of pip-exec) ends with the job when
/// pip-exec is told to stop with SIGTERM, in both modes: pip-exec is its subreaper and ends its
/// whole tree, instead of leaving it to pid 1.
#[test]
fn sigterm_to_pip_exec_ends_the_processes_tasks_forked() {
    for mode in ["thread", "process"] {
        let out = forked_grandchild_ends_with_the_job(mode, &[], |job| {
            // SAFETY: kill(2) of the pip-exec this test started.
            unsafe { libc::kill(job.pid(), libc::SIGTERM) };
        });
        assert_eq!(
            out.code,
            Some(128 + libc::SIGTERM),
            "{mode}: {}",
            out.both()
        );
    }
}

/// The same when the job ends normally with such a process still running: pip-exec ends it and
/// says so.
#[test]
fn processes_tasks_forked_end_with_a_job_that_ends_normally() {
    for mode in ["thread", "process"] {
        let out = forked_grandchild_ends_with_the_job(mode, &["return"], |_| {});
        assert_eq!(out.code, Some(0), "{mode}: {}", out.both());
        assert!(
            out.stderr
                .contains("ended 1 process that the tasks had started"),
            "{mode}: {}",
            out.both()
        );
    }
}
