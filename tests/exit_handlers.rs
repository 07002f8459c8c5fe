//! A shared-libc task's exit handlers (`atexit`, `on_exit`, C++ static destructors, and
//! `libc::atexit` from a Rust task) run when that task ends, on the task (its thread; its own
//! process in process mode), newest first, once: never again at the root's exit. Each job runs
//! under pip-exec, so the root's own `exit()` is part of what is checked.
mod common;
mod support;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// `main(TAG, return|exit, CODE)`: registers atexit(1), on_exit(2), atexit(3), then returns
/// CODE or calls exit(CODE). Every line names the process and thread it was printed on.
const TASK_C: &str = r#"
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static const char *tag = "?";
static void say(const char *what, int status) {
    printf("%s %s status=%d id=%d/%ld\n", tag, what, status, (int)getpid(), (long)syscall(SYS_gettid));
}
static void one(void) { say("handler-1", -1); }
static void two(int status, void *arg) { say((const char *)arg, status); }
static void three(void) { say("handler-3", -1); }

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    tag = argv[1];
    atexit(one);
    on_exit(two, "handler-2");
    atexit(three);
    say("main", -1);
    if (!strcmp(argv[2], "exit")) exit(atoi(argv[3]));
    return atoi(argv[3]);
}
"#;

/// A C++ task: a global object, a function-local static and an `atexit` handler; every line
/// names the process and thread it was printed on.
const TASK_CXX: &str = r#"
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <sys/syscall.h>
static void say(const char *what) {
    std::printf("%s id=%d/%ld\n", what, (int)getpid(), (long)syscall(SYS_gettid));
}
struct Loud {
    const char *name;
    explicit Loud(const char *n) : name(n) {}
    ~Loud() { say(name); }
};
static Loud global("dtor global");
static void handler() { say("atexit"); }
int main() {
    static Loud local("dtor local");
    std::atexit(handler);
    say("main");
    return 0;
}
"#;

fn c_task() -> PathBuf {
    cc(
        &build_dir("exit-handlers"),
        "handlers.so",
        TASK_C,
        &["-shared", "-fPIC"],
    )
}

/// Compiles C++ `src` into a shared object with `g++`.
fn cxx_task(dir: &Path, name: &str, src: &str) -> PathBuf {
    let file = dir.join(format!("{name}.cpp"));
    std::fs::write(&file, src).unwrap();
    let out = dir.join(name);
    let result = Command::new("g++")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C++ compiler `g++` (install g++): {e}"));
    assert!(
        result.status.success(),
        "g++ {name}.cpp failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// Runs pip-exec with `args`; returns its output and its pid (the root's).
fn pip_exec_run(args: &[&str]) -> (Output, i32) {
    let running = start(Command::new(tool("pip-exec")).args(args));
    let pid = running.pid();
    (running.finish(HANG_LIMIT), pid)
}

/// The lines of each `id=PID/TID`, in order, without the id.
fn lines_by_id(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines() {
        let (what, id) = line.rsplit_once(" id=").expect("a line with an id");
        by_id
            .entry(id.to_string())
            .or_default()
            .push(what.to_string());
    }
    by_id
}

/// Checks one task's lines: main, then the handlers newest first, with `code` for on_exit.
fn check_task(id: &str, lines: &[String], code: i32, root_pid: i32, mode: &str, all: &str) {
    let tag = lines[0].split(' ').next().unwrap();
    let want: Vec<String> = [
        "main status=-1".to_string(),
        "handler-3 status=-1".to_string(),
        format!("handler-2 status={code}"),
        "handler-1 status=-1".to_string(),
    ]
    .iter()
    .map(|l| format!("{tag} {l}"))
    .collect();
    assert_eq!(lines, want, "{mode} task {id}:\n{all}");
    check_not_the_roots(id, root_pid, mode, all);
}

#[test]
fn c_task_handlers_run_at_its_end_on_it_newest_first_and_once() {
    let task = c_task();
    for mode in ["thread", "process"] {
        for how in ["return", "exit"] {
            // Three tasks at once, each with its own handlers.
            let task_s = task.to_str().unwrap();
            let (out, root) = pip_exec_run(&["--mode", mode, "-n", "3", task_s, "T", how, "0"]);
            let what = format!("{mode} {how}: {}", out.both());
            assert_eq!(out.code, Some(0), "{what}");
            let by_id = lines_by_id(&out.stdout);
            assert_eq!(by_id.len(), 3, "{what}");
            for (id, lines) in &by_id {
                check_task(id, lines, 0, root, mode, &what);
            }
            // The exit code reaches on_exit's handler, and the job.
            let (out, root) = pip_exec_run(&["--mode", mode, task_s, "T", how, "3"]);
            let what = format!("{mode} {how} 3: {}", out.both());
            assert_eq!(out.code, Some(3), "{what}");
            let by_id = lines_by_id(&out.stdout);
            assert_eq!(by_id.len(), 1, "{what}");
            for (id, lines) in &by_id {
                check_task(id, lines, 3, root, mode, &what);
            }
        }
    }
}

/// The root's exit() runs on its main thread (whose tid is the pid), in the root's process:
/// a task's handler must run on neither.
fn check_not_the_roots(id: &str, root_pid: i32, mode: &str, all: &str) {
    let (pid, tid) = id.split_once('/').unwrap();
    let (pid, tid): (i32, i32) = (pid.parse().unwrap(), tid.parse().unwrap());
    if mode == "process" {
        assert_ne!(pid, root_pid, "a handler ran in the root's process:\n{all}");
        assert_eq!(pid, tid, "{all}");
    } else {
        assert_eq!(pid, root_pid, "{all}");
        assert_ne!(tid, root_pid, "a handler ran on the root's thread:\n{all}");
    }
}

#[test]
fn cxx_task_static_destructors_run_at_its_end_on_it() {
    let task = cxx_task(&build_dir("exit-handlers-cxx"), "statics.so", TASK_CXX);
    for mode in ["thread", "process"] {
        let (out, root) = pip_exec_run(&["--mode", mode, "-n", "2", task.to_str().unwrap()]);
        let what = format!("{mode}: {}", out.both());
        assert_eq!(out.code, Some(0), "{what}");
        let by_id = lines_by_id(&out.stdout);
        assert_eq!(by_id.len(), 2, "{what}");
        for (id, lines) in &by_id {
            assert_eq!(
                lines,
                &["main", "atexit", "dtor local", "dtor global"],
                "{what}"
            );
            check_not_the_roots(id, root, mode, &what);
        }
    }
}

#[test]
fn rust_task_libc_atexit_handlers_run_at_its_end() {
    let task = test_tasks();
    for mode in ["thread", "process"] {
        for how in ["return", "exit"] {
            let (out, root) = pip_exec_run(&[
                "--mode",
                mode,
                "-n",
                "2",
                task.to_str().unwrap(),
                "atexit",
                how,
                "0",
            ]);
            let what = format!("{mode} {how}: {}", out.both());
            assert_eq!(out.code, Some(0), "{what}");
            let by_id = lines_by_id(&out.stdout);
            assert_eq!(by_id.len(), 2, "{what}");
            for (id, lines) in &by_id {
                assert_eq!(lines, &["rust atexit 2", "rust atexit 1"], "{what}");
                check_not_the_roots(id, root, mode, &what);
            }
        }
    }
}

/// Registers a handler, forks; the child calls exit(0), the task waits for it and returns 0.
const FORK_C: &str = r#"
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
static void handler(void) {
    printf("handler id=%d/%ld\n", (int)getpid(), (long)syscall(SYS_gettid));
}
int main(void) {
    atexit(handler);
    printf("main id=%d/%ld\n", (int)getpid(), (long)syscall(SYS_gettid));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) exit(0);
    int st;
    waitpid(pid, &st, 0);
    return 0;
}
"#;

#[test]
fn a_process_forked_by_a_task_runs_the_tasks_handlers_on_exit() {
    let task = cc(
        &build_dir("exit-handlers-fork"),
        "fork.so",
        FORK_C,
        &["-shared", "-fPIC"],
    );
    for mode in ["thread", "process"] {
        let (out, root) = pip_exec_run(&["--mode", mode, task.to_str().unwrap()]);
        let what = format!("{mode}: {}", out.both());
        assert_eq!(out.code, Some(0), "{what}");
        let by_id = lines_by_id(&out.stdout);
        // The task: main, then its handler at its end; the forked child: its copy's handler.
        assert_eq!(by_id.len(), 2, "{what}");
        let (task_id, child_id) = match by_id.iter().find(|(_, l)| l[0] == "main") {
            Some((id, _)) => (id.clone(), by_id.keys().find(|k| *k != id).unwrap().clone()),
            None => panic!("no main line: {what}"),
        };
        assert_eq!(by_id[&task_id], ["main", "handler"], "{what}");
        check_not_the_roots(&task_id, root, mode, &what);
        assert_eq!(by_id[&child_id], ["handler"], "{what}");
    }
}
