//! What a root does with unusual input and with tasks that misbehave before their `main`:
//! arguments and environment variables that are not UTF-8, constructors that fault, abort or
//! never return, termination signals while a task loads, and bad `PIP_*` values. Everything
//! runs through pip-exec in a child process, so that a crash or a hang cannot take the test
//! harness with it; every wait is bounded by a generous limit.
mod common;
mod support;

use common::*;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::*;

/// Prints its arguments and the `BADVAR` of its environment (`main`'s third argument) as hex.
const BYTES_C: &str = r#"
#include <stdio.h>
#include <string.h>
static void hex(const char *label, const char *s) {
    printf("%s=", label);
    for (; *s; s++) printf("%02x", (unsigned char)*s);
    printf("\n");
}
int main(int argc, char **argv, char **envp) {
    char label[32];
    for (int i = 1; i < argc; i++) {
        snprintf(label, sizeof label, "argv[%d]", i);
        hex(label, argv[i]);
    }
    for (char **e = envp; *e; e++)
        if (!strncmp(*e, "BADVAR=", 7)) hex("BADVAR", *e + 7);
    return 0;
}
"#;

/// Creates the file named by `PIP_TEST_MARK`, if set (how a test knows a task got that far).
const MARK_C: &str = r#"
#include <stdio.h>
#include <stdlib.h>
static void mark(void) {
    const char *m = getenv("PIP_TEST_MARK");
    if (m) { FILE *f = fopen(m, "w"); if (f) fclose(f); }
}
"#;

const CTOR_SEGV_C: &str = r#"
__attribute__((constructor)) static void boom(void) { *(volatile int *)16 = 1; }
int main(void) { return 0; }
"#;

const CTOR_ABORT_C: &str = r#"
#include <stdlib.h>
__attribute__((constructor)) static void boom(void) { abort(); }
int main(void) { return 0; }
"#;

/// A constructor that never returns.
const CTOR_LOOP_C: &str = r#"
__attribute__((constructor)) static void spin(void) {
    mark();
    for (volatile unsigned long i = 0;; i++) { }
}
int main(void) { return 0; }
"#;

/// A task that blocks every signal (so pip-exec cannot end it) and sleeps.
const BLOCK_ALL_C: &str = r#"
#include <signal.h>
#include <unistd.h>
int main(void) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, 0);
    mark();
    for (;;) usleep(20000);
}
"#;

struct Programs {
    bytes: PathBuf,
    ctor_segv: PathBuf,
    ctor_abort: PathBuf,
    ctor_loop: PathBuf,
    block_all: PathBuf,
}

fn programs() -> &'static Programs {
    static P: OnceLock<Programs> = OnceLock::new();
    P.get_or_init(|| {
        let d = build_dir("inputs");
        let so = |name: &str, src: &str| {
            cc(
                &d,
                name,
                &format!("{MARK_C}\n{src}"),
                &["-shared", "-fPIC", "-Wno-unused-function"],
            )
        };
        Programs {
            bytes: so("bytes.so", BYTES_C),
            ctor_segv: so("ctor_segv.so", CTOR_SEGV_C),
            ctor_abort: so("ctor_abort.so", CTOR_ABORT_C),
            ctor_loop: so("ctor_loop.so", CTOR_LOOP_C),
            block_all: so("block_all.so", BLOCK_ALL_C),
        }
    })
}

/// pip-exec with no `PIP_*` setting inherited from the test's environment.
fn pip_exec_cmd<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(tool("pip-exec"));
    c.args(args);
    for (k, _) in std::env::vars_os() {
        if k.as_bytes().starts_with(b"PIP_") {
            c.env_remove(k);
        }
    }
    c
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Not UTF-8: a Latin-1 file name and a stray byte.
fn odd_bytes() -> OsString {
    OsString::from_vec(b"caf\xe9-\xff".to_vec())
}

// --- Arguments and environment are bytes -------------------------------------------------------

#[test]
fn a_non_utf8_environment_variable_and_argument_reach_a_c_task_byte_for_byte() {
    let out = run(pip_exec_cmd([
        programs().bytes.as_os_str(),
        odd_bytes().as_os_str(),
        OsStr::new("plain"),
    ])
    .env("BADVAR", OsStr::from_bytes(b"\xff\xfeok")));
    assert_eq!(out.code, Some(0), "{}", out.both());
    for want in [
        format!("argv[1]={}", hex(b"caf\xe9-\xff")),
        format!("argv[2]={}", hex(b"plain")),
        format!("BADVAR={}", hex(b"\xff\xfeok")),
    ] {
        assert!(out.stdout.contains(&want), "{want}: {}", out.both());
    }
}

#[test]
fn a_non_utf8_environment_variable_and_argument_reach_a_rust_task() {
    let out = run(pip_exec_cmd([
        test_tasks().as_os_str(),
        OsStr::new("show_bytes"),
        OsStr::new("BADVAR"),
        odd_bytes().as_os_str(),
    ])
    .env("BADVAR", OsStr::from_bytes(b"\xff")));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stdout
            .contains(&format!("arg[3]={}", hex(b"caf\xe9-\xff"))),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains("BADVAR=ff"), "{}", out.both());
}

#[test]
fn hello_runs_with_a_non_utf8_variable_in_the_environment() {
    let out = run(pip_exec_cmd([example("hello")]).env("BADVAR", OsStr::from_bytes(b"\xff")));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(!out.stderr.contains("panicked"), "{}", out.both());
}

// --- Constructors ----------------------------------------------------------------------------

fn constructor_dies(program: &Path, sig: i32, name: &str) {
    let out = run(&mut pip_exec_cmd([program]));
    assert_eq!(out.signal, Some(sig), "{}", out.both());
    let want = format!(
        "task 0 ({}): {name} while loading (in the program's constructors",
        program.display()
    );
    assert!(out.stderr.contains(&want), "{want}\n{}", out.both());
}

#[test]
fn a_constructor_that_faults_is_named_with_its_task_and_phase() {
    constructor_dies(&programs().ctor_segv, libc::SIGSEGV, "SIGSEGV");
}

#[test]
fn a_constructor_that_aborts_is_named_with_its_task_and_phase() {
    constructor_dies(&programs().ctor_abort, libc::SIGABRT, "SIGABRT");
}

/// Starts pip-exec on `program` and waits until the task has created the mark file.
fn start_marked(program: &Path, dir: &Scratch) -> Running {
    let mark = dir.path("mark");
    let job = start(pip_exec_cmd([program]).env("PIP_TEST_MARK", &mark));
    let deadline = Instant::now() + HANG_LIMIT;
    while !mark.exists() {
        assert!(Instant::now() < deadline, "the task never reached its mark");
        std::thread::sleep(Duration::from_millis(10));
    }
    job
}

/// Sends `sig` to `pid` every 100 ms until `job` ends (at most [`HANG_LIMIT`]).
fn signal_until_it_ends(job: Running, sig: i32, times: usize) -> Output {
    let pid = job.pid();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let sender = std::thread::spawn(move || {
        for _ in 0..times {
            if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            // SAFETY: signalling our own child (which may have ended: then ESRCH or a zombie).
            unsafe { libc::kill(pid, sig) };
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let out = job.finish(HANG_LIMIT);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    sender.join().unwrap();
    out
}

#[test]
fn sigterm_ends_a_job_whose_constructor_never_returns() {
    let dir = Scratch::new("ctor-loop-term");
    let job = start_marked(&programs().ctor_loop, &dir);
    let out = signal_until_it_ends(job, libc::SIGTERM, 1);
    assert_eq!(out.signal, Some(libc::SIGTERM), "{}", out.both());
    let want = format!(
        "SIGTERM while loading task 0 ({})",
        programs().ctor_loop.display()
    );
    assert!(out.stderr.contains(&want), "{want}\n{}", out.both());
}

#[test]
fn sigint_twice_ends_a_job_whose_constructor_never_returns() {
    let dir = Scratch::new("ctor-loop-int");
    let job = start_marked(&programs().ctor_loop, &dir);
    let out = signal_until_it_ends(job, libc::SIGINT, 2);
    assert_eq!(out.signal, Some(libc::SIGINT), "{}", out.both());
    assert!(
        out.stderr.contains("SIGINT while loading task 0 ("),
        "{}",
        out.both()
    );
}

#[test]
fn a_second_sigint_ends_a_job_whose_task_cannot_be_killed() {
    // The first SIGINT makes pip-exec end its tasks, which this one does not let it do; the
    // second one ends pip-exec at once instead of after its 10 s grace period.
    let dir = Scratch::new("block-all");
    let job = start_marked(&programs().block_all, &dir);
    let out = signal_until_it_ends(job, libc::SIGINT, 100);
    assert_eq!(out.signal, Some(libc::SIGINT), "{}", out.both());
    assert!(
        out.stderr.contains("SIGINT: ending all tasks")
            && out.stderr.contains("SIGINT again: ending the process now"),
        "{}",
        out.both()
    );
}

// --- PIP_* values ----------------------------------------------------------------------------

/// pip-exec of the hello example with `var=value`: must fail before any task starts, with a
/// message that contains every string of `want`.
fn refused(var: &str, value: &str, mode: Option<&str>, want: &[&str]) {
    let mut cmd = pip_exec_cmd([example("hello")]);
    cmd.env(var, value);
    if let Some(m) = mode {
        cmd.env("PIP_MODE", m);
    }
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(1), "{var}={value}: {}", out.both());
    for w in want {
        assert!(out.stderr.contains(w), "{var}={value}: {w}: {}", out.both());
    }
    assert!(!out.stdout.contains("hello"), "{}", out.both());
}

#[test]
fn bad_stack_sizes_are_refused() {
    refused(
        "PIP_STACKSIZE",
        "abc",
        None,
        &["PIP_STACKSIZE=abc: not a size", "KiB"],
    );
    refused(
        "PIP_STACKSIZE",
        "1",
        None,
        &["PIP_STACKSIZE=1", "too small", "64k"],
    );
    refused("PIP_STACKSIZE", "12q", None, &["PIP_STACKSIZE=12q"]);
    refused(
        "PIP_STACKSIZE",
        "18014398509481983",
        None,
        &["more than the whole address space"],
    );
}

#[test]
fn a_stack_too_large_to_map_is_blamed_on_the_stack_size() {
    // As much as the whole user address space, which cannot be mapped whatever the
    // overcommit setting.
    for mode in ["thread", "process"] {
        let out = run(pip_exec_cmd([example("hello")])
            .env("PIP_STACKSIZE", "128t")
            .env("PIP_MODE", mode));
        assert_eq!(out.code, Some(1), "{mode}: {}", out.both());
        assert!(
            out.stderr.contains("PIP_STACKSIZE") && !out.stderr.contains("CPU core"),
            "{mode}: {}",
            out.both()
        );
    }
}

#[test]
fn bad_on_off_and_pipid_values_are_refused() {
    refused(
        "PIP_STOP_ON_START",
        "xyz",
        None,
        &["PIP_STOP_ON_START=xyz", "-1 for every task"],
    );
    refused(
        "PIP_STOP_ON_START",
        "5",
        None,
        &["PIP_STOP_ON_START=5", "tasks 0..1"],
    );
    for var in ["PIP_FULL_IMAGE", "PIP_WAIT_BOARD"] {
        refused(
            var,
            "maybe",
            None,
            &[
                &format!("{var}=maybe: not an on/off value"),
                "0, no, false or off",
            ],
        );
    }
    refused("PIP_MODE", "fast", None, &["PIP_MODE=fast"]);
}

#[test]
fn full_image_zero_means_off_and_one_means_on() {
    for (value, want) in [
        ("0", "cut"),
        ("no", "cut"),
        ("false", "cut"),
        ("1", "full"),
        ("yes", "full"),
        ("true", "full"),
    ] {
        let mut cmd = pip_exec_cmd([test_tasks().as_os_str(), OsStr::new("image_header")]);
        let out = run(cmd.env("PIP_FULL_IMAGE", value));
        assert_eq!(out.code, Some(0), "{value}: {}", out.both());
        assert_eq!(
            out.stdout.trim(),
            want,
            "PIP_FULL_IMAGE={value}: {}",
            out.both()
        );
    }
    let out = run(&mut pip_exec_cmd([
        test_tasks().as_os_str(),
        OsStr::new("image_header"),
    ]));
    assert_eq!(out.stdout.trim(), "cut", "unset: {}", out.both());
}

#[test]
fn bad_pip_comm_values_are_refused_when_the_world_is_created() {
    let comm_run = target_dir().join("examples").join("comm_run");
    for (var, value, want) in [
        (
            "PIP_COMM_EAGER_MAX",
            "abc",
            "PIP_COMM_EAGER_MAX=abc: not a size",
        ),
        (
            "PIP_COMM_EAGER_MAX",
            "2m",
            "PIP_COMM_EAGER_MAX=2m is out of range",
        ),
        (
            "PIP_COMM_RING_SLOTS",
            "1",
            "PIP_COMM_RING_SLOTS=1 is out of range",
        ),
        (
            "PIP_COMM_CHUNK",
            "100",
            "PIP_COMM_CHUNK=100 is out of range",
        ),
        ("PIP_COMM_SPIN", "lots", "PIP_COMM_SPIN=lots: not a size"),
        (
            "PIP_COMM_STEAL",
            "maybe",
            "PIP_COMM_STEAL=maybe: not an on/off value",
        ),
        (
            "PIP_COMM_WATCHDOG",
            "soon",
            "PIP_COMM_WATCHDOG=soon: not a number of seconds",
        ),
        (
            "PIP_COMM_DEADLOCK",
            "panic",
            "PIP_COMM_DEADLOCK=panic: neither",
        ),
        (
            "PIP_WAIT_BOARD",
            "maybe",
            "PIP_WAIT_BOARD=maybe: not an on/off value",
        ),
    ] {
        // As PiP tasks, and as thread ranks of one program.
        let mut cmd = pip_exec_cmd(["-n".as_ref(), "2".as_ref(), example("pi").as_os_str()]);
        let tasks = run(cmd.env(var, value));
        let mut cmd = Command::new(&comm_run);
        let threads = run(cmd.args(["pi", "2", "1000"]).env(var, value));
        for out in [tasks, threads] {
            assert_ne!(out.code, Some(0), "{var}={value}: {}", out.both());
            assert!(out.stderr.contains(want), "{want}: {}", out.both());
        }
    }
    // Off is 0, no, false or off.
    let out = run(Command::new(&comm_run)
        .args(["pi", "2", "1000"])
        .env("PIP_COMM_STEAL", "no"));
    assert_eq!(out.code, Some(0), "{}", out.both());
}
