//! Spawning, waiting and ending tasks: exit codes, exit(), panics, faults, kill.
// This test binary is a root that kills tasks: kills wait for the end of an allocator call.
pip_rs::pip_core::guard_allocator!();

mod common;
use common::*;
use pip_core::{Barrier, ExitStatus, Root, Spawn};

fn run_one(args: &[&str]) -> ExitStatus {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let p = root
        .spawn(Spawn::program(test_tasks()).args(args.iter().copied()))
        .unwrap();
    let st = root.wait(p).unwrap();
    root.fin().unwrap();
    st
}

#[test]
fn exit_code_of_returning_task() {
    assert_eq!(run_one(&["exit", "7"]), ExitStatus::Exited(7));
    assert_eq!(run_one(&["exit", "0"]), ExitStatus::Exited(0));
}

#[test]
fn exit_call_ends_only_the_task() {
    assert_eq!(run_one(&["call_exit", "5"]), ExitStatus::Exited(5));
}

/// A process that a task forks is an ordinary process: its `exit(7)` is the real `exit` (not
/// the task's end, which gave its parent status 0) and a fault there ends it by that signal.
#[test]
fn exit_and_faults_in_a_process_forked_by_a_task_are_its_own() {
    assert_eq!(run_one(&["fork_child", "exit", "7"]), ExitStatus::Exited(7));
    assert_eq!(
        run_one(&["fork_child", "segv"]),
        ExitStatus::Exited(128 + libc::SIGSEGV)
    );
}

#[test]
fn panic_ends_only_the_task() {
    assert_eq!(run_one(&["panic"]), ExitStatus::Panicked);
}

#[test]
fn segfault_ends_only_the_task() {
    assert_eq!(run_one(&["segv"]), ExitStatus::Signaled(libc::SIGSEGV));
}

#[test]
fn abort_ends_only_the_task() {
    assert_eq!(run_one(&["abort"]), ExitStatus::Signaled(libc::SIGABRT));
}

#[test]
fn statics_are_private() {
    let _g = root_lock();
    let n = 8;
    let barrier = Box::leak(Box::new(Barrier::new(n as u32)));
    let mut root = Root::builder(n)
        .export(barrier as *mut Barrier)
        .init()
        .unwrap();
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
fn thread_local_has_its_initial_value_in_every_task() {
    let _g = root_lock();
    let n = 4;
    let mut root = Root::init(n).unwrap();
    for _ in 0..n {
        root.spawn(Spawn::program(test_tasks()).arg("tls")).unwrap();
    }
    for p in 0..n {
        assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0), "task {p}");
    }
    root.fin().unwrap();
}

#[test]
fn many_tasks_in_shared_libc_mode() {
    let _g = root_lock();
    let n = 256;
    let barrier = Box::leak(Box::new(Barrier::new(n as u32)));
    let mut root = Root::builder(n)
        .export(barrier as *mut Barrier)
        .init()
        .unwrap();
    for _ in 0..n {
        root.spawn(Spawn::program(test_tasks()).arg("statics"))
            .unwrap();
    }
    let mut done = 0;
    while let Ok((p, st)) = root.wait_any() {
        assert_eq!(st, ExitStatus::Exited(0), "task {p}");
        done += 1;
    }
    assert_eq!(done, n);
    root.fin().unwrap();
}

#[test]
fn named_function_entry_gets_its_argument() {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let p = root
        .spawn(Spawn::function(test_tasks(), "add_one_fn", 41 as *mut _))
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(42));
    root.fin().unwrap();
}

#[test]
fn import_blocks_until_export() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    // Task 0 imports "late" from task 1, which exports it only after 300 ms.
    let importer = root
        .spawn(Spawn::program(test_tasks()).args(["import", "1", "late"]))
        .unwrap();
    let exporter = root
        .spawn(Spawn::program(test_tasks()).args(["export", "late", "77", "300"]))
        .unwrap();
    assert_eq!(root.wait(exporter).unwrap(), ExitStatus::Exited(0));
    assert_eq!(root.wait(importer).unwrap(), ExitStatus::Exited(77));
    root.fin().unwrap();
}

#[test]
fn import_from_a_task_that_ends_without_exporting_fails() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    let importer = root
        .spawn(Spawn::program(test_tasks()).args(["import", "1", "never"]))
        .unwrap();
    let other = root
        .spawn(Spawn::program(test_tasks()).args(["exit", "0"]))
        .unwrap();
    assert_eq!(root.wait(other).unwrap(), ExitStatus::Exited(0));
    assert_eq!(
        root.wait(importer).unwrap(),
        ExitStatus::Exited(100 + libc::ECANCELED)
    );
    root.fin().unwrap();
}

#[test]
fn importing_from_oneself_is_an_error() {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let p = root
        .spawn(Spawn::program(test_tasks()).arg("self_import"))
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    root.fin().unwrap();
}

#[test]
fn barrier_of_eight_tasks_for_a_thousand_rounds() {
    let _g = root_lock();
    let n = 8;
    let barrier = Box::leak(Box::new(Barrier::new(n as u32)));
    let counter = Box::leak(Box::new(std::sync::atomic::AtomicUsize::new(0)));
    let mut root = Root::builder(n)
        .export(barrier as *mut Barrier)
        .init()
        .unwrap();
    for _ in 0..n {
        let aux = counter as *mut std::sync::atomic::AtomicUsize as *mut std::ffi::c_void;
        root.spawn(
            Spawn::program(test_tasks())
                .args(["barrier", "1000"])
                .aux(aux),
        )
        .unwrap();
    }
    for p in 0..n {
        assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0), "task {p}");
    }
    assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 8000);
    root.fin().unwrap();
}

#[test]
fn kill_ends_one_task() {
    let _g = root_lock();
    let mut root = Root::init(3).unwrap();
    for _ in 0..3 {
        root.spawn(Spawn::program(test_tasks()).arg("sleep"))
            .unwrap();
    }
    root.kill(1, libc::SIGTERM).unwrap();
    assert_eq!(root.wait(1).unwrap(), ExitStatus::Signaled(libc::SIGTERM));
    root.kill(0, libc::SIGKILL).unwrap();
    assert_eq!(root.wait(0).unwrap(), ExitStatus::Signaled(libc::SIGKILL));
    // The third one still runs; kill_all ends it.
    assert_eq!(root.try_wait(2).unwrap(), None);
    assert_eq!(root.kill_all(), 1);
    assert_eq!(
        root.wait_any().unwrap(),
        (2, ExitStatus::Signaled(libc::SIGKILL))
    );
    assert!(matches!(root.wait_any(), Err(pip_core::Error::NoTasks)));
    assert!(matches!(
        root.kill(2, libc::SIGTERM),
        Err(pip_core::Error::NotRunning(2))
    ));
    root.fin().unwrap();
}

#[test]
fn env_cwd_and_aux_reach_the_task() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    let a = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["env", "PIP_TEST_VAR", "hello world"])
                .env("PIP_TEST_VAR", "hello world"),
        )
        .unwrap();
    let b = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["cwd", "/tmp"])
                .cwd("/tmp"),
        )
        .unwrap();
    assert_eq!(root.wait(a).unwrap(), ExitStatus::Exited(0));
    assert_eq!(root.wait(b).unwrap(), ExitStatus::Exited(0));
    // The task's private cwd did not move the root.
    assert_ne!(
        std::env::current_dir().unwrap(),
        std::path::Path::new("/tmp")
    );
    root.fin().unwrap();
}

#[test]
fn hooks_run_on_the_task_thread() {
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::sync::Arc;
    let _g = root_lock();
    let mut root = Root::init(3).unwrap();
    let seen = Arc::new(AtomicI32::new(0));
    let (s1, s2) = (seen.clone(), seen.clone());
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["exit", "0"])
                .before(move || {
                    s1.store(
                        pip_core::current_pipid()
                            .map(|p| p as i32 + 100)
                            .unwrap_or(-1),
                        Ordering::SeqCst,
                    );
                    0
                })
                .after(move || {
                    s2.fetch_add(1000, Ordering::SeqCst);
                    0
                }),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    assert_eq!(seen.load(Ordering::SeqCst), 1100 + p as i32);
    // A failing before hook stops the task with its code; a failing after hook replaces 0.
    let q = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["exit", "0"])
                .before(|| 9),
        )
        .unwrap();
    assert_eq!(root.wait(q).unwrap(), ExitStatus::Exited(9));
    let r = root
        .spawn(Spawn::program(test_tasks()).args(["exit", "0"]).after(|| 4))
        .unwrap();
    assert_eq!(root.wait(r).unwrap(), ExitStatus::Exited(4));
    root.fin().unwrap();
}

#[test]
fn private_fd_table_hides_the_tasks_files() {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    // The before hook runs on the task thread after unshare: a file it opens is in the task's
    // table only. It leaves the fd number in a shared atomic for the check below.
    let fd = std::sync::Arc::new(std::sync::atomic::AtomicI32::new(-1));
    let fd2 = fd.clone();
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["exit", "0"])
                .private_fds(true)
                .before(move || {
                    // SAFETY: opening /dev/null read-only.
                    let f = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY) };
                    fd2.store(f, std::sync::atomic::Ordering::SeqCst);
                    0
                }),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    let f = fd.load(std::sync::atomic::Ordering::SeqCst);
    assert!(f >= 0);
    // The root's table does not have it (unless the number is in use by the root anyway).
    let link = std::fs::read_link(format!("/proc/self/fd/{f}"));
    assert!(link
        .map(|l| l != std::path::Path::new("/dev/null"))
        .unwrap_or(true));
    root.fin().unwrap();
}

#[test]
fn unflushed_output_of_a_task_is_flushed_at_its_end() {
    // Runs through pip-exec so that the task's stdout can be captured.
    let out = std::process::Command::new(pip_exec())
        .arg(test_tasks())
        .arg("print")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "unterminated output from task 0"
    );
}

#[test]
fn exit_runs_the_tasks_destructors_and_after_hook() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let _g = root_lock();
    let counter: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    let mut root = Root::init(1).unwrap();
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .arg("exit_with_guard")
                .aux(counter as *const AtomicUsize as *mut std::ffi::c_void)
                .after(move || {
                    counter.fetch_add(10, Ordering::SeqCst);
                    0
                }),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(6));
    assert_eq!(counter.load(Ordering::SeqCst), 11);
    root.fin().unwrap();
}

/// Runs a task that faults next to one that waits for it: the faulting task ends with `sig`,
/// and the other one, still running, is told that it ended.
fn fault_next_to_a_waiter(behaviour: &str, sig: i32) {
    let _g = root_lock();
    let mut root = Root::init(3).unwrap();
    let waiter = root
        .spawn(Spawn::program(test_tasks()).args(["import", "1", "never"]))
        .unwrap();
    let faulter = root
        .spawn(Spawn::program(test_tasks()).arg(behaviour).pipid(1))
        .unwrap();
    assert_eq!(
        root.wait(faulter).unwrap(),
        ExitStatus::Signaled(sig),
        "{behaviour}"
    );
    assert_eq!(
        root.wait(waiter).unwrap(),
        ExitStatus::Exited(100 + libc::ECANCELED),
        "the task next to {behaviour}"
    );
    // The root goes on.
    let r = root
        .spawn(Spawn::program(test_tasks()).args(["exit", "3"]))
        .unwrap();
    assert_eq!(root.wait(r).unwrap(), ExitStatus::Exited(3));
    root.fin().unwrap();
}

#[test]
fn sigbus_from_the_kernel_ends_only_the_task() {
    fault_next_to_a_waiter("sigbus", libc::SIGBUS);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn sigfpe_from_the_kernel_ends_only_the_task() {
    fault_next_to_a_waiter("sigfpe", libc::SIGFPE);
}

#[test]
fn sigill_from_the_kernel_ends_only_the_task() {
    fault_next_to_a_waiter("sigill", libc::SIGILL);
}

#[test]
fn stack_size_is_the_task_threads_stack() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let _g = root_lock();
    let size: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
    let mut root = Root::init(1).unwrap();
    // 24 MiB of recursion overflows the default 8 MiB stack; with 64 MiB it fits.
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["stack", "24576"])
                .stack_size(64 << 20)
                .aux(size as *const AtomicU64 as *mut std::ffi::c_void),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    let got = size.load(Ordering::SeqCst);
    assert!(
        ((63 << 20)..=(65 << 20)).contains(&got),
        "pthread_getattr_np in the task reports a {got}-byte stack, not 64 MiB"
    );
    root.fin().unwrap();
}

#[test]
fn pip_stacksize_sets_the_default_stack_size() {
    // Held so that the /dev/null this opens for the command's stdin does not show up in the
    // fd checks of tests that run a root meanwhile.
    let _g = root_lock();
    let out = std::process::Command::new(pip_exec())
        .env("PIP_STACKSIZE", "64m")
        .env_remove("PIP_MODE")
        .arg(test_tasks())
        .args(["stack", "24576"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("stack size "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no stack size in {stdout:?}"));
    assert!(
        ((63 << 20)..=(65 << 20)).contains(&got),
        "PIP_STACKSIZE=64m gave a {got}-byte stack"
    );
}

#[test]
fn try_wait_any_returns_a_finished_task() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    let sleeper = root
        .spawn(Spawn::program(test_tasks()).arg("sleep"))
        .unwrap();
    let quick = root
        .spawn(Spawn::program(test_tasks()).args(["exit", "3"]))
        .unwrap();
    let poll = |root: &mut Root| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(done) = root.try_wait_any().unwrap() {
                return done;
            }
            assert!(std::time::Instant::now() < deadline, "no task ended");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    };
    assert_eq!(poll(&mut root), (quick, ExitStatus::Exited(3)));
    // Only the sleeper is left, and it runs until killed.
    assert_eq!(root.try_wait_any().unwrap(), None);
    root.kill(sleeper, libc::SIGKILL).unwrap();
    assert_eq!(
        poll(&mut root),
        (sleeper, ExitStatus::Signaled(libc::SIGKILL))
    );
    assert!(matches!(root.try_wait_any(), Err(pip_core::Error::NoTasks)));
    root.fin().unwrap();
}

#[test]
fn try_named_import_says_not_yet_then_gives_the_address() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    // Task 0 finds nothing, exports "asked", and tries again until task 1, which waits for
    // "asked", exports 55 as "val".
    let importer = root
        .spawn(Spawn::program(test_tasks()).args(["try_import", "1", "val"]))
        .unwrap();
    let exporter = root
        .spawn(Spawn::program(test_tasks()).args(["export_when_asked", "0", "val", "55"]))
        .unwrap();
    assert_eq!(root.wait(exporter).unwrap(), ExitStatus::Exited(0));
    assert_eq!(
        root.wait(importer).unwrap(),
        ExitStatus::Exited(55),
        "1: the first try found something or failed otherwise; 2: never found it"
    );
    root.fin().unwrap();
}

/// When set, `root_abort_kills_the_tasks_and_aborts` runs as the aborting root (in a child
/// process of the test) in the mode it names.
const ABORT_CHILD: &str = "PIP_RS_TEST_ABORT_CHILD";

#[test]
fn root_abort_kills_the_tasks_and_aborts() {
    if let Ok(mode) = std::env::var(ABORT_CHILD) {
        abort_child(mode.parse().unwrap());
    }
    // Held for the same reason as in pip_stacksize_sets_the_default_stack_size.
    let _g = root_lock();
    for mode in ["thread", "process"] {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = std::process::Command::new(exe);
        cmd.args([
            "--exact",
            "root_abort_kills_the_tasks_and_aborts",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ABORT_CHILD, mode);
        // SAFETY: setrlimit only, between fork and exec: no core file for the abort.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                let none = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &none);
                Ok(())
            });
        }
        // Output to a file, and a wait for the process only: a task that outlived the root
        // would hold a pipe open.
        let log =
            std::env::temp_dir().join(format!("pip-rs-abort-{}-{mode}.log", std::process::id()));
        let file = std::fs::File::create(&log).unwrap();
        let status = cmd
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .status()
            .unwrap();
        let stdout = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(libc::SIGABRT),
            "{mode} mode: {status:?}\n{stdout}"
        );
        if mode == "process" {
            // The task cleared its parent-death signal, so only Root::abort's kill ends it.
            let pid: i32 = stdout
                .lines()
                .find_map(|l| l.split("task pid ").nth(1))
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or_else(|| panic!("no task pid in {stdout:?}"));
            let alive = || {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|s| {
                        s.rsplit(')')
                            .next()
                            .map(|r| !r.trim_start().starts_with('Z'))
                    })
                    .unwrap_or(false)
            };
            // It sleeps for 120 s: gone within 30 s means killed.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while alive() {
                if std::time::Instant::now() >= deadline {
                    // SAFETY: ends the task this test started.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    panic!("task {pid} outlived Root::abort");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// The aborting root: one task that only a kill ends, then `Root::abort`.
fn abort_child(mode: pip_core::Mode) -> ! {
    use std::sync::atomic::{AtomicI32, Ordering};
    let ready: &'static AtomicI32 = Box::leak(Box::new(AtomicI32::new(0)));
    let mut root = Root::builder(1).mode(mode).init().unwrap();
    let p = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["orphan_sleep", "120"])
                .aux(ready as *const AtomicI32 as *mut std::ffi::c_void),
        )
        .unwrap();
    while ready.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    println!("task pid {}", root.tid(p).unwrap());
    root.abort()
}
