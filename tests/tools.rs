//! The command-line tools as a user runs them: pip-exec (SPMD and MPMD jobs, -f, --cores, exit
//! codes, failing tasks, signals, bad command lines, mpirun's options and program lookup),
//! pip-check and pip-mode.
//!
//! Every job runs under a generous time limit that only stops a hang; nothing here depends on
//! timing.
mod common;
mod support;

use common::*;
use std::ffi::OsStr;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::*;

fn pip_exec_cmd<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(tool("pip-exec"));
    c.args(args)
        .env_remove("PIP_MODE")
        .env_remove("PIP_STOP_ON_START");
    c
}

/// Runs pip-exec with these arguments.
fn pip_exec_run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(&mut pip_exec_cmd(args))
}

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// A C task that prints the CPUs its thread may run on, e.g. `cpus: 0 1`.
fn affinity_task() -> &'static std::path::Path {
    static P: OnceLock<std::path::PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = r#"
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
int main(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    char line[4096];
    int n = snprintf(line, sizeof line, "cpus:");
    for (int c = 0; c < CPU_SETSIZE && n < 4000; c++)
        if (CPU_ISSET(c, &set)) n += snprintf(line + n, sizeof line - n, " %d", c);
    puts(line);
    return 0;
}
"#;
        cc(
            &build_dir("tools"),
            "affinity.so",
            src,
            &["-shared", "-fPIC"],
        )
    })
}

/// The CPUs the test process may use.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
            0
        );
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

// --- Running jobs --------------------------------------------------------------------------

#[test]
fn hello_with_four_tasks_shows_four_private_statics() {
    let out = pip_exec_run(["-n".into(), "4".into(), s(&example("hello"))]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    let mut addrs = Vec::new();
    for pipid in 0..4 {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("Hello from task {pipid} of 4")))
            .unwrap_or_else(|| panic!("no line from task {pipid}: {}", out.both()));
        let addr = line
            .split_whitespace()
            .find(|w| w.starts_with("0x"))
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        addrs.push(addr.to_string());
    }
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 4, "tasks share a static: {}", out.both());
}

/// PiP's scripts write `pip-exec -n 1 ./prog :`: a trailing `:` adds no group.
#[test]
fn a_trailing_colon_is_accepted_as_pip_exec_does() {
    let out = pip_exec_run(["-n".into(), "2".into(), s(&example("hello")), ":".into()]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    for pipid in 0..2 {
        let expect = format!("Hello from task {pipid} of 2");
        assert!(out.stdout.contains(&expect), "{expect:?}: {}", out.both());
    }
}

#[test]
fn mpmd_groups_get_consecutive_pipids_and_one_task_count() {
    let out = pip_exec_run([
        "-n".into(),
        "2".into(),
        s(&example("hello")),
        ":".into(),
        "-n".into(),
        "2".into(),
        s(&test_tasks()),
        "print".into(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    for expect in [
        "Hello from task 0 of 4",
        "Hello from task 1 of 4",
        "unterminated output from task 2",
        "unterminated output from task 3",
    ] {
        assert!(out.stdout.contains(expect), "{expect:?}: {}", out.both());
    }
}

#[test]
fn start_function_with_f() {
    // add_one_fn returns its argument plus one; pip-exec passes a null argument, so each
    // task exits with 1, which is the job's code.
    let out = pip_exec_run([
        "-n".into(),
        "2".into(),
        "-f".into(),
        "add_one_fn".into(),
        s(&test_tasks()),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("exited with code 1"), "{}", out.both());
    // In a later group.
    let out = pip_exec_run([
        s(&test_tasks()),
        "exit".into(),
        "0".into(),
        ":".into(),
        "-f".into(),
        "add_one_fn".into(),
        s(&test_tasks()),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("task 1 ("), "{}", out.both());
    // A function that does not exist is refused before anything runs.
    let out = pip_exec_run([
        s(&test_tasks()),
        "print".into(),
        ":".into(),
        "-f".into(),
        "no_such_function".into(),
        s(&test_tasks()),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.is_empty(), "a task ran: {}", out.both());
    assert!(
        out.stderr.contains("`no_such_function` is not defined"),
        "{}",
        out.both()
    );
}

#[test]
fn cores_pin_each_task() {
    let allowed = allowed_cpus();
    let first = allowed[0];
    let out = pip_exec_run([
        "--cores".into(),
        first.to_string(),
        "-n".into(),
        "2".into(),
        s(affinity_task()),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines, vec![format!("cpus: {first}"); 2], "{}", out.both());
    if allowed.len() >= 2 {
        // Task i goes to LIST[i % len].
        let list = format!("{},{}", allowed[0], allowed[1]);
        let out = pip_exec_run([
            "--cores".into(),
            list,
            "-n".into(),
            "4".into(),
            s(affinity_task()),
        ]);
        assert_eq!(out.code, Some(0), "{}", out.both());
        let mut lines: Vec<&str> = out.stdout.lines().collect();
        lines.sort();
        let (a, b) = (
            format!("cpus: {}", allowed[0]),
            format!("cpus: {}", allowed[1]),
        );
        assert_eq!(lines, vec![&*a, &*a, &*b, &*b], "{}", out.both());
    }
    // Without --cores a task may run anywhere the job may.
    let out = pip_exec_run([s(affinity_task())]);
    let all: Vec<String> = allowed.iter().map(|c| c.to_string()).collect();
    assert_eq!(out.stdout.trim_end(), format!("cpus: {}", all.join(" ")));
}

// --- Exit codes and failures ---------------------------------------------------------------------

#[test]
fn exit_code_is_zero_when_every_task_succeeds() {
    let out = pip_exec_run([
        "-n".into(),
        "3".into(),
        s(&test_tasks()),
        "exit".into(),
        "0".into(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stderr.is_empty(), "{}", out.both());
}

#[test]
fn several_copies_started_by_an_mpi_launcher_are_refused() {
    // What MPICH's and Open MPI's mpirun tell the copies they start (no launcher needed).
    for (size, rank, says) in [
        (
            "PMI_SIZE",
            "PMI_RANK",
            "process 1 of 2 started by an MPI launcher (PMI_SIZE=2)",
        ),
        (
            "OMPI_COMM_WORLD_SIZE",
            "OMPI_COMM_WORLD_RANK",
            "process 1 of 2 started by an MPI launcher (OMPI_COMM_WORLD_SIZE=2)",
        ),
    ] {
        let mut cmd = pip_exec_cmd([
            "-n".into(),
            "2".into(),
            s(&test_tasks()),
            "exit".into(),
            "0".into(),
        ]);
        let out = run(cmd.env(size, "2").env(rank, "1"));
        assert_eq!(out.code, Some(1), "{}", out.both());
        assert!(out.stderr.contains(says), "{}", out.both());
        assert!(
            out.stderr.contains("pip-exec -n N program"),
            "{}",
            out.both()
        );
        assert!(out.stdout.is_empty(), "a task ran: {}", out.both());
        // One copy is an ordinary job.
        let mut cmd = pip_exec_cmd([
            "-n".into(),
            "2".into(),
            s(&test_tasks()),
            "exit".into(),
            "0".into(),
        ]);
        let out = run(cmd.env(size, "1").env(rank, "0"));
        assert_eq!(out.code, Some(0), "{}", out.both());
    }
}

/// Runs `failing` as task 0 while two tasks sleep; the job must end with `code`, naming task 0
/// and how it ended (`how`).
fn failing_task_ends_the_job(failing: &[&str], code: i32, how: &str) {
    let mut args = vec![s(&test_tasks())];
    args.extend(failing.iter().map(|a| a.to_string()));
    args.extend([":", "-n", "2"].map(String::from));
    args.push(s(&test_tasks()));
    args.push("sleep".into());
    let out = pip_exec_run(args);
    assert_eq!(out.code, Some(code), "{failing:?}: {}", out.both());
    let expect = format!("task 0 ({}) {how}; ending the job", s(&test_tasks()));
    assert!(out.stderr.contains(&expect), "{expect:?}: {}", out.both());
}

#[test]
fn a_failing_task_ends_the_job_with_its_status() {
    failing_task_ends_the_job(&["exit", "7"], 7, "exited with code 7");
    failing_task_ends_the_job(&["call_exit", "5"], 5, "exited with code 5");
    failing_task_ends_the_job(&["panic"], 101, "panicked");
    failing_task_ends_the_job(&["segv"], 139, "killed by signal 11 (SIGSEGV)");
    failing_task_ends_the_job(&["abort"], 134, "killed by signal 6 (SIGABRT)");
}

#[test]
fn a_fault_after_the_others_started_ends_them_promptly() {
    // The sleepers start first; the faulting task is the last one spawned.
    let out = pip_exec_run([
        "-n".into(),
        "2".into(),
        s(&test_tasks()),
        "sleep".into(),
        ":".into(),
        s(&test_tasks()),
        "segv".into(),
    ]);
    assert_eq!(out.code, Some(139), "{}", out.both());
    assert!(
        out.stderr.contains("task 2 (") && out.stderr.contains("SIGSEGV"),
        "{}",
        out.both()
    );
}

#[test]
fn sigterm_and_sigint_end_every_task() {
    for (sig, code, name) in [
        (libc::SIGTERM, 143, "SIGTERM"),
        (libc::SIGINT, 130, "SIGINT"),
    ] {
        let mut job = start(&mut pip_exec_cmd([
            "-n".into(),
            "3".into(),
            s(&test_tasks()),
            "sleep".into(),
        ]));
        job.wait_for_task_threads("test_tasks", 3);
        // Tools find the job by PiP's thread names: the root, then `<pipid>|<program>`.
        let names = task_thread_names(job.pid());
        for expect in ["R|pip-exec", "0|test_tasks", "1|test_tasks", "2|test_tasks"] {
            assert!(names.iter().any(|n| n == expect), "{expect}: {names:?}");
        }
        // SAFETY: signalling our own child.
        assert_eq!(unsafe { libc::kill(job.pid(), sig) }, 0);
        let out = job.finish(HANG_LIMIT);
        assert_eq!(out.code, Some(code), "{name}: {}", out.both());
        assert!(
            out.stderr.contains(&format!("{name}: ending all tasks")),
            "{}",
            out.both()
        );
    }
}

#[test]
fn stop_on_start_stops_the_job_until_continued() {
    let mut cmd = pip_exec_cmd([s(&test_tasks()), "exit".into(), "0".into()]);
    cmd.env("PIP_STOP_ON_START", "0");
    let job = start(&mut cmd);
    // Wait for the process to stop (state T in /proc/PID/stat).
    let stat = format!("/proc/{}/stat", job.pid());
    let deadline = std::time::Instant::now() + HANG_LIMIT;
    loop {
        let st = std::fs::read_to_string(&stat).unwrap_or_default();
        let state = st
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        if state == Some("T") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job never stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(job.pid(), libc::SIGCONT) }, 0);
    let out = job.finish(HANG_LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stderr.contains("stopped on start"), "{}", out.both());
}

// --- mpirun habits ----------------------------------------------------------------------------

/// `-np`, `--bind-to`, `--report-bindings`, `--oversubscribe` and `--map-by core`, in mpirun's
/// double- and single-dash spellings, and `-np` in a later MPMD group.
#[test]
fn mpirun_options_run_a_job() {
    let hello = s(&example("hello"));
    let first = allowed_cpus()[0];
    let spellings: [&[&str]; 2] = [
        &[
            "-np",
            "2",
            "--bind-to",
            "core",
            "--report-bindings",
            "--oversubscribe",
            "--map-by",
            "core",
        ],
        &[
            "-np",
            "2",
            "-bind-to",
            "core",
            "-report-bindings",
            "-oversubscribe",
            "-map-by",
            "slot",
        ],
    ];
    for opts in spellings {
        let mut args: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
        args.extend([
            hello.clone(),
            ":".into(),
            "-np".into(),
            "1".into(),
            hello.clone(),
        ]);
        let out = pip_exec_run(&args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.both());
        assert_eq!(
            out.stdout.matches("Hello from task").count(),
            3,
            "{}",
            out.both()
        );
        assert!(out.stdout.contains("of 3"), "{}", out.both());
        let line = format!("pip-exec: task 0 ({hello}) bound to CPU {first}");
        assert!(out.stderr.contains(&line), "want {line:?}: {}", out.both());
        assert_eq!(
            out.stderr.matches(" bound to CPU ").count(),
            3,
            "{}",
            out.both()
        );
    }
    // Unpinned tasks are reported as such.
    let out = pip_exec_run(["--report-bindings", &hello]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stderr.contains("task 0 (") && out.stderr.contains(") not bound"),
        "{}",
        out.both()
    );
    // --bind-to core pins the tasks to the CPUs pip-exec may use, one each.
    let out = pip_exec_run(["-np", "1", "--bind-to", "core", &s(affinity_task())]);
    assert_eq!(
        out.stdout.trim_end(),
        format!("cpus: {first}"),
        "{}",
        out.both()
    );
}

/// `-x VAR=VAL` sets a variable for the tasks (in their environment and in libc's); `-x VAR`
/// passes pip-exec's own value.
#[test]
fn mpirun_x_passes_environment_variables() {
    let t = s(&test_tasks());
    let out = run(pip_exec_cmd([
        "-x",
        "PIP_RS_X_ONE=a=b",
        "-x",
        "PIP_RS_X_TWO",
        &t,
        "env",
        "PIP_RS_X_ONE",
        "a=b",
        ":",
        &t,
        "env",
        "PIP_RS_X_ONE",
        "a=b",
        "std",
        ":",
        &t,
        "env",
        "PIP_RS_X_TWO",
        "two",
    ])
    .env("PIP_RS_X_TWO", "two")
    .env_remove("PIP_RS_X_ONE"));
    assert_eq!(out.code, Some(0), "{}", out.both());
    // Without -x the variable is not there.
    let out = pip_exec_run([&t, "env", "PIP_RS_X_ONE", "a=b"]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    // An unset VAR is not an error, but is said.
    let out = run(pip_exec_cmd([
        "-x",
        "PIP_RS_X_UNSET",
        &example("hello").display().to_string(),
    ])
    .env_remove("PIP_RS_X_UNSET"));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stderr.contains("PIP_RS_X_UNSET is not set here"),
        "{}",
        out.both()
    );
}

/// A bare program name is looked up on PATH, then in the current directory (as Open MPI's
/// mpirun does); names with a `/` are used as given.
#[test]
fn a_bare_program_name_is_found_on_path_then_in_the_current_directory() {
    let hello = example("hello");
    let dir = hello.parent().unwrap();
    let elsewhere = Scratch::new("path-lookup");
    let without_dir = std::env::var_os("PATH").unwrap_or_default();
    let mut with_dir = dir.as_os_str().to_os_string();
    with_dir.push(":");
    with_dir.push(&without_dir);
    // On PATH.
    let out = run(pip_exec_cmd(["-n", "2", "libhello.so"])
        .current_dir(&elsewhere.0)
        .env("PATH", &with_dir));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert_eq!(
        out.stdout.matches("Hello from task").count(),
        2,
        "{}",
        out.both()
    );
    // In the current directory only; and as ./NAME and dir/NAME.
    for prog in ["libhello.so", "./libhello.so", "examples/libhello.so"] {
        let cwd = if prog.starts_with("examples") {
            dir.parent().unwrap()
        } else {
            dir
        };
        let out = run(pip_exec_cmd([prog])
            .current_dir(cwd)
            .env("PATH", &without_dir));
        assert_eq!(out.code, Some(0), "{prog}: {}", out.both());
        assert!(
            out.stdout.contains("Hello from task 0"),
            "{prog}: {}",
            out.both()
        );
    }
    // Nowhere.
    let out = run(pip_exec_cmd(["libhello.so"])
        .current_dir(&elsewhere.0)
        .env("PATH", &without_dir));
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stderr
            .contains("libhello.so: no such program (not on PATH nor in the current directory)"),
        "{}",
        out.both()
    );
}

/// A crate built without `crate-type = ["cdylib"]` leaves `lib<name>.rlib` where the task
/// should be: pip-exec says what to add.
#[test]
fn a_missing_task_next_to_its_rlib_gets_a_cdylib_hint() {
    let dir = Scratch::new("rlib-hint");
    std::fs::write(dir.path("libmytask.rlib"), b"!<arch>\n").unwrap();
    let want = "libmytask.rlib is there: add `crate-type = [\"cdylib\"]` to [lib] in Cargo.toml";
    let out = pip_exec_run(["-n", "2", &s(&dir.path("libmytask.so"))]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains(want), "{}", out.both());
    assert!(
        out.stderr.contains("libmytask.so: no such file"),
        "{}",
        out.both()
    );
    let out = run(pip_exec_cmd(["libmytask.so"]).current_dir(&dir.0));
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains(want), "{}", out.both());
    // Without the rlib: the plain message.
    let out = pip_exec_run([s(&dir.path("libother.so"))]);
    assert!(!out.stderr.contains("is there"), "{}", out.both());
}

/// A Rust task object run as a program (`./libhello.so`) says how to run it and exits with 2,
/// instead of crashing at address 0; it still runs as a task. `task_function!` alone (no
/// `main`) gives it the same entry.
#[test]
fn a_task_object_run_as_a_program_says_how_to_run_it() {
    for task in [example("hello"), test_tasks(), example("function_task")] {
        let out = run(&mut Command::new(&task));
        assert_eq!(out.code, Some(2), "{}: {}", task.display(), out.both());
        let want = format!(
            "this is a PiP task: run it with pip-exec -n N {}\n",
            task.display()
        );
        assert_eq!(out.stderr, want, "{}", out.both());
        assert!(out.stdout.is_empty(), "{}", out.both());
    }
    // With an empty argv[0] the message says FILE.
    let out = run(std::os::unix::process::CommandExt::arg0(
        &mut Command::new(example("hello")),
        "",
    ));
    assert_eq!(out.code, Some(2), "{}", out.both());
    assert_eq!(
        out.stderr,
        "this is a PiP task: run it with pip-exec -n N FILE\n"
    );
    let out = pip_exec_run(["-n", "2", "-f", "eight_fn", &s(&example("function_task"))]);
    assert_eq!(out.code, Some(8), "{}", out.both());
    // As a task, in both modes.
    for mode in ["thread", "process"] {
        let out = pip_exec_run(["--mode", mode, "-n", "2", &s(&example("hello"))]);
        assert_eq!(out.code, Some(0), "{mode}: {}", out.both());
        assert_eq!(
            out.stdout.matches("Hello from task").count(),
            2,
            "{}",
            out.both()
        );
    }
}

// --- Bad command lines -----------------------------------------------------------------------

#[test]
fn bad_command_lines_get_clear_errors() {
    let hello = s(&example("hello"));
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (vec![], 2, "required"),
        (
            vec!["-n".into(), "0".into(), hello.clone()],
            1,
            "-n must be at least 1",
        ),
        (
            vec!["-n".into(), "x".into(), hello.clone()],
            2,
            "invalid value 'x'",
        ),
        (
            vec!["--cores".into(), "x".into(), hello.clone()],
            1,
            "`x` is not a CPU number or range",
        ),
        (
            vec!["--cores".into(), "3-1".into(), hello.clone()],
            1,
            "`3-1` is not a CPU number or range",
        ),
        (
            vec!["--cores".into(), "1000".into(), hello.clone()],
            1,
            "CPU 1000 is not available to this process",
        ),
        (
            vec![hello.clone(), ":".into(), ":".into()],
            1,
            "group 2 has no program",
        ),
        (vec![":".into()], 1, "group 1 has no program"),
        (
            vec![hello.clone(), ":".into(), "-n".into(), "2".into()],
            1,
            "group 2 has no program",
        ),
        (
            vec!["/nonexistent/libtask.so".into()],
            1,
            "/nonexistent/libtask.so: no such file",
        ),
        (
            vec!["--isolation".into(), "bogus".into(), hello.clone()],
            2,
            "unknown isolation `bogus`",
        ),
        (
            vec!["-n".into(), "5000".into(), hello.clone()],
            1,
            "between 1 and 4096 tasks",
        ),
        (
            vec!["--foo".into(), hello.clone()],
            2,
            "pip-exec: unknown option --foo (see pip-exec --help)",
        ),
        (
            vec!["-np".into(), "2".into(), "-q".into(), hello.clone()],
            2,
            "pip-exec: unknown option -q (see pip-exec --help)",
        ),
        (
            vec![hello.clone(), ":".into(), "--foo".into(), hello.clone()],
            1,
            "group 2: unknown option --foo",
        ),
        (
            vec!["--map-by".into(), "socket".into(), hello.clone()],
            1,
            "--map-by socket: not supported",
        ),
        (
            vec!["--bind-to".into(), "socket".into(), hello.clone()],
            2,
            "invalid value 'socket'",
        ),
        (
            vec![
                "--bind-to".into(),
                "none".into(),
                "--cores".into(),
                "0".into(),
                hello.clone(),
            ],
            1,
            "--bind-to none and --cores contradict each other",
        ),
        (
            vec!["-x".into(), "=1".into(), hello.clone()],
            1,
            "-x =1: want VAR",
        ),
        (
            vec!["no-such-task-anywhere.so".into()],
            1,
            "no-such-task-anywhere.so: no such program",
        ),
    ];
    for (args, code, expect) in cases {
        let out = pip_exec_run(&args);
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.both());
        assert!(
            out.stderr.contains(expect),
            "{args:?}: want {expect:?}: {}",
            out.both()
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?}: a task ran: {}",
            out.both()
        );
    }
}

/// Runs a tool on `program` with a memory limit (so that a tool that reads `/dev/zero` fails
/// instead of taking the machine's memory) and the usual hang limit.
fn run_bounded(tool_name: &str, program: &std::path::Path) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(tool(tool_name));
    cmd.arg(program).env_remove("PIP_MODE");
    // SAFETY: setrlimit is async-signal-safe; the child only sets its own limit.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 8 << 30,
                rlim_max: 8 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
    run(&mut cmd)
}

#[test]
fn fifos_and_devices_are_refused_not_read() {
    let dir = Scratch::new("fifo");
    let fifo = dir.path("libfifo.so");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for (program, what) in [
        (fifo.as_path(), "not a regular file but a FIFO"),
        (
            "/dev/zero".as_ref(),
            "not a regular file but a character device",
        ),
    ] {
        for tool_name in ["pip-exec", "pip-check"] {
            let out = run_bounded(tool_name, program);
            assert_eq!(
                out.code,
                Some(1),
                "{tool_name} {}: {}",
                program.display(),
                out.both()
            );
            let text = if tool_name == "pip-exec" {
                &out.stderr
            } else {
                &out.stdout
            };
            assert!(
                text.contains(what) && text.contains(&s(program)),
                "{tool_name} {}: {}",
                program.display(),
                out.both()
            );
        }
    }
}

#[test]
fn a_program_on_a_noexec_mount_is_refused() {
    let regular = std::fs::metadata(example("hello")).unwrap();
    assert!(matches!(
        pip_core::elf::check_task_file_metadata(&regular, libc::ST_NOEXEC),
        Err(pip_core::elf::TaskFileError::NoExecMount)
    ));
    let mount = match NoexecMount::new("tools") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("\n!!!!! NOT TESTED FOR REAL: cannot mount a noexec tmpfs ({why}); only the decision was tested !!!!!\n");
            return;
        }
    };
    let copy = mount.0.join("libhello.so");
    std::fs::copy(example("hello"), &copy).unwrap();
    let out = run_bounded("pip-exec", &copy);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("mounted noexec"), "{}", out.both());
    assert!(out.stdout.is_empty(), "a task ran: {}", out.both());
    let out = run_bounded("pip-check", &copy);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.contains("mounted noexec"), "{}", out.both());
}

#[test]
fn thousands_of_tasks_run_under_a_soft_open_file_limit_of_1024() {
    // Every task's image stays open as a memfd: they must not count against the soft limit
    // the job was started with, nor push the tasks' own files above 1024 (select()'s limit).
    let src = r#"
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) return 2;
    close(fd);
    return fd < 1024 ? 0 : 3;
}
"#;
    let task = cc(
        &build_dir("tools-nofile"),
        "libopen_low.so",
        src,
        &["-shared", "-fPIC"],
    );
    let n = 4096;
    let mut cmd = pip_exec_cmd(["-n".to_string(), n.to_string(), s(&task)]);
    cmd.env("PIP_STACKSIZE", "1m");
    use std::os::unix::process::CommandExt;
    // SAFETY: getrlimit and setrlimit are async-signal-safe; the child sets its own limit.
    unsafe {
        cmd.pre_exec(|| {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
            lim.rlim_cur = 1024;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            Ok(())
        });
    }
    let out = start(&mut cmd).finish(Duration::from_secs(600));
    assert_eq!(out.code, Some(0), "{}", out.both());
}

#[test]
fn running_out_of_descriptors_says_how_to_raise_the_limit() {
    let mut cmd = pip_exec_cmd(["-n", "200", &s(&example("hello"))]);
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; the child lowers its own limits.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            Ok(())
        });
    }
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stderr.contains("Too many open files") && out.stderr.contains("ulimit -Hn"),
        "{}",
        out.both()
    );
}

#[test]
fn process_modes_that_need_a_patched_glibc_are_refused_clearly() {
    let out = run(pip_exec_cmd([s(&example("hello"))]).env("PIP_MODE", "process:preload"));
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("patched glibc"), "{}", out.both());
    let out = run(pip_exec_cmd([s(&example("hello"))]).env("PIP_MODE", "process"));
    assert_eq!(out.code, Some(0), "{}", out.both());
    // Both spellings of the thread mode work.
    for mode in ["thread", "pthread"] {
        let out = run(pip_exec_cmd([s(&example("hello"))]).env("PIP_MODE", mode));
        assert_eq!(out.code, Some(0), "{mode}: {}", out.both());
    }
}

#[test]
fn a_rust_executable_is_refused_before_any_task_starts() {
    let out = pip_exec_run([
        "-n".into(),
        "2".into(),
        s(&test_tasks()),
        "print".into(),
        ":".into(),
        s(&tool("pip-exec")),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.is_empty(), "a task ran: {}", out.both());
    assert!(
        out.stderr.contains("cdylib") && out.stderr.contains("task_main!"),
        "{}",
        out.both()
    );
}

// --- pip-check -----------------------------------------------------------------------------

#[test]
fn pip_check_on_a_rust_task() {
    let hello = s(&example("hello"));
    let out = run_tool("pip-check", [&hello]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stdout.starts_with(&format!("{hello}: task\n")),
        "{}",
        out.both()
    );
    let abi = pip_core::abi::ABI_VERSION;
    assert!(
        out.stdout
            .contains(&format!("Rust pip-rs task (pip-core ABI v{abi})")),
        "{}",
        out.both()
    );
    assert!(
        out.stdout.contains("entry `main` (exported)"),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains("shared-libc") && out.stdout.contains("namespace"));
    // A task is not a root.
    let out = run_tool("pip-check", ["-b", &hello]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.contains("task, NOT a root"), "{}", out.both());
    // -f checks a start function.
    let out = run_tool("pip-check", ["-t", "-f", "add_one_fn", &s(&test_tasks())]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.contains("entry `add_one_fn`"), "{}", out.both());
}

#[test]
fn pip_check_on_pip_exec_says_root_not_task() {
    let exe = s(&tool("pip-exec"));
    let out = run_tool("pip-check", [&exe]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stdout.starts_with(&format!("{exe}: root\n")),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains("Rust executable"), "{}", out.both());
    assert!(out.stdout.contains("exports `exit`"), "{}", out.both());
    let out = run_tool("pip-check", ["-r", &exe]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    let out = run_tool("pip-check", ["-t", &exe]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.contains("NOT a task") && out.stdout.contains("cdylib"));
    // A stripped copy is still recognised as a Rust root.
    let dir = build_dir("tools-roots");
    let stripped = dir.join("pip-exec-stripped");
    match Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(tool("pip-exec"))
        .status()
    {
        Ok(st) => {
            assert!(st.success());
            let out = run_tool("pip-check", ["-r".into(), s(&stripped)]);
            assert_eq!(out.code, Some(0), "{}", out.both());
            assert!(
                out.stdout.contains("Rust executable") && out.stdout.contains("stripped"),
                "{}",
                out.both()
            );
        }
        // gcc brings binutils' strip; a machine without it skips this part.
        Err(e) => eprintln!("skipping the stripped-root check: cannot run strip: {e}"),
    }
    // C programs: one that keeps libc's `exit`, one that defines its own but has no pip-core.
    let plain = cc(&dir, "plain", "int main(void) { return 0; }\n", &[]);
    let own_exit = cc(
        &dir,
        "own_exit",
        "#include <unistd.h>\nvoid exit(int c) { _exit(c); }\nint main(void) { return 0; }\n",
        &[],
    );
    let out = run_tool("pip-check", ["-r".into(), s(&plain)]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stdout.contains("does not export `exit`"),
        "{}",
        out.both()
    );
    let out = run_tool("pip-check", ["-r".into(), s(&own_exit)]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stdout.contains("does not contain pip-core"),
        "{}",
        out.both()
    );
}

#[test]
fn pip_check_exit_code_quiet_and_json() {
    let hello = s(&example("hello"));
    // One bad file among good ones fails the run; every file is still reported.
    let out = run_tool(
        "pip-check",
        ["-t", &hello, "/nonexistent/x.so", &s(&test_tasks())],
    );
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert_eq!(
        out.stdout.lines().filter(|l| !l.starts_with(' ')).count(),
        3
    );
    assert!(out.stdout.contains("/nonexistent/x.so: NOT a task\n"));
    // -q: nothing printed.
    let out = run_tool("pip-check", ["-q", "-t", &hello]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), ""),
        "{}",
        out.both()
    );
    let out = run_tool("pip-check", ["-q", "-t", "/nonexistent/x.so"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(1), ""),
        "{}",
        out.both()
    );
    // --json: an array with one object per file.
    let out = run_tool("pip-check", ["--json", "-t", &hello, "/nonexistent/x.so"]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    let j = out.stdout.trim();
    assert!(j.starts_with("[{") && j.ends_with("}]"), "{j}");
    assert!(j.contains(&format!("{{\"file\":\"{hello}\",\"pass\":true,\"kind\":\"shared-object\",\"language\":\"rust-pip-task\"")), "{j}");
    assert!(
        j.contains("{\"file\":\"/nonexistent/x.so\",\"pass\":false"),
        "{j}"
    );
    assert!(
        j.contains("\"task\":{\"ok\":false,\"error\":\"no such file\"}"),
        "{j}"
    );
    // Usage errors.
    let out = run_tool("pip-check", Vec::<String>::new());
    assert_eq!(out.code, Some(2), "{}", out.both());
}

#[test]
fn abi_mismatch_is_found_by_pip_check_and_refused_by_pip_exec() {
    // A copy of the test task whose ABI block claims another version.
    let dir = Scratch::new("abi");
    let mut bytes = std::fs::read(test_tasks()).unwrap();
    let mut marker = pip_core::abi::TASK_MAGIC.to_le_bytes().to_vec();
    marker.extend(pip_core::abi::ABI_VERSION.to_le_bytes());
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("the task's ABI block");
    bytes[at + 8..at + 12].copy_from_slice(&999u32.to_le_bytes());
    let patched = dir.path("libpatched.so");
    std::fs::write(&patched, &bytes).unwrap();

    let out = run_tool("pip-check", ["-t".into(), s(&patched)]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.contains("pip-core ABI v999"), "{}", out.both());
    assert!(
        out.stdout.contains("rebuild the task and the root"),
        "{}",
        out.both()
    );

    // pip-exec refuses it before starting anything, even in a later group.
    let out = pip_exec_run([
        s(&test_tasks()),
        "print".into(),
        ":".into(),
        s(&patched),
        "exit".into(),
        "0".into(),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.is_empty(), "a task ran: {}", out.both());
    assert!(out.stderr.contains("pip-core ABI v999"), "{}", out.both());
}

// --- pip-mode ----------------------------------------------------------------------------------

#[test]
fn pip_mode_sets_pip_mode_for_a_command() {
    let out = run(Command::new(tool("pip-mode"))
        .args(["-T", "sh", "-c", "echo mode=$PIP_MODE; exit 4"])
        .env_remove("PIP_MODE"));
    assert_eq!(out.code, Some(4), "{}", out.both());
    assert_eq!(out.stdout, "mode=pthread\n");
    // Through pip-exec.
    let out = run(Command::new(tool("pip-mode"))
        .arg("--pthread")
        .arg(tool("pip-exec"))
        .args(["-n", "2"])
        .arg(example("hello")));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.both());
}

#[test]
fn pip_mode_prints_and_shows_the_mode() {
    // PiP's spellings, which PiP's scripts compare: `pthread` and `process`.
    for (flag, want) in [
        ("-T", "PIP_MODE=pthread\n"),
        ("-t", "PIP_MODE=pthread\n"),
        ("-P", "PIP_MODE=process\n"),
        ("-p", "PIP_MODE=process\n"),
    ] {
        let out = run_tool("pip-mode", [flag]);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), want),
            "{flag}: {}",
            out.both()
        );
    }
    let out = run(Command::new(tool("pip-mode"))
        .arg("--show")
        .env_remove("PIP_MODE"));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "pthread\n"),
        "{}",
        out.both()
    );
    let out = run(Command::new(tool("pip-mode"))
        .arg("--show")
        .env("PIP_MODE", "thread"));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "pthread\n"),
        "{}",
        out.both()
    );
}

/// `pip-mode -M printpipmode` is how PiP's test harness learns which modes work.
#[test]
fn printpipmode_prints_the_mode_pip_mode_sets() {
    for (flag, want) in [("-T", "pthread\n"), ("-P", "process\n")] {
        let out = run(Command::new(tool("pip-mode"))
            .arg(flag)
            .arg(tool("printpipmode"))
            .env_remove("PIP_MODE"));
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), want),
            "{flag}: {}",
            out.both()
        );
    }
    // PiP's pipcc/pip-mode.sh: `pip-mode --$PIP_MODE printpipmode` prints $PIP_MODE.
    for mode in ["pthread", "process"] {
        let out = run(Command::new(tool("pip-mode"))
            .arg(format!("--{mode}"))
            .arg(tool("printpipmode"))
            .env("PIP_MODE", mode));
        assert_eq!(out.stdout.trim(), mode, "{}", out.both());
    }
    let out = run(Command::new(tool("printpipmode")).env_remove("PIP_MODE"));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "pthread\n"),
        "{}",
        out.both()
    );
    // A mode pip-rs cannot give: refused as PiP's pip_init refuses it (EPERM), with the reason.
    let out = run(Command::new(tool("printpipmode")).env("PIP_MODE", "process:preload"));
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.is_empty(), "{}", out.both());
    assert!(out.stderr.contains("patched glibc"), "{}", out.both());
}

/// A job started under `pip-mode -P` runs its tasks in the process mode.
#[test]
fn pip_mode_p_runs_a_job_in_the_process_mode() {
    let out = run(Command::new(tool("pip-mode"))
        .arg("-P")
        .arg(tool("pip-exec"))
        .args(["-n", "2"])
        .arg(example("hello"))
        .env_remove("PIP_MODE"));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.both());
}

#[test]
fn pip_mode_refuses_process_modes_and_bad_usage() {
    for flag in ["-P", "--process"] {
        let out = run_tool("pip-mode", [flag, "true"]);
        assert_eq!(out.code, Some(0), "{flag}: {}", out.both());
    }
    for flag in ["-L", "--process:preload", "-C", "--process:pipclone", "-G"] {
        let out = run_tool("pip-mode", [flag, "true"]);
        assert_eq!(out.code, Some(1), "{flag}: {}", out.both());
        assert!(
            out.stderr.contains("patched glibc"),
            "{flag}: {}",
            out.both()
        );
    }
    let out = run(Command::new(tool("pip-mode"))
        .arg("--show")
        .env("PIP_MODE", "bogus"));
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("unknown mode"), "{}", out.both());
    // Two modes, or a command without a mode.
    let out = run_tool("pip-mode", ["-T", "-P"]);
    assert_eq!(out.code, Some(2), "{}", out.both());
    let out = run_tool("pip-mode", ["true"]);
    assert_eq!(out.code, Some(2), "{}", out.both());
    assert!(out.stderr.contains("give a mode"), "{}", out.both());
    // A command that does not exist.
    let out = run_tool("pip-mode", ["-T", "/nonexistent/cmd"]);
    assert_eq!(out.code, Some(127), "{}", out.both());
    assert!(
        out.stderr.contains("cannot run `/nonexistent/cmd`"),
        "{}",
        out.both()
    );
}

// --- a reader that goes away ---------------------------------------------------------------

/// Runs a tool whose standard output is a pipe nobody reads any more (as in
/// `pip-check *.so | head -1` once head has ended).
fn run_into_a_closed_pipe(name: &str, args: &[&str]) -> Output {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::ExitStatusExt;
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two-int array with two new fds, which we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: each fd was just created and is owned by nothing else.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    let mut child = Command::new(tool(name))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let collect = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = std::time::Instant::now() + HANG_LIMIT;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} {args:?} did not end within {HANG_LIMIT:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Output {
        code: status.code(),
        signal: status.signal(),
        stdout: String::new(),
        stderr: collect.join().unwrap(),
    }
}

#[test]
fn tools_end_quietly_when_their_reader_goes_away() {
    let hello = s(&example("hello"));
    let many = vec![hello.as_str(); 20];
    let mut json = vec!["--json"];
    json.extend(&many);
    let cases: [(&str, &[&str]); 5] = [
        ("pip-check", &many),
        ("pip-check", &json),
        ("pips", &["--all-users", "--json"]),
        ("pips", &["--all-users"]),
        ("pip-mode", &["-T"]),
    ];
    for (name, args) in cases {
        let out = run_into_a_closed_pipe(name, args);
        // As any Unix tool: ended by SIGPIPE, saying nothing (no panic, no error message).
        assert_eq!(
            (out.code, out.signal, out.stderr.as_str()),
            (None, Some(libc::SIGPIPE), ""),
            "{name} {args:?}: {}",
            out.both()
        );
    }
}
