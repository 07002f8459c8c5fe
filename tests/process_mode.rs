//! Process execution mode: each task is a process of its own (own pid, fd table, signal
//! dispositions) in the root's address space.
mod common;
mod support;
use common::*;
use pip_core::{Barrier, ExitStatus, Mode, Root, Spawn};
use std::sync::atomic::{AtomicI32, Ordering};

fn root(n: usize) -> Root {
    Root::builder(n).mode(Mode::Process).init().unwrap()
}

fn run_one(args: &[&str]) -> ExitStatus {
    let _g = root_lock();
    let mut root = root(1);
    let p = root
        .spawn(Spawn::program(test_tasks()).args(args.iter().copied()))
        .unwrap();
    let st = root.wait(p).unwrap();
    root.fin().unwrap();
    st
}

#[test]
fn exits_faults_and_panics_end_only_the_task() {
    assert_eq!(run_one(&["exit", "7"]), ExitStatus::Exited(7));
    assert_eq!(run_one(&["call_exit", "5"]), ExitStatus::Exited(5));
    assert_eq!(run_one(&["segv"]), ExitStatus::Signaled(libc::SIGSEGV));
    assert_eq!(run_one(&["abort"]), ExitStatus::Signaled(libc::SIGABRT));
    assert_eq!(run_one(&["panic"]), ExitStatus::Panicked);
}

#[test]
fn threads_inside_a_task_and_thread_locals() {
    assert_eq!(run_one(&["tls"]), ExitStatus::Exited(0));
}

#[test]
fn sched_getcpu_reports_the_tasks_own_cpu() {
    assert_eq!(run_one(&["getcpu"]), ExitStatus::Exited(0));
}

#[test]
fn fork_inside_a_task() {
    assert_eq!(run_one(&["fork"]), ExitStatus::Exited(7));
}

#[test]
fn statics_private_and_exports_shared() {
    let _g = root_lock();
    let n = 4;
    let barrier = Box::leak(Box::new(Barrier::new(n as u32)));
    let mut root = Root::builder(n)
        .mode(Mode::Process)
        .export(barrier as *mut Barrier)
        .init()
        .unwrap();
    assert_eq!(root.mode(), Mode::Process);
    for _ in 0..n {
        root.spawn(Spawn::program(test_tasks()).arg("statics"))
            .unwrap();
    }
    for p in 0..n {
        assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0), "task {p}");
    }
    root.fin().unwrap();
}

#[test]
fn memory_allocated_by_one_task_is_freed_by_another() {
    let _g = root_lock();
    let barrier = Box::leak(Box::new(Barrier::new(2)));
    let mut root = Root::builder(2)
        .mode(Mode::Process)
        .export(barrier as *mut Barrier)
        .init()
        .unwrap();
    root.spawn(Spawn::program(test_tasks()).arg("give_box"))
        .unwrap();
    root.spawn(Spawn::program(test_tasks()).arg("take_box"))
        .unwrap();
    assert_eq!(root.wait(0).unwrap(), ExitStatus::Exited(0));
    assert_eq!(root.wait(1).unwrap(), ExitStatus::Exited(0));
    root.fin().unwrap();
}

#[test]
fn a_task_has_its_own_pid_and_the_root_is_its_parent() {
    let _g = root_lock();
    let ids: &'static mut [u64; 4] = Box::leak(Box::new([0u64; 4]));
    let mut root = root(2);
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .arg("ids")
                .aux(ids.as_mut_ptr().cast()),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    let me = std::process::id() as u64;
    assert_ne!(ids[0], me, "the task has a pid of its own");
    assert_eq!(ids[1], me, "the root is the task's parent");
    assert_eq!(
        ids[2], ids[0],
        "the task is a one-thread process: gettid() == getpid()"
    );
    // Documented: pthread_self() in a process-mode task is the root-side host thread's id,
    // not an id of the task's own; it is not the root's main thread either.
    // SAFETY: pthread_self has no preconditions.
    assert_ne!(ids[3], unsafe { libc::pthread_self() } as u64);
    // Root::tid reports a running task's pid, whose parent is the root.
    let q = root
        .spawn(Spawn::program(test_tasks()).arg("sleep"))
        .unwrap();
    let pid = root.tid(q).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let ppid = status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(ppid, me.to_string());
    root.kill(q, libc::SIGKILL).unwrap();
    assert_eq!(root.wait(q).unwrap(), ExitStatus::Signaled(libc::SIGKILL));
    root.fin().unwrap();
}

#[test]
fn a_task_has_its_own_fd_table() {
    let _g = root_lock();
    let fd: &'static AtomicI32 = Box::leak(Box::new(AtomicI32::new(-1)));
    let mut root = root(1);
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .arg("open_fd")
                .aux(fd as *const AtomicI32 as *mut _),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    let f = fd.load(Ordering::SeqCst);
    assert!(f >= 0);
    let link = std::fs::read_link(format!("/proc/self/fd/{f}"));
    assert!(
        link.map(|l| l != std::path::Path::new("/dev/null"))
            .unwrap_or(true),
        "the task's fd leaked into the root"
    );
    root.fin().unwrap();
}

#[test]
fn a_signal_handler_of_a_task_is_its_own() {
    let _g = root_lock();
    let ready: &'static AtomicI32 = Box::leak(Box::new(AtomicI32::new(0)));
    let mut root = root(1);
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .arg("wait_usr1")
                .aux(ready as *const AtomicI32 as *mut _),
        )
        .unwrap();
    while ready.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The root's own SIGUSR1 disposition is untouched by the task's handler.
    // SAFETY: reading the current disposition only.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    unsafe { libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut old) };
    assert_ne!(old.sa_sigaction, libc::SIG_IGN);
    root.kill(p, libc::SIGUSR1).unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    root.fin().unwrap();
}

#[test]
fn kill_with_sigkill_and_kill_all() {
    let _g = root_lock();
    let mut root = root(2);
    root.spawn(Spawn::program(test_tasks()).arg("sleep"))
        .unwrap();
    root.spawn(Spawn::program(test_tasks()).arg("sleep"))
        .unwrap();
    root.kill(0, libc::SIGKILL).unwrap();
    assert_eq!(root.wait(0).unwrap(), ExitStatus::Signaled(libc::SIGKILL));
    assert_eq!(root.kill_all(), 1);
    assert_eq!(root.wait(1).unwrap(), ExitStatus::Signaled(libc::SIGKILL));
    root.fin().unwrap();
}

#[test]
fn before_hook_plumbs_fds_in_the_tasks_own_table() {
    // The hook runs in the task's process: a dup2 there redirects the task's stdout only.
    let _g = root_lock();
    let dir = std::env::temp_dir().join(format!("pip-rs-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("task-stdout.txt");
    let out2 = out.clone();
    let mut root = root(1);
    let p = root
        .spawn(Spawn::program(test_tasks()).arg("print").before(move || {
            let f = std::fs::File::create(&out2).unwrap();
            // SAFETY: dup2 onto fd 1 of the task's own fd table.
            unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&f), 1) };
            0
        }))
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "unterminated output from task 0"
    );
    root.fin().unwrap();
}

#[test]
fn pip_exec_runs_process_mode_jobs() {
    let out = std::process::Command::new(pip_exec())
        .args(["--mode", "process", "-n", "4"])
        .arg(example("ring"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("token came back as 5 after 4 hops"));
    // Process mode with a private libc per task.
    let ns = std::process::Command::new(pip_exec())
        .args(["--mode", "process", "--isolation", "namespace", "-n", "3"])
        .arg(example("ring"))
        .output()
        .unwrap();
    assert!(
        ns.status.success(),
        "{}",
        String::from_utf8_lossy(&ns.stderr)
    );
    assert!(String::from_utf8_lossy(&ns.stdout).contains("token came back as 4 after 3 hops"));
    let seg = std::process::Command::new(pip_exec())
        .env("PIP_MODE", "process")
        .args(["-n", "2"])
        .arg(test_tasks())
        .arg("segv")
        .output()
        .unwrap();
    assert_eq!(seg.status.code(), Some(139));
    assert!(String::from_utf8_lossy(&seg.stderr).contains("killed by signal 11 (SIGSEGV)"));
}

#[test]
fn a_c_tasks_exit_does_not_run_the_roots_atexit_handlers() {
    use std::sync::atomic::AtomicBool;
    static RAN: AtomicBool = AtomicBool::new(false);
    extern "C" fn root_handler() {
        RAN.store(true, Ordering::SeqCst);
    }
    let dir = support::build_dir("process-exit");
    let task = support::cc(
        &dir,
        "exit3.so",
        "#include <stdio.h>\n#include <stdlib.h>\nint main(void) { printf(\"bye\\n\"); exit(3); }\n",
        &["-shared", "-fPIC"],
    );
    let _g = root_lock();
    // SAFETY: registers a handler that only stores to an atomic.
    unsafe { libc::atexit(root_handler) };
    let mut root = root(1);
    let p = root.spawn(Spawn::program(&task)).unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(3));
    assert!(
        !RAN.load(Ordering::SeqCst),
        "the task's exit() ran the root's atexit handler"
    );
    root.fin().unwrap();
}

/// A root that is killed takes its process-mode tasks with it: they are processes of their own,
/// and would otherwise run on in an address space that nobody waits for.
#[test]
fn tasks_end_with_a_killed_root() {
    let mut job = support::start(
        std::process::Command::new(pip_exec())
            .args(["--mode", "process", "-n", "2"])
            .arg(test_tasks())
            .arg("sleep"),
    );
    let root = job.pid();
    // The tasks are the root's child processes.
    let children = || -> Vec<i32> {
        std::fs::read_dir(format!("/proc/{root}/task"))
            .map(|d| {
                d.flatten()
                    .flat_map(|t| {
                        std::fs::read_to_string(t.path().join("children"))
                            .unwrap_or_default()
                            .split_whitespace()
                            .filter_map(|p| p.parse().ok())
                            .collect::<Vec<i32>>()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + support::HANG_LIMIT;
    let tasks = loop {
        let c = children();
        if c.len() == 2 {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the tasks never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // SIGKILL to the root alone.
    job.child.kill().unwrap();
    job.child.wait().unwrap();
    // Each task is gone, or a zombie waiting for init to reap it.
    let alive = |p: i32| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .map(|r| r.trim_start().starts_with('Z'))
            })
            .is_some_and(|zombie| !zombie)
    };
    while tasks.iter().any(|&p| alive(p)) {
        assert!(
            std::time::Instant::now() < deadline,
            "process-mode tasks {tasks:?} outlived their root"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
