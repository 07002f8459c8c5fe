//! C programs as tasks: compiled with `cc` at test time, run through `pip_core::Root` and through
//! pip-exec, and checked with pip-check. Covers the two ways to build a C task (`-shared -fPIC`,
//! and a PIE linked `-rdynamic`), `exit()` in a task, start functions, and every refusal with its
//! message.
mod common;
mod support;

use common::*;
use pip_core::elf::TaskFileError;
use pip_core::{Error, ExitStatus, Isolation, Root, Spawn};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::*;

/// The C task: `argv[1]` picks a behaviour.
const TASK_C: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int counter;          /* .bss: one per copy of the program */
static int initialised = 7;  /* .data: one per copy, with its initial value */

/* report FILE: writes what this copy sees to FILE, returns 40 + argc. */
static int report(int argc, char **argv) {
    FILE *f = fopen(argv[2], "w");
    if (!f) return 90;
    counter++;
    initialised++;
    fprintf(f, "counter=%d initialised=%d addr=%p\n", counter, initialised, (void *)&counter);
    for (int i = 0; i < argc; i++) fprintf(f, "argv[%d]=%s\n", i, argv[i]);
    fclose(f);
    return 40 + argc;
}

/* A start function for Spawn::function / pip-exec -f. */
int start(void *arg) {
    counter++;
    if (arg == NULL) /* as pip-exec -f calls it */
        printf("start(%ld) counter=%d addr=%p\n", (long)arg, counter, (void *)&counter);
    return (int)(long)arg;
}

int main(int argc, char **argv, char **envp) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "report") && argc >= 3) return report(argc, argv);
    if (!strcmp(argv[1], "print")) {
        counter++;
        printf("counter=%d addr=%p\n", counter, (void *)&counter);
        return 0;
    }
    if (!strcmp(argv[1], "exit") && argc >= 3) {
        if (argc == 3)           /* `exit N quiet` prints nothing */
            printf("before exit");   /* no newline: exit() must flush it */
        exit(atoi(argv[2]));
        return 99;               /* never reached */
    }
    if (!strcmp(argv[1], "getenv") && argc >= 4) {
        const char *v = getenv(argv[2]);
        return v && !strcmp(v, argv[3]) ? 0 : 1;
    }
    if (!strcmp(argv[1], "sleep")) {
        for (;;) usleep(20000);
    }
    return 3;
}
"#;

/// A PIE with a thread-local: must be refused (local-exec TLS).
const TLS_C: &str = "__thread int tx = 5;\nint main(void) { return tx; }\n";
/// A shared object without `main`.
const NO_MAIN_C: &str = "int helper(int x) { return x + 1; }\n";

/// The compiled programs, built once per test run.
struct Programs {
    /// `cc -shared -fPIC`.
    shared: PathBuf,
    /// `cc -fPIE -pie -rdynamic`.
    pie: PathBuf,
    /// A PIE with `__thread` variables.
    tls_pie: PathBuf,
    /// `cc -no-pie`.
    no_pie: PathBuf,
    /// A shared object without `main`.
    no_main: PathBuf,
    /// A text file.
    not_elf: PathBuf,
}

fn programs() -> &'static Programs {
    static P: OnceLock<Programs> = OnceLock::new();
    P.get_or_init(|| {
        let d = build_dir("c-tasks");
        let not_elf = d.join("notes.txt");
        std::fs::write(&not_elf, "not a program\n").unwrap();
        Programs {
            shared: cc(&d, "task.so", TASK_C, &["-shared", "-fPIC"]),
            pie: cc(&d, "task_pie", TASK_C, &["-fPIE", "-pie", "-rdynamic"]),
            tls_pie: cc(&d, "tls_pie", TLS_C, &["-fPIE", "-pie", "-rdynamic"]),
            no_pie: cc(&d, "task_nopie", TASK_C, &["-no-pie", "-fno-PIE"]),
            no_main: cc(&d, "nomain.so", NO_MAIN_C, &["-shared", "-fPIC"]),
            not_elf,
        }
    })
}

/// What one `report` task wrote.
#[derive(Debug)]
struct Seen {
    counter: String,
    initialised: String,
    addr: String,
    argv: Vec<String>,
}

fn read_report(path: &Path) -> Seen {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let field = |name: &str| {
        first
            .split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(String::from))
            .unwrap()
    };
    Seen {
        counter: field("counter"),
        initialised: field("initialised"),
        addr: field("addr"),
        argv: lines
            .map(|l| l.split_once('=').unwrap().1.to_string())
            .collect(),
    }
}

/// Runs `n` copies of `program report <file_i> extra` in one root, concurrently, and checks
/// argv, the exit code, and that each copy has its own statics.
fn run_report_tasks(program: &Path, n: usize, isolation: Isolation) {
    let dir = Scratch::new("c-report");
    let _g = root_lock();
    let mut root = Root::builder(n).isolation(isolation).init().unwrap();
    let files: Vec<PathBuf> = (0..n).map(|i| dir.path(&format!("task{i}.txt"))).collect();
    for f in &files {
        root.spawn(
            Spawn::program(program)
                .arg("report")
                .arg(f.display().to_string())
                .arg("extra"),
        )
        .unwrap();
    }
    for p in 0..n {
        // argc is 4: the program, "report", the file, "extra".
        assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(44), "task {p}");
    }
    root.fin().unwrap();
    let seen: Vec<Seen> = files.iter().map(|f| read_report(f)).collect();
    for (s, f) in seen.iter().zip(&files) {
        assert_eq!(
            s.argv,
            [
                program.display().to_string(),
                "report".into(),
                f.display().to_string(),
                "extra".into()
            ]
        );
        // Every copy starts from its own, untouched statics.
        assert_eq!(
            (s.counter.as_str(), s.initialised.as_str()),
            ("1", "8"),
            "{s:?}"
        );
    }
    let mut addrs: Vec<&str> = seen.iter().map(|s| s.addr.as_str()).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), n, "copies share a static: {seen:?}");
}

#[test]
fn shared_object_task_gets_argv_exit_code_and_private_statics() {
    run_report_tasks(&programs().shared, 3, Isolation::SharedLibc);
}

#[test]
fn pie_task_runs_from_a_patched_copy_and_the_file_is_unchanged() {
    let pie = &programs().pie;
    let before = std::fs::read(pie).unwrap();
    run_report_tasks(pie, 2, Isolation::SharedLibc);
    let after = std::fs::read(pie).unwrap();
    assert!(before == after, "the user's PIE was modified");
    // It is still an ordinary program too.
    let dir = Scratch::new("c-pie-direct");
    let f = dir.path("direct.txt");
    let out = run(std::process::Command::new(pie).arg("report").arg(&f));
    assert_eq!(out.code, Some(43), "{}", out.both());
    assert_eq!(read_report(&f).counter, "1");
}

#[test]
fn c_task_with_a_private_libc_in_namespace_isolation() {
    // Two namespaces of this test process's budget (never freed); argv, statics and the
    // task's own environment through its private libc's getenv.
    run_report_tasks(&programs().shared, 2, Isolation::Namespace);
    let _g = root_lock();
    let mut root = Root::builder(1)
        .isolation(Isolation::Namespace)
        .init()
        .unwrap();
    let p = root
        .spawn(
            Spawn::program(&programs().shared)
                .args(["getenv", "PIP_C_TASK_VAR", "for-this-task"])
                .env("PIP_C_TASK_VAR", "for-this-task"),
        )
        .unwrap();
    assert_eq!(root.wait(p).unwrap(), ExitStatus::Exited(0));
    root.fin().unwrap();
}

#[test]
fn exit_in_a_c_task_ends_only_that_task() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    let sleeper = root
        .spawn(Spawn::program(&programs().shared).arg("sleep"))
        .unwrap();
    let exiter = root
        .spawn(Spawn::program(&programs().shared).args(["exit", "3", "quiet"]))
        .unwrap();
    assert_eq!(root.wait(exiter).unwrap(), ExitStatus::Exited(3));
    // The other task and the root live on.
    assert_eq!(root.try_wait(sleeper).unwrap(), None);
    root.kill(sleeper, libc::SIGKILL).unwrap();
    assert_eq!(
        root.wait(sleeper).unwrap(),
        ExitStatus::Signaled(libc::SIGKILL)
    );
    root.fin().unwrap();
}

#[test]
fn exit_in_a_c_task_under_pip_exec_flushes_and_gives_the_code() {
    let out = run_tool(
        "pip-exec",
        [programs().pie.as_os_str(), "exit".as_ref(), "3".as_ref()],
    );
    assert_eq!(out.code, Some(3), "{}", out.both());
    assert!(out.stdout.contains("before exit"), "{}", out.both());
    assert!(out.stderr.contains("task 0"), "{}", out.both());
}

#[test]
fn c_start_function_through_spawn_function() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    for arg in [5usize, 6] {
        root.spawn(Spawn::function(
            &programs().shared,
            "start",
            arg as *mut std::ffi::c_void,
        ))
        .unwrap();
    }
    assert_eq!(root.wait(0).unwrap(), ExitStatus::Exited(5));
    assert_eq!(root.wait(1).unwrap(), ExitStatus::Exited(6));
    root.fin().unwrap();
}

#[test]
fn c_start_function_through_pip_exec() {
    let out = run_tool(
        "pip-exec",
        [
            "-n".as_ref(),
            "3".as_ref(),
            "-f".as_ref(),
            "start".as_ref(),
            programs().shared.as_os_str(),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.both());
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("start(0) counter=1 "))
        .collect();
    assert_eq!(lines.len(), 3, "{}", out.both());
}

#[test]
fn pip_exec_runs_c_tasks_with_private_statics() {
    // Both kinds of C task, under both isolation levels (each pip-exec is a fresh process, so
    // the namespace runs do not use this test process's namespaces).
    for isolation in ["shared-libc", "namespace"] {
        for program in [&programs().shared, &programs().pie] {
            let out = run_tool(
                "pip-exec",
                [
                    "--isolation".as_ref(),
                    isolation.as_ref(),
                    "-n".as_ref(),
                    "4".as_ref(),
                    program.as_os_str(),
                    "print".as_ref(),
                ],
            );
            let what = format!("{isolation} {}", program.display());
            assert_eq!(out.code, Some(0), "{what}: {}", out.both());
            let mut addrs: Vec<&str> = out
                .stdout
                .lines()
                .map(|l| {
                    assert!(l.starts_with("counter=1 addr="), "{what}: {}", out.both());
                    l.rsplit('=').next().unwrap()
                })
                .collect();
            assert_eq!(addrs.len(), 4, "{what}: {}", out.both());
            addrs.sort();
            addrs.dedup();
            assert_eq!(
                addrs.len(),
                4,
                "{what}: copies share a static: {}",
                out.both()
            );
        }
    }
}

/// A C task that forks; the child calls `exit(7)`; the task returns the child's exit code (or
/// 128 + the signal that ended it, or 99 if it did not end).
const FORK_EXIT_C: &str = r#"
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t pid = fork();
    if (pid == 0) exit(7);
    int st;
    for (int i = 0; i < 3000; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return 99;
}
"#;

#[test]
fn exit_in_a_process_forked_by_a_c_task_is_the_real_exit() {
    let dir = build_dir("c-fork-exit");
    let task = cc(&dir, "fork_exit.so", FORK_EXIT_C, &["-shared", "-fPIC"]);
    for mode in ["thread", "process"] {
        for isolation in ["shared-libc", "namespace"] {
            let out = run_tool(
                "pip-exec",
                [
                    "--mode".as_ref(),
                    mode.as_ref(),
                    "--isolation".as_ref(),
                    isolation.as_ref(),
                    task.as_os_str(),
                ],
            );
            assert_eq!(out.code, Some(7), "{mode} {isolation}: {}", out.both());
        }
    }
}

// --- Refusals --------------------------------------------------------------------------------

/// Spawns `path` in a fresh root and returns the error.
fn spawn_error(path: &Path) -> Error {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let e = root
        .spawn(Spawn::program(path).arg("print"))
        .expect_err("the spawn should have been refused");
    root.fin().unwrap();
    e
}

fn reason(e: &Error) -> &TaskFileError {
    match e {
        Error::TaskFile(r) => &r.reason,
        other => panic!("expected a task-file error, got {other:?}"),
    }
}

/// pip-exec refuses `bad` before starting anything: the good task of the first group never
/// runs. Returns pip-exec's stderr.
fn pip_exec_refuses(bad: &Path) -> String {
    let out = run_tool(
        "pip-exec",
        [
            programs().shared.as_os_str(),
            "print".as_ref(),
            ":".as_ref(),
            bad.as_os_str(),
            "print".as_ref(),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.is_empty(), "a task ran: {}", out.both());
    assert!(
        out.stderr.contains(&bad.display().to_string()),
        "{}",
        out.both()
    );
    out.stderr
}

/// pip-check's verdict: not a task, with `reason` in its text.
fn pip_check_refuses(bad: &Path, reason: &str) {
    let out = run_tool("pip-check", ["-t".as_ref(), bad.as_os_str()]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.contains("NOT a task"), "{}", out.both());
    assert!(out.stdout.contains(reason), "{}", out.both());
}

#[test]
fn pie_with_thread_locals_is_refused() {
    let e = spawn_error(&programs().tls_pie);
    assert!(
        matches!(reason(&e), TaskFileError::LocalExecTls { .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("thread-local") && msg.contains("-shared -fPIC"),
        "{msg}"
    );
    assert!(pip_exec_refuses(&programs().tls_pie).contains("local-exec"));
    pip_check_refuses(&programs().tls_pie, "local-exec TLS model");
}

#[test]
fn non_pie_executable_is_refused() {
    let e = spawn_error(&programs().no_pie);
    assert!(matches!(reason(&e), TaskFileError::NotDynamic), "{e:?}");
    assert!(e.to_string().contains("-fPIE -pie -rdynamic"), "{e}");
    assert!(pip_exec_refuses(&programs().no_pie).contains("non-PIE"));
    pip_check_refuses(&programs().no_pie, "non-PIE executable (ET_EXEC)");
}

#[test]
fn file_without_main_is_refused() {
    let e = spawn_error(&programs().no_main);
    match reason(&e) {
        TaskFileError::NoEntry { symbol, .. } => assert_eq!(symbol, "main"),
        other => panic!("expected NoEntry, got {other:?}"),
    }
    assert!(e.to_string().contains("int main(int, char **)"), "{e}");
    assert!(pip_exec_refuses(&programs().no_main).contains("`main` is not defined"));
    pip_check_refuses(&programs().no_main, "`main` is not defined");
    // A start function that does not exist, through -f.
    let out = run_tool(
        "pip-check",
        [
            "-f".as_ref(),
            "nope".as_ref(),
            programs().shared.as_os_str(),
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stdout.contains("`nope` is not defined"),
        "{}",
        out.both()
    );
}

#[test]
fn non_elf_file_is_refused() {
    let e = spawn_error(&programs().not_elf);
    assert!(matches!(reason(&e), TaskFileError::NotElf), "{e:?}");
    assert!(pip_exec_refuses(&programs().not_elf).contains("not an ELF file"));
    pip_check_refuses(&programs().not_elf, "not an ELF file");
}

#[test]
fn missing_file_is_refused() {
    let missing = programs().shared.with_file_name("no-such-task.so");
    let e = spawn_error(&missing);
    assert!(matches!(reason(&e), TaskFileError::Missing), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("{}: no such file", missing.display())
    );
    assert!(pip_exec_refuses(&missing).contains("no such file"));
    pip_check_refuses(&missing, "no such file");
}

#[test]
fn rust_executable_is_refused_with_the_cdylib_advice() {
    let exe = tool("pip-exec");
    let e = spawn_error(&exe);
    assert!(
        matches!(reason(&e), TaskFileError::LocalExecTls { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("cdylib"), "{e}");
    assert!(pip_exec_refuses(&exe).contains("cdylib"));
    pip_check_refuses(&exe, "cdylib");
}

// --- pip-check on the good files ---------------------------------------------------------------

#[test]
fn pip_check_accepts_the_c_tasks() {
    let p = programs();
    let out = run_tool(
        "pip-check",
        ["-t".as_ref(), p.shared.as_os_str(), p.pie.as_os_str()],
    );
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stdout
            .contains(&format!("{}: task\n", p.shared.display())),
        "{}",
        out.both()
    );
    assert!(
        out.stdout.contains("C program built as a shared object"),
        "{}",
        out.both()
    );
    assert!(
        out.stdout.contains("C program built as a PIE"),
        "{}",
        out.both()
    );
    assert!(
        out.stdout.contains("isolation: shared-libc"),
        "{}",
        out.both()
    );
    let out = run_tool(
        "pip-check",
        [
            "-t".as_ref(),
            "-f".as_ref(),
            "start".as_ref(),
            p.shared.as_os_str(),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.contains("entry `start`"), "{}", out.both());
    // Neither C task is a root: they do not export `exit`.
    let out = run_tool("pip-check", ["-r".as_ref(), p.pie.as_os_str()]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stdout.contains("does not export `exit`"),
        "{}",
        out.both()
    );
}
