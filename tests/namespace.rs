//! Namespace isolation: a private libc per task, up to glibc's limit, and a clear error past it.
//!
//! Namespaces are never freed, so the whole limit is exercised by one test in its own process
//! (this file), plus pip-exec runs for the re-executed root (15 tasks).
mod common;
use common::*;
use pip_core::{Barrier, Error, ExitStatus, Isolation, Root, Spawn};

#[test]
fn namespace_tasks_up_to_the_limit_then_a_clear_error() {
    let _g = root_lock();
    // This test process was started without the glibc tunable: 11 namespaces.
    let e = Root::builder(12)
        .isolation(Isolation::Namespace)
        .init()
        .unwrap_err();
    assert!(matches!(e, Error::NamespaceLimit { limit: 11, .. }), "{e}");
    assert!(
        e.to_string().contains("GLIBC_TUNABLES=glibc.rtld.nns=16"),
        "{e}"
    );

    let n = 11;
    // Tasks 0..10 check that their statics are private; task 10 that its environment is.
    let barrier = Box::leak(Box::new(Barrier::new(n as u32 - 1)));
    let mut root = Root::builder(n)
        .isolation(Isolation::Namespace)
        .export(barrier as *mut Barrier)
        .init()
        .unwrap();
    for _ in 0..n - 1 {
        root.spawn(Spawn::program(test_tasks()).args(["statics", "10"]))
            .unwrap();
    }
    root.spawn(
        Spawn::program(test_tasks())
            .args(["env", "PIP_NS_VAR", "only-mine", "std"])
            .env("PIP_NS_VAR", "only-mine"),
    )
    .unwrap();
    for p in 0..n {
        assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0), "task {p}");
    }
    root.fin().unwrap();

    // Every namespace of this process is used: the next task is refused before loading.
    let e = Root::builder(1)
        .isolation(Isolation::Namespace)
        .init()
        .unwrap_err();
    assert!(matches!(e, Error::NamespaceLimit { limit: 0, .. }), "{e}");
}

#[test]
fn pip_exec_raises_the_limit_to_fifteen_and_refuses_sixteen() {
    let run = |n: &str| {
        std::process::Command::new(pip_exec())
            .args(["--isolation", "namespace", "-n", n])
            .arg(example("ring"))
            .output()
            .unwrap()
    };
    let ok = run("15");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("token came back as 16 after 15 hops"));
    let refused = run("16");
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("at most 15 tasks") && err.contains("shared-libc"),
        "{err}"
    );
}

#[test]
fn exit_and_faults_end_only_the_namespace_task() {
    for (args, expect) in [
        (&["call_exit", "4"][..], 4),
        (&["segv"][..], 128 + libc::SIGSEGV),
        (&["exit", "3"][..], 3),
    ] {
        let out = std::process::Command::new(pip_exec())
            .args(["--isolation", "namespace", "-n", "1"])
            .arg(test_tasks())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(expect),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn pip_exec_raises_the_limit_when_glibc_tunables_is_already_set() {
    // glibc rewrites GLIBC_TUNABLES in the start-up environment as it parses it, so the check
    // of the re-executed root must read it the way glibc leaves it.
    for tunables in [
        "glibc.malloc.check=0",
        "glibc.malloc.tcache_count=7:glibc.malloc.check=0",
    ] {
        let out = std::process::Command::new(pip_exec())
            .args(["--isolation", "namespace", "-n", "15"])
            .arg(example("ring"))
            .env("GLIBC_TUNABLES", tunables)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "GLIBC_TUNABLES={tunables}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("token came back as 16 after 15 hops")
        );
    }
}

#[test]
fn the_namespace_limit_error_names_the_tunables_seen() {
    // PIP_RS_REEXECED stops pip-exec from re-executing itself, so the limit stays at 11.
    let out = std::process::Command::new(pip_exec())
        .args(["--isolation", "namespace", "-n", "12"])
        .arg(example("ring"))
        .env("GLIBC_TUNABLES", "glibc.malloc.check=0")
        .env("PIP_RS_REEXECED", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("at most 11 tasks")
            && err.contains(
                "GLIBC_TUNABLES=\"glibc.malloc.check=0\", which does not set glibc.rtld.nns"
            ),
        "{err}"
    );
}
