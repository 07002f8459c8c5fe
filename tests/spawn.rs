//! Spawning, waiting and ending tasks: exit codes, exit(), panics, faults, kill.
mod common;
use common::*;
use pip_core::{Barrier, ExitStatus, Root, Spawn};

fn run_one(args: &[&str]) -> ExitStatus {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let p = root.spawn(Spawn::program(test_tasks()).args(args.iter().copied())).unwrap();
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
    let mut root = Root::builder(n).export(barrier as *mut Barrier).init().unwrap();
    for _ in 0..n {
        root.spawn(Spawn::program(test_tasks()).arg("statics")).unwrap();
    }
    for p in 0..n {
        assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0), "task {p}");
    }
    root.fin().unwrap();
}
