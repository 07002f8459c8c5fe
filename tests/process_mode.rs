//! Process execution mode: each task is a process of its own (own pid, fd table, signal
//! dispositions) in the root's address space.
// This test binary is a root that kills tasks: kills wait for the end of an allocator call.
pip_rs::pip_core::guard_allocator!();

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

/// A process that a process-mode task forks is an ordinary process: its `exit(7)` is the real
/// `exit`, and a fault there ends it by that signal.
#[test]
fn exit_and_faults_in_a_process_forked_by_a_task_are_its_own() {
    assert_eq!(run_one(&["fork_child", "exit", "7"]), ExitStatus::Exited(7));
    assert_eq!(
        run_one(&["fork_child", "segv"]),
        ExitStatus::Exited(128 + libc::SIGSEGV)
    );
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
    // What the root has (pip-core's handler since init, or the program's own).
    let before = usr1_disposition();
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
    // The root's own SIGUSR1 disposition is exactly what it was before the task installed
    // its handler.
    let now = usr1_disposition();
    assert_eq!(
        (now.sa_sigaction, now.sa_flags),
        (before.sa_sigaction, before.sa_flags),
        "the task's signal() changed the root's SIGUSR1 disposition"
    );
    root.kill(p, libc::SIGUSR1).unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    let after = usr1_disposition();
    assert_eq!(
        (after.sa_sigaction, after.sa_flags),
        (before.sa_sigaction, before.sa_flags)
    );
    root.fin().unwrap();
}

fn usr1_disposition() -> libc::sigaction {
    // SAFETY: struct sigaction is plain data, valid all-zero.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: sigaction with a null new action only reads the current one.
    unsafe { libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut old) };
    old
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

#[test]
fn a_tasks_chdir_moves_neither_the_root_nor_a_later_task() {
    let _g = root_lock();
    let scratch = support::Scratch::new("process-chdir");
    let to = scratch.0.canonicalize().unwrap();
    let home = std::env::current_dir().unwrap();
    assert_ne!(home, to);
    let mut root = root(2);
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .arg("chdir")
                .arg(home.to_str().unwrap())
                .arg(to.to_str().unwrap()),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    assert_eq!(
        std::env::current_dir().unwrap(),
        home,
        "the task's chdir moved the root"
    );
    // A task started afterwards starts in the root's cwd, not where the first one went.
    let q = root
        .spawn(
            Spawn::program(test_tasks())
                .arg("cwd")
                .arg(home.to_str().unwrap()),
        )
        .unwrap();
    assert_eq!(root.wait(q).unwrap(), ExitStatus::Exited(0));
    root.fin().unwrap();
}

/// True if SIGUSR2 is blocked on the calling thread.
fn usr2_blocked_here() -> bool {
    // SAFETY: pthread_sigmask with a null new set only reads the mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut set);
        libc::sigismember(&set, libc::SIGUSR2) == 1
    }
}

/// Blocks (or unblocks) SIGUSR2 on the calling thread.
fn set_usr2_blocked(block: bool) {
    // SAFETY: sigset set-up and pthread_sigmask on the calling thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR2);
        let how = if block {
            libc::SIG_BLOCK
        } else {
            libc::SIG_UNBLOCK
        };
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// The blocked-signal mask (`SigBlk`) of each thread of this process whose name is `name`.
fn blocked_masks_of_threads_named(name: &str) -> Vec<u64> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .filter_map(|t| {
            let status = std::fs::read_to_string(t.path().join("status")).ok()?;
            let v = status.lines().find_map(|l| l.strip_prefix("SigBlk:"))?;
            u64::from_str_radix(v.trim(), 16).ok()
        })
        .collect()
}

#[test]
fn a_tasks_signal_mask_is_its_own() {
    let _g = root_lock();
    let ready: &'static AtomicI32 = Box::leak(Box::new(AtomicI32::new(0)));
    let mut root = root(3);
    assert!(!usr2_blocked_here());
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .arg("block_usr2")
                .aux(ready as *const AtomicI32 as *mut _),
        )
        .unwrap();
    let deadline = std::time::Instant::now() + support::HANG_LIMIT;
    while ready.load(Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the task never got ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The task blocked SIGUSR2 in its own process: neither this thread nor the root-side host
    // thread that lends it its TCB has it blocked.
    assert!(
        !usr2_blocked_here(),
        "the task's sigprocmask reached the root"
    );
    let hosts = blocked_masks_of_threads_named(&format!("{p};test_tasks"));
    assert_eq!(hosts.len(), 1, "the host thread of task {p}");
    assert_eq!(
        hosts[0] & (1 << (libc::SIGUSR2 - 1)),
        0,
        "the task's sigprocmask reached its host thread"
    );
    // The mask governs the task's process: a SIGUSR2 sent to it (default action: terminate)
    // stays pending, which the task sees, and it returns 0.
    root.kill(p, libc::SIGUSR2).unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));

    // The other way: a task starts with the mask of the root thread that spawned it (as a
    // forked process does), and what that thread blocks later does not reach it.
    set_usr2_blocked(true);
    let q = root
        .spawn(Spawn::program(test_tasks()).arg("usr2_blocked"))
        .unwrap();
    let blocked_at_start = root.wait(q);
    set_usr2_blocked(false);
    assert_eq!(blocked_at_start.unwrap(), ExitStatus::Exited(1));
    let r = root
        .spawn(Spawn::program(test_tasks()).arg("usr2_blocked"))
        .unwrap();
    assert_eq!(root.wait(r).unwrap(), ExitStatus::Exited(0));
    root.fin().unwrap();
}

#[test]
fn close_on_exec_fds_are_closed_in_a_new_task() {
    let _g = root_lock();
    let scratch = support::Scratch::new("process-cloexec");
    let (a, b) = (scratch.path("cloexec"), scratch.path("plain"));
    std::fs::write(&a, "a").unwrap();
    std::fs::write(&b, "b").unwrap();
    let open = |path: &std::path::Path, flags: i32| {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: opening a file read-only with a valid C string.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | flags) };
        assert!(fd >= 0, "open {}", path.display());
        fd
    };
    let cloexec = open(&a, libc::O_CLOEXEC);
    let plain = open(&b, 0);
    let mut root = root(1);
    let p = root
        .spawn(Spawn::program(test_tasks()).args([
            "cloexec_fds".to_string(),
            cloexec.to_string(),
            plain.to_string(),
            b.to_str().unwrap().to_string(),
        ]))
        .unwrap();
    let st = root.wait(p).unwrap();
    // The root's own descriptors are untouched: the task closed its copies only.
    // SAFETY: F_GETFD on descriptors this test opened.
    let still_open = unsafe {
        (
            libc::fcntl(cloexec, libc::F_GETFD),
            libc::fcntl(plain, libc::F_GETFD),
        )
    };
    // SAFETY: closing the descriptors this test opened.
    unsafe {
        libc::close(cloexec);
        libc::close(plain);
    }
    assert_eq!(
        st,
        ExitStatus::Exited(0),
        "1: the close-on-exec fd was open in the task; 2: the plain fd was not"
    );
    assert_eq!(still_open, (libc::FD_CLOEXEC, 0), "the root's fds changed");
    root.fin().unwrap();
}

#[test]
fn a_file_one_task_opens_is_not_in_another_tasks_table() {
    let _g = root_lock();
    let scratch = support::Scratch::new("process-fd-peer");
    let file = scratch.path("owned");
    std::fs::write(&file, "x").unwrap();
    let file = file.to_str().unwrap();
    let barrier = Box::leak(Box::new(Barrier::new(2)));
    let mut root = Root::builder(2)
        .mode(Mode::Process)
        .export(barrier as *mut Barrier)
        .init()
        .unwrap();
    let owner = root
        .spawn(Spawn::program(test_tasks()).args(["fd_owner", file]))
        .unwrap();
    let peer = root
        .spawn(Spawn::program(test_tasks()).args(["fd_peer", &owner.to_string(), file]))
        .unwrap();
    assert_eq!(root.wait(owner).unwrap(), ExitStatus::Exited(0));
    assert_eq!(
        root.wait(peer).unwrap(),
        ExitStatus::Exited(0),
        "task {peer} saw task {owner}'s file in its fd table"
    );
    root.fin().unwrap();
}

#[test]
fn a_fault_in_a_tasks_own_thread_ends_only_that_task() {
    let _g = root_lock();
    let mut root = root(3);
    // Task 0 waits for an export that task 1 never makes: it sees task 1 end, and is told so,
    // only if it still runs after task 1's fault.
    let waiter = root
        .spawn(Spawn::program(test_tasks()).args(["import", "1", "never"]))
        .unwrap();
    let faulter = root
        .spawn(Spawn::program(test_tasks()).arg("thread_segv"))
        .unwrap();
    assert_eq!(faulter, 1);
    assert_eq!(
        root.wait(faulter).unwrap(),
        ExitStatus::Signaled(libc::SIGSEGV)
    );
    assert_eq!(
        root.wait(waiter).unwrap(),
        ExitStatus::Exited(100 + libc::ECANCELED)
    );
    // The root goes on: it can still run a task.
    let r = root
        .spawn(Spawn::program(test_tasks()).args(["exit", "3"]))
        .unwrap();
    assert_eq!(root.wait(r).unwrap(), ExitStatus::Exited(3));
    root.fin().unwrap();
}

#[test]
fn a_tasks_return_and_exit_do_not_run_the_roots_atexit_handlers() {
    use std::sync::atomic::AtomicBool;
    static RAN: AtomicBool = AtomicBool::new(false);
    extern "C" fn root_handler() {
        RAN.store(true, Ordering::SeqCst);
    }
    // SAFETY: registers a handler that only stores to an atomic (it runs, harmlessly, when
    // this test program ends).
    unsafe { libc::atexit(root_handler) };
    assert_eq!(run_one(&["exit", "4"]), ExitStatus::Exited(4));
    assert!(
        !RAN.load(Ordering::SeqCst),
        "a task's return ran the root's atexit handler"
    );
    assert_eq!(run_one(&["call_exit", "5"]), ExitStatus::Exited(5));
    assert!(
        !RAN.load(Ordering::SeqCst),
        "a Rust task's exit() ran the root's atexit handler"
    );
    // exit() on a thread the task created ends the task's whole process, still without the
    // root's handlers (they would run on memory the root still uses).
    assert_eq!(run_one(&["thread_exit", "9"]), ExitStatus::Exited(9));
    assert!(
        !RAN.load(Ordering::SeqCst),
        "exit() on a task's own thread ran the root's atexit handler"
    );
}

#[test]
fn kernel_faults_end_only_the_task() {
    assert_eq!(run_one(&["sigbus"]), ExitStatus::Signaled(libc::SIGBUS));
    #[cfg(target_arch = "x86_64")]
    assert_eq!(run_one(&["sigfpe"]), ExitStatus::Signaled(libc::SIGFPE));
    assert_eq!(run_one(&["sigill"]), ExitStatus::Signaled(libc::SIGILL));
}

#[test]
fn a_large_stack_size_carries_a_deep_recursion() {
    // 24 MiB of recursion overflows the default 8 MiB stack; with 64 MiB it fits.
    let _g = root_lock();
    let mut root = root(1);
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["stack", "24576"])
                .stack_size(64 << 20),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    root.fin().unwrap();
}

/// Documented limit: a task that calls `exec` leaves the shared address space; its pipid ends
/// with the new program, whose exit code the root gets.
#[test]
fn a_task_that_execs_ends_with_the_new_program() {
    assert_eq!(run_one(&["exec_sh", "7"]), ExitStatus::Exited(7));
}

const SIGCHLD_CHILD: &str = "PIP_RS_TEST_SIGCHLD_IGNORED";

/// Documented limit: a root that sets `SIGCHLD` to `SIG_IGN` loses its process-mode tasks'
/// exit statuses (the kernel reaps the children at once), and they are reported as 0. Run in
/// a child process: ignoring SIGCHLD would break every other test's child processes.
#[test]
fn a_root_ignoring_sigchld_gets_0_for_every_task() {
    if std::env::var_os(SIGCHLD_CHILD).is_some() {
        // SAFETY: setting a disposition in this single-purpose child process.
        unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
        let status = run_one(&["exit", "3"]);
        println!("status: {status:?}");
        std::process::exit(if status == ExitStatus::Exited(0) {
            0
        } else {
            1
        });
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_root_ignoring_sigchld_gets_0_for_every_task",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SIGCHLD_CHILD, "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("status: Exited(0)"),
        "{:?}\n{text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
