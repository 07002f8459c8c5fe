//! `pips` on jobs these tests start themselves with pip-exec: the listing and its JSON,
//! signalling one task or a job, fd tables (shared, private, and those of forked processes),
//! a pipe chain built with dup2 whose reader cannot see end-of-file, signal masks, the live
//! text view, the live page (and, when Chromium is installed, the page in a headless browser),
//! and what another user is told.
//!
//! Nothing here depends on timing: states that take a moment to appear (a forked child closing
//! its fds, a signal becoming pending) are polled for, under a generous limit that only stops a
//! hang.

#[path = "../../tests/support/mod.rs"]
mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::*;

/// A task example built by `cargo build --examples` (target/<profile>/examples/lib<name>.so).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let p = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("lib{name}.so"));
    assert!(
        p.exists(),
        "{} is missing: build the examples first (`cargo build --workspace --bins --examples`)",
        p.display()
    );
    p
}

/// A job started with pip-exec, killed (SIGKILL) when dropped unless it was finished.
struct Job {
    run: Option<Running>,
    pid: i32,
}

impl Job {
    /// Starts `pip-exec ARGS` and waits until `n` task threads named `*|suffix` run.
    fn start(args: &[&str], suffix: &str, n: usize) -> Job {
        Job::start_with(args, suffix, n, |_| {})
    }

    /// [`Job::start`], with `prepare` adjusting the command first.
    fn start_with(
        args: &[&str],
        suffix: &str,
        n: usize,
        prepare: impl FnOnce(&mut Command),
    ) -> Job {
        let mut c = Command::new(tool("pip-exec"));
        c.args(args)
            .env_remove("PIP_MODE")
            .env_remove("PIP_STOP_ON_START");
        prepare(&mut c);
        let mut run = start(&mut c);
        let pid = run.pid();
        // Thread-mode tasks are named `<digit>|prog`; process-mode tasks' host threads
        // `<digit>;prog`.
        let (a, b) = (format!("|{suffix}"), format!(";{suffix}"));
        poll(&format!("{n} tasks of {suffix}"), || {
            if let Some(st) = run.child.try_wait().unwrap() {
                panic!("pip-exec {args:?} ended ({st}) before its tasks ran");
            }
            let names = task_thread_names(pid);
            let count = names
                .iter()
                .filter(|x| x.ends_with(&a) || x.ends_with(&b))
                .count();
            (count >= n).then_some(())
        });
        Job {
            run: Some(run),
            pid,
        }
    }

    /// Waits for pip-exec to end and returns its output.
    fn finish(mut self) -> Output {
        self.run.take().unwrap().finish(HANG_LIMIT)
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(mut r) = self.run.take() {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Runs pips and returns its output.
fn pips(args: &[&str]) -> Output {
    run_tool("pips", args)
}

/// Runs pips, checks it succeeded, and parses its JSON output.
fn pips_json(args: &[&str]) -> Value {
    let out = pips(args);
    assert_eq!(out.code, Some(0), "pips {args:?}: {}", out.both());
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// Calls `f` until it returns `Some`, failing the test after [`HANG_LIMIT`].
fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + HANG_LIMIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The rows of one job in `pips --json`.
fn rows(job: i32) -> Vec<Value> {
    let v = pips_json(&["-r", &job.to_string(), "--json"]);
    let jobs = v.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{v}");
    jobs[0]["tasks"].as_array().unwrap().clone()
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Compiles a C task (a shared object) once per test process.
fn c_task(cell: &'static OnceLock<PathBuf>, name: &str, src: &str) -> &'static Path {
    cell.get_or_init(|| cc(&build_dir("pips"), name, src, &["-shared", "-fPIC"]))
}

/// A task that builds a pipe chain and gets it wrong, as a first try often does: it forks a
/// writer (stdout -> pipe) and a reader (stdin <- pipe) and waits for the reader, but keeps the
/// pipe's write end open itself, so the reader never sees end-of-file.
fn pipechain_task() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    c_task(
        &P,
        "pipechain.so",
        r#"
#define _GNU_SOURCE
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t w = fork();
    if (w == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1); close(p[0]); close(p[1]);
        const char msg[] = "hello through the pipe\n";
        if (write(1, msg, sizeof msg - 1) < 0) _exit(1);
        for (;;) pause();
    }
    pid_t r = fork();
    if (r == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[0], 0); close(p[0]); close(p[1]);
        char buf[256];
        while (read(0, buf, sizeof buf) > 0) {}
        _exit(0);
    }
    close(p[0]); /* but not p[1] */
    int st;
    waitpid(r, &st, 0);
    return 0;
}
"#,
    )
}

/// A task that, given `private`, unshares its fd table and opens a file of its own; given
/// `shared`, keeps the root's table. Then it sleeps.
fn fdmix_task() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    c_task(
        &P,
        "fdmix.so",
        r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "private") == 0) {
        if (unshare(CLONE_FILES) != 0) return 1;
        if (open("/proc/version", O_RDONLY) < 0) return 2;
    }
    for (;;) pause();
}
"#,
    )
}

/// A task that blocks HUP and USR1 in its thread, makes USR1 pending for itself, ignores URG
/// and catches WINCH, then sleeps.
fn signals_task() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    c_task(
        &P,
        "sigtask.so",
        r#"
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static void on_winch(int sig) { (void)sig; }
int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGURG, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
    for (;;) pause();
}
"#,
    )
}

/// The job's facts come from the root (its wait board), not from pip-exec's command line: a
/// program name longer than a thread name holds, the mode and the isolation, pip-core's memfd
/// names. A job without a board has none, and pips says what procfs shows.
#[test]
fn a_jobs_facts_are_what_its_root_published() {
    let dir = Scratch::new("pips-facts");
    let long = dir.path("libfacts_from_the_board.so");
    std::fs::copy(example("test_tasks"), &long).unwrap();
    let tasks = s(&example("test_tasks"));
    let job = Job::start(
        &[
            "-n",
            "1",
            &tasks,
            "sleep",
            ":",
            "-n",
            "2",
            &s(&long),
            "sleep",
        ],
        // pip-core names a task's thread after its program, less `lib` (and cut).
        "facts_from_th",
        2,
    );
    let v = pips_json(&["-r", &job.pid.to_string(), "--json"]);
    let facts = &v[0]["facts"];
    assert_eq!(str_of(&facts["launcher"]), "pip-exec", "{facts}");
    assert_eq!(str_of(&facts["mode"]), pip_core::Mode::Thread.as_str());
    assert_eq!(str_of(&facts["isolation"]), "shared-libc");
    assert_eq!(
        str_of(&facts["image_memfd_prefix"]),
        pip_core::waits::IMAGE_MEMFD_PREFIX
    );
    assert_eq!(str_of(&facts["board_memfd"]), pip_core::waits::BOARD_NAME);
    let programs: Vec<&str> = facts["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(programs, [tasks.as_str(), &s(&long), &s(&long)]);
    assert_eq!(v[0]["ntasks"], 3);
    let rows = rows(job.pid);
    assert_eq!(str_of(&rows[1]["program"]), "libtest_tasks.so", "{rows:?}");
    for r in &rows[2..] {
        assert_eq!(str_of(&r["program"]), "libfacts_from_the_board.so", "{r}");
        assert_eq!(r["pipid_exact"], true, "{r}");
    }
    drop(job);

    // Without a board: no facts; the isolation is read from the mappings.
    let job = Job::start_with(&["-n", "2", &tasks, "sleep"], "test_tasks", 2, |c| {
        c.env("PIP_WAIT_BOARD", "0");
    });
    let v = pips_json(&["-r", &job.pid.to_string(), "--json"]);
    assert!(v[0]["facts"].is_null(), "{}", v[0]);
    assert!(v[0]["ntasks"].is_null(), "{}", v[0]);
    assert_eq!(str_of(&v[0]["isolation"]), "shared-libc");
}

#[test]
fn listing_shows_every_task_of_a_job() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "3", &tasks, "sleep"], "test_tasks", 3);
    let rows = rows(job.pid);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(str_of(&rows[0]["role"]), "root");
    assert_eq!(rows[0]["tid"], job.pid);
    for (p, r) in rows[1..].iter().enumerate() {
        assert_eq!(str_of(&r["role"]), "task");
        assert_eq!(r["pipid"], p, "{r}");
        assert_eq!(r["pipid_exact"], true, "{r}");
        assert_eq!(r["pid"], job.pid);
        assert_eq!(str_of(&r["mode"]), "thread");
        assert_eq!(str_of(&r["fd_table"]), "shared");
        assert_eq!(str_of(&r["program"]), "libtest_tasks.so");
        assert!(
            Path::new(&format!("/proc/{}/task/{}", job.pid, r["tid"])).exists(),
            "{r}"
        );
    }
    let v = pips_json(&["-r", &job.pid.to_string(), "--json"]);
    assert_eq!(v[0]["ntasks"], 3);
    assert_eq!(str_of(&v[0]["isolation"]), "shared-libc");

    // Text: one line per row, with the columns named.
    let out = pips(&["-r", &job.pid.to_string()]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("ROOT") && lines[0].contains("PIPID"),
        "{}",
        out.stdout
    );
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    assert!(
        lines[4].contains(" 2 ") && lines[4].contains("libtest_tasks.so"),
        "{}",
        out.stdout
    );

    // Filters: by pipid, by program.
    let one = pips_json(&["-r", &job.pid.to_string(), "-t", "1", "--json"]);
    let t = one[0]["tasks"].as_array().unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["pipid"], 1);
    let none = pips_json(&["-r", &job.pid.to_string(), "--json", "no-such-program"]);
    assert_eq!(none.as_array().unwrap().len(), 0);
    // A pattern matching the tasks' program keeps the tasks; one matching the root's keeps
    // the whole job.
    let by_prog = pips_json(&["-r", &job.pid.to_string(), "--json", "test_tasks"]);
    assert_eq!(by_prog[0]["tasks"].as_array().unwrap().len(), 3);
    let by_root = pips_json(&["-r", &job.pid.to_string(), "--json", "pip-exec"]);
    assert_eq!(by_root[0]["tasks"].as_array().unwrap().len(), 4);
}

#[test]
fn kill_ends_only_the_task_named() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "3", &tasks, "sleep"], "test_tasks", 3);
    let pid = job.pid.to_string();
    let tid1 = rows(job.pid)[2]["tid"].as_i64().unwrap();
    let out = pips(&["kill", "-s", "KILL", &format!("{pid}:1")]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stdout.contains("task 1 of job") && out.stdout.contains("RTMAX-3"),
        "{}",
        out.stdout
    );
    // pip-exec reports task 1 as killed by SIGKILL, and ends the others itself.
    let end = job.finish();
    assert_eq!(end.code, Some(128 + 9), "{}", end.both());
    assert!(
        end.stderr.contains("task 1 (")
            && end.stderr.contains("SIGKILL")
            && !end.stderr.contains("task 0 (")
            && !end.stderr.contains("task 2 ("),
        "{}",
        end.both()
    );
    assert!(!Path::new(&format!("/proc/{pid}/task/{tid1}")).exists());
}

/// A task that blocks every signal it can, then sleeps.
fn blockall_task() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    c_task(
        &P,
        "blockall.so",
        r#"
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>
int main(void) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) sleep(1000);
}
"#,
    )
}

#[test]
fn a_kill_that_does_not_end_the_task_is_reported() {
    let prog = s(blockall_task());
    let job = Job::start(&["-n", "2", &prog], "blockall", 2);
    let pid = job.pid.to_string();
    let tid1 = rows(job.pid)[2]["tid"].as_i64().unwrap();
    let task1 = format!("/proc/{pid}/task/{tid1}");
    // Wait until task 1 blocks pip-core's kill signal.
    let bit = 1u64 << (libc::SIGRTMAX() - 3 - 1);
    poll("task 1 to block every signal", || {
        let st = std::fs::read_to_string(format!("{task1}/status")).ok()?;
        let blk = st.lines().find_map(|l| l.strip_prefix("SigBlk:"))?;
        (u64::from_str_radix(blk.trim(), 16).ok()? & bit != 0).then_some(())
    });
    let out = pips(&["kill", "-s", "KILL", &format!("{pid}:1")]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stderr.contains("task 1 of job")
            && out.stderr.contains("has NOT ended")
            && out.stderr.contains("it blocks SIGRTMAX-3")
            && out
                .stderr
                .contains(&format!("`pips kill -s KILL {pid}:root`")),
        "{}",
        out.both()
    );
    assert!(!out.stdout.contains("ended"), "{}", out.both());
    assert!(Path::new(&task1).exists(), "task 1 ended after all");
    // What the message says ends it: the whole job, at once.
    let out = pips(&["kill", "-s", "KILL", &format!("{pid}:root")]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.contains("it has ended"), "{}", out.both());
    let end = job.finish();
    assert_eq!(end.signal, Some(libc::SIGKILL), "{}", end.both());
}

#[test]
fn kill_by_tid_and_terminate_a_whole_job() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "2", &tasks, "sleep"], "test_tasks", 2);
    let pid = job.pid.to_string();
    // An unknown task, a job that is gone: errors that say so.
    let out = pips(&["kill", &format!("{pid}:7")]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("no running task 7"), "{}", out.both());
    let out = pips(&["kill", "999999999:0"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("ended"), "{}", out.both());
    // PiP's `pips -k`: SIGTERM to each listed task. (pip-exec ends the job when the first
    // task dies, so the second may be gone by the time pips reaches it: that is not an error.)
    let out = pips(&["-k", "-r", &pid]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert!(out.stdout.starts_with("task 0 of job"), "{}", out.stdout);
    let end = job.finish();
    assert_eq!(end.code, Some(128 + libc::SIGTERM), "{}", end.both());
    assert!(end.stderr.contains("SIGTERM"), "{}", end.both());
}

/// The fd tables of a job, by their holders' labels: [(holders, fds)].
fn tables(fds: &Value) -> Vec<(Vec<String>, Vec<i64>)> {
    fds["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let holders = t["holders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| str_of(&h["label"]).to_string())
                .collect();
            let fds = t["fds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["fd"].as_i64().unwrap())
                .collect();
            (holders, fds)
        })
        .collect()
}

fn fds_json(job: i32, extra: &[&str]) -> Value {
    let mut args = vec!["fds", "-r"];
    let pid = job.to_string();
    args.push(&pid);
    args.push("--json");
    args.extend(extra);
    let v = pips_json(&args);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    v[0]["fds"].clone()
}

#[test]
fn shared_and_private_fd_tables_are_grouped() {
    // Task 0 unshares its table and opens a file; tasks 1 and 2 share the root's.
    let prog = s(fdmix_task());
    let job = Job::start(
        &["-n", "1", &prog, "private", ":", "-n", "2", &prog, "shared"],
        "fdmix",
        3,
    );
    let t = poll("task 0's private fd", || {
        let t = tables(&fds_json(job.pid, &[]));
        (t.len() == 2).then_some(t)
    });
    let shared = t
        .iter()
        .find(|(h, _)| h.contains(&"root".to_string()))
        .unwrap();
    let private = t
        .iter()
        .find(|(h, _)| h.contains(&"task 0".to_string()))
        .unwrap();
    assert!(
        shared.0.contains(&"task 1".into()) && shared.0.contains(&"task 2".into()),
        "{t:?}"
    );
    assert_eq!(private.0, vec!["task 0".to_string()], "{t:?}");
    // The file task 0 opened is in its table only.
    let v = fds_json(job.pid, &[]);
    let version: Vec<&Value> = v["vnodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| str_of(&n["name"]) == "/proc/version")
        .collect();
    assert_eq!(version.len(), 1, "{v}");
    assert_eq!(version[0]["ofds"].as_array().unwrap().len(), 1);
    let rows = rows(job.pid);
    assert_eq!(str_of(&rows[1]["fd_table"]), "private");
    assert_eq!(str_of(&rows[2]["fd_table"]), "shared");
}

#[test]
fn an_fd_inherited_into_private_tables_is_reported() {
    use std::os::unix::process::CommandExt;
    let tasks = s(&example("test_tasks"));
    let dir = std::env::temp_dir().join(format!("pips-leak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let leak = dir.join("leaked.log");
    let path = std::ffi::CString::new(leak.to_str().unwrap()).unwrap();
    let job = Job::start_with(
        &["-n", "2", "--private-fds", &tasks, "sleep"],
        "test_tasks",
        2,
        move |c| {
            // SAFETY: runs in the forked child before exec: open, dup2 and close are
            // async-signal-safe, and `path` was made before the fork.
            unsafe {
                c.pre_exec(move || {
                    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o600);
                    if fd < 0 || libc::dup2(fd, 57) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                    Ok(())
                });
            }
        },
    );
    let v = fds_json(job.pid, &[]);
    let warnings: Vec<&Value> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "fd-inherited" && str_of(&w["text"]).starts_with("fd 57 "))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", v["warnings"]);
    let text = str_of(&warnings[0]["text"]);
    assert!(
        text.contains("leaked.log") && text.contains("task 0") && text.contains("task 1"),
        "{text}"
    );
    // pip-core's own files are never reported.
    assert!(
        !v["warnings"].to_string().contains("/memfd:pip-"),
        "{}",
        v["warnings"]
    );
    drop(job);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn private_fds_give_every_task_its_own_table() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(
        &["-n", "3", "--private-fds", &tasks, "sleep"],
        "test_tasks",
        3,
    );
    let v = fds_json(job.pid, &[]);
    let t = tables(&v);
    assert_eq!(t.len(), 4, "{t:?}");
    for label in ["root", "task 0", "task 1", "task 2"] {
        assert!(
            t.iter()
                .any(|(h, _)| h.first().map(String::as_str) == Some(label)),
            "{label}: {t:?}"
        );
    }
    // Each private table is a copy of the root's at spawn: its stdio is the root's open file
    // (same OFD), so stdin's OFD is referred to from all four tables.
    let stdin_ofd = v["tables"][0]["fds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fd"] == 0)
        .map(|f| str_of(&f["ofd"]).to_string())
        .unwrap();
    let ofd = v["ofds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| str_of(&o["id"]) == stdin_ofd)
        .unwrap();
    assert_eq!(ofd["refs"], 4, "{ofd}");
    assert!(v["tables"][1]["fds"][0]["also_in_root"].as_bool().unwrap());
}

#[test]
fn pipe_chain_diagram_and_eof_warning() {
    let prog = s(pipechain_task());
    let job = Job::start(&["-n", "1", &prog], "pipechain", 1);
    // Wait for the steady state: both children forked and done with their dup2/close.
    let v = poll("the pipe chain to settle", || {
        let v = fds_json(job.pid, &["--hide-images"]);
        let pipe =
            v["vnodes"].as_array().unwrap().iter().find(|n| {
                str_of(&n["kind"]) == "PIPE" && n["ofds"].as_array().unwrap().len() == 2
            })?;
        let ofds: Vec<&Value> = pipe["ofds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| {
                v["ofds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|o| o["id"] == *id)
                    .unwrap()
            })
            .collect();
        let refs = |a: &str| {
            ofds.iter()
                .find(|o| o["access"] == a)
                .map(|o| o["refs"].as_i64().unwrap())
        };
        (refs("W") == Some(2) && refs("R") == Some(1) && v["tables"].as_array()?.len() == 3)
            .then(|| v.clone())
    });
    let t = tables(&v);
    let table_of = |label: &str| {
        t.iter()
            .position(|(h, _)| h.iter().any(|l| l.starts_with(label)))
            .unwrap_or_else(|| panic!("{label}: {t:?}"))
    };
    let root = table_of("root");
    assert!(
        t[root].0.contains(&"task 0".into()),
        "the task shares the root's table: {t:?}"
    );
    let children: Vec<usize> = (0..t.len()).filter(|&i| i != root).collect();
    assert_eq!(children.len(), 2);

    // Which child is which: the writer's fd 1 and the reader's fd 0 lead to the pipe.
    let fd_ofd = |ti: usize, fd: i64| -> Value {
        let id = v["tables"][ti]["fds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["fd"] == fd)
            .map(|f| f["ofd"].clone())
            .unwrap();
        v["ofds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap()
            .clone()
    };
    let vnode_kind = |o: &Value| {
        let id = &o["vnode"];
        let n = v["vnodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == *id)
            .unwrap();
        str_of(&n["kind"]).to_string()
    };
    // (The reader's stdout and the writer's stdin are pip-exec's: a pipe to this test, and
    // /dev/null.)
    let reader = *children
        .iter()
        .find(|&&c| vnode_kind(&fd_ofd(c, 0)) == "PIPE")
        .expect("reader");
    let writer = *children.iter().find(|&&c| c != reader).unwrap();
    let w = fd_ofd(writer, 1);
    let r = fd_ofd(reader, 0);
    assert_eq!((str_of(&w["access"]), str_of(&r["access"])), ("W", "R"));
    assert_eq!(w["vnode"], r["vnode"], "both ends are one pipe");
    // The write end is also held by the root's table (the task's forgotten close).
    let held: Vec<String> = w["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| str_of(&s["table"]).to_string())
        .collect();
    let name = |i: usize| str_of(&v["tables"][i]["id"]).to_string();
    assert!(
        held.contains(&name(root)) && held.contains(&name(writer)),
        "{held:?}"
    );

    // The warning names the holders of the write ends.
    let warnings = v["warnings"].as_array().unwrap();
    let eof = warnings
        .iter()
        .find(|w| str_of(&w["kind"]) == "pipe-eof")
        .unwrap_or_else(|| panic!("no EOF warning: {v}"));
    let text = str_of(&eof["text"]);
    // Slots are named `fd 1 of child 123 (table T2)`: by their holders first.
    let held_as = |fd: &str, table: String| {
        text.split(&format!("fd {fd} of ")).skip(1).any(|rest| {
            rest.split(')')
                .next()
                .unwrap_or("")
                .ends_with(&format!("(table {table}"))
        })
    };
    assert!(
        text.contains(&format!("of root, task 0 (table {})", name(root))),
        "{text}"
    );
    assert!(text.contains("root, task 0"), "{text}");
    assert!(held_as("1", name(writer)), "{text}");
    assert!(held_as("0", name(reader)), "{text}");

    // The same in the other formats. DOT: an arrow from the reader's fd 0 to the read end,
    // coloured as the reader's table.
    let pid = job.pid.to_string();
    let dot = pips(&["fds", "-r", &pid, "--hide-images", "--dot"]);
    assert_eq!(dot.code, Some(0), "{}", dot.both());
    let colour = str_of(&v["tables"][reader]["color"]);
    let edge = format!(
        "{}:f0:s -> {} [color=\"{colour}\"];",
        name(reader),
        str_of(&r["id"])
    );
    assert!(dot.stdout.contains(&edge), "{edge}\n{}", dot.stdout);
    assert!(dot.stdout.contains("[PIPE] pipe:["), "{}", dot.stdout);
    // Text: the tables, the open files with R/W, the vnodes, the warning.
    let text = pips(&["fds", "-r", &pid, "--hide-images"]);
    assert!(text.stdout.contains("FD TABLES"), "{}", text.stdout);
    assert!(text.stdout.contains("! [pipe-eof]"), "{}", text.stdout);
    assert!(text.stdout.contains(&format!("0→{}", str_of(&r["id"]))));
    // Built-in SVG: boxes with the ids, R/W marks, type marks, the warning highlighted.
    let svg = pips(&["fds", "-r", &pid, "--hide-images", "--svg", "--builtin"]);
    assert!(svg.stdout.starts_with("<svg"), "{}", svg.stdout);
    for needle in [
        format!("id=\"{}\"", name(reader)),
        format!("id=\"{}\"", str_of(&r["id"])),
        format!("id=\"e-{}-0\"", name(reader)),
        "class=\"mark mark-R\"".into(),
        "class=\"mark mark-W\"".into(),
        "data-kind=\"PIPE\"".into(),
        "class=\"vnode warn\"".into(),
        colour.to_string(),
    ] {
        assert!(svg.stdout.contains(&needle), "{needle} not in the SVG");
    }
    // --svg with the system's dot when it is installed (or the built-in one otherwise).
    let any = pips(&["fds", "-r", &pid, "--svg"]);
    assert!(any.stdout.contains("<svg"), "{}", any.both());
}

#[test]
fn signal_masks_of_a_task() {
    let job = Job::start(&["-n", "1", &s(signals_task())], "sigtask", 1);
    let pid = job.pid.to_string();
    let rows = poll("the task's pending USR1", || {
        let v = pips_json(&["signals", "-r", &pid, "--json"]);
        let task = v
            .as_array()?
            .iter()
            .find(|r| r["label"] == "task 0")?
            .clone();
        task["pending_thread"]
            .as_array()?
            .iter()
            .any(|s| s == "USR1")
            .then_some(v)
    });
    let rows = rows.as_array().unwrap();
    let task = rows.iter().find(|r| r["label"] == "task 0").unwrap();
    let root = rows.iter().find(|r| r["label"] == "root").unwrap();
    let has = |r: &Value, k: &str, sig: &str| r[k].as_array().unwrap().iter().any(|s| s == sig);
    assert!(
        has(task, "blocked", "USR1") && has(task, "blocked", "HUP"),
        "{task}"
    );
    assert!(
        !has(root, "blocked", "USR1"),
        "masks are per thread: {root}"
    );
    assert!(!has(root, "pending_thread", "USR1"), "{root}");
    assert!(!has(task, "pending_shared", "USR1"), "{task}");
    assert!(
        has(task, "ignored", "URG") && has(root, "ignored", "URG"),
        "{task}"
    );
    let caught: Vec<&str> = task["caught"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| str_of(&c["signal"]))
        .collect();
    assert!(caught.contains(&"WINCH"), "{caught:?}");
    // pip-core's per-task kill signal is named by convention.
    let kill = task["caught"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["signal"] == "RTMAX-3")
        .unwrap();
    assert!(str_of(&kill["note"]).contains("pip-core"));
    let text = pips(&["signals", "-r", &pid]);
    assert!(text.stdout.contains("PENDING(THREAD)"), "{}", text.stdout);
    let line = text.stdout.lines().find(|l| l.contains("task 0")).unwrap();
    assert!(
        line.contains("HUP USR1") && line.contains("WINCH"),
        "{line}"
    );
}

#[no_mangle]
extern "C" fn pips_test_on_usr2(_sig: i32) {}

#[test]
fn handler_names_inside_the_process() {
    use pip_tools::pips::signals;
    // SAFETY: installs a handler that does nothing for a signal nobody sends to this process.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = pips_test_on_usr2 as *const () as usize;
        libc::sigaction(libc::SIGUSR2, &sa, std::ptr::null_mut());
    }
    let pid = std::process::id() as i32;
    let st = signals::read(pid, pid, "me").unwrap();
    let c = st
        .caught
        .iter()
        .find(|c| c.signal == libc::SIGUSR2)
        .unwrap();
    assert_eq!(c.handler.as_deref(), Some("pips_test_on_usr2"), "{c:?}");
    assert!(st.handler_note.is_none());
}

#[test]
fn watch_refreshes_the_listing() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "1", &tasks, "sleep"], "test_tasks", 1);
    let mut child = Command::new(tool("pips"))
        .args(["--watch", "0.05", "-r", &job.pid.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut frames = 0;
    while frames < 3 {
        let l = lines.next().expect("pips --watch ended").unwrap();
        if l.starts_with("ROOT") {
            frames += 1;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Reads `/frame.json` from a `pips serve` at `port`.
fn http_get(port: u16, path: &str) -> String {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(c, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    s
}

/// A running `pips serve`, killed when dropped.
struct Server(std::process::Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(job: i32) -> Server {
    let mut child = Command::new(tool("pips"))
        .args(["serve", "-r", &job.to_string(), "--hide-images"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    Server(child, port)
}

#[test]
fn live_page_keeps_ids_between_refreshes() {
    let prog = s(pipechain_task());
    let job = Job::start(&["-n", "1", &prog], "pipechain", 1);
    poll("the pipe chain to settle", || {
        let v = fds_json(job.pid, &[]);
        (v["tables"].as_array()?.len() == 3 && !v["warnings"].as_array()?.is_empty()).then_some(())
    });
    let server = serve(job.pid);
    let page = http_get(server.1, "/");
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("frame.json"));
    let frame = |n| -> Value {
        let r = http_get(server.1, "/frame.json");
        let body = r.split("\r\n\r\n").nth(1).unwrap();
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["generation"], n, "{v}");
        v
    };
    let (a, b) = (frame(1), frame(2));
    // Same ids on the same objects in both frames.
    let ids = |v: &Value| -> Vec<String> {
        let svg = str_of(&v["svg"]);
        svg.split("<g id=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
    assert!(ids(&a).iter().any(|i| i == "T0"));
    assert!(str_of(&a["warnings"][0]).contains("end-of-file"), "{a}");

    // The page in a real browser, when one is installed.
    let Some(dom) = browser_dom(server.1) else {
        return;
    };
    assert!(
        dom_attr(&dom, "data-refreshes") >= 2,
        "the page refreshed: {dom}"
    );
    assert_eq!(dom_attr(&dom, "data-id-conflicts"), 0, "{dom}");
    assert!(
        dom.contains("id=\"T0\"") && dom.contains("class=\"vnode warn\""),
        "{dom}"
    );
    assert!(dom.contains("end-of-file"), "the warning is listed: {dom}");
}

/// The page of a `pips serve` at `port` as headless Chromium leaves it after four seconds of
/// (virtual) time, or `None` (after saying so) when no Chromium is installed.
fn browser_dom(port: u16) -> Option<String> {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    else {
        eprintln!("SKIPPED the browser part: no chromium installed (apt-get install chromium)");
        return None;
    };
    let profile = Scratch::new("pips-chromium");
    let out = run(Command::new(chromium).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        &format!("--user-data-dir={}", profile.0.display()),
        "--virtual-time-budget=4000",
        "--dump-dom",
        &format!("http://127.0.0.1:{port}/"),
    ]));
    assert_eq!(out.code, Some(0), "{}", out.both());
    Some(out.stdout)
}

/// The value of the numeric attribute `name` in `dom` (the page's `<body>` records its state so).
fn dom_attr(dom: &str, name: &str) -> i64 {
    let key = format!("{name}=\"");
    let at = dom.find(&key).unwrap_or_else(|| panic!("no {name}: {dom}"));
    dom[at + key.len()..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `/frame.json` of a `pips serve` at `port`, parsed.
fn frame_json(port: u16) -> Value {
    let r = http_get(port, "/frame.json");
    let body = r.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {r}"))
}

#[test]
fn the_dashboard_shows_tasks_waits_with_the_deadlock_and_signals() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "2", &tasks, "recv_deadlock"], "test_tasks", 2);
    let server = serve(job.pid);
    // The deadlock is named once two snapshots agree; poll the frames until then.
    let f = poll("the dashboard to name the deadlock", || {
        let f = frame_json(server.1);
        has_deadlock(&f["waits"]).then_some(f)
    });
    let labels = |v: &Value, key: &str| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| str_of(&t[key]).to_string())
            .collect()
    };
    assert_eq!(f["ended"], false, "{f}");
    assert_eq!(f["job"]["tasks"].as_array().unwrap().len(), 3, "{f}");
    assert!(
        str_of(&f["waits"]["deadlocks"][0]["text"]).contains("task 0"),
        "{f}"
    );
    let sig = labels(&f["signals"], "label");
    assert!(sig.contains(&"task 1".to_string()), "{sig:?}");
    // Fd tables are named by their holders in the diagram, not by their ids.
    assert!(
        str_of(&f["svg"]).contains(">root, task 0, task 1</text>"),
        "{}",
        str_of(&f["svg"])
    );
    assert!(
        !str_of(&f["svg"]).contains("T0 (task"),
        "{}",
        str_of(&f["svg"])
    );

    if let Some(dom) = browser_dom(server.1) {
        assert!(dom_attr(&dom, "data-refreshes") >= 1, "{dom}");
        assert_eq!(dom_attr(&dom, "data-tasks"), 3, "{dom}");
        assert!(dom_attr(&dom, "data-deadlocks") >= 1, "{dom}");
        assert!(dom.contains("DEADLOCK: task"), "{dom}");
        assert!(dom.contains("id=\"waits-graph\""), "{dom}");
        assert!(dom.contains("wait-edge deadlock"), "{dom}");
        assert!(dom.contains("libtest_tasks.so"), "the task table: {dom}");
        assert!(dom.contains("id=\"pips-fds\""), "the fd diagram: {dom}");
    }

    // Once the job has ended, the last snapshot stays, marked as ended.
    let generation = f["generation"].as_u64().unwrap();
    drop(job);
    let ended = poll("the dashboard to see the job end", || {
        let f = frame_json(server.1);
        (f["ended"] == true).then_some(f)
    });
    assert!(
        ended["generation"].as_u64().unwrap() >= generation,
        "{ended}"
    );
    assert_eq!(
        ended["job"]["tasks"].as_array().unwrap().len(),
        3,
        "{ended}"
    );
    assert!(str_of(&ended["svg"]).contains("id=\"pips-fds\""), "{ended}");
    assert!(has_deadlock(&ended["waits"]), "{ended}");
    if let Some(dom) = browser_dom(server.1) {
        assert_eq!(dom_attr(&dom, "data-ended"), 1, "{dom}");
        assert!(dom.contains("class=\"ended\""), "greyed: {dom}");
        assert!(dom.contains("job ended"), "{dom}");
        assert!(
            dom.contains("id=\"pips-fds\""),
            "the diagram is kept: {dom}"
        );
        assert_eq!(
            dom_attr(&dom, "data-tasks"),
            3,
            "the task table is kept: {dom}"
        );
    }
}

#[test]
fn fds_svg_hides_task_images_with_a_count_and_cuts_no_name() {
    let prog = s(fdmix_task());
    let job = Job::start(&["-n", "3", "--private-fds", &prog, "private"], "fdmix", 3);
    let pid = job.pid.to_string();
    let svg = poll("three private tables", || {
        let out = pips(&["fds", "-r", &pid, "--svg", "--builtin"]);
        (out.code == Some(0) && out.stdout.matches("class=\"fd-table\"").count() == 4)
            .then_some(out.stdout)
    });
    assert!(!svg.contains(">/memfd:pip-task:"), "{svg}");
    assert!(
        svg.contains("3 task-image memfds (pip-core's /memfd:pip-task:...) not shown"),
        "{svg}"
    );
    // Tables are labelled by task, names are whole.
    for label in [">root</text>", ">task 0</text>", ">task 2</text>"] {
        assert!(svg.contains(label), "{label}: {svg}");
    }
    assert!(!svg.contains('…'), "a name was cut: {svg}");
    let all = pips(&["fds", "-r", &pid, "--svg", "--builtin", "--show-images"]);
    assert_eq!(all.code, Some(0), "{}", all.both());
    assert_eq!(
        all.stdout.matches(">/memfd:pip-task:").count(),
        3,
        "{}",
        all.stdout
    );
    assert!(!all.stdout.contains("not shown"), "{}", all.stdout);
    // Text and JSON keep them unless asked.
    let v = fds_json(job.pid, &[]);
    assert!(v.to_string().contains("/memfd:pip-task:"), "{v}");
}

/// Sends one raw request to a `pips serve` at `port` and returns the whole answer.
fn http_raw(port: u16, request: &str) -> String {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(HANG_LIMIT)).unwrap();
    c.write_all(request.as_bytes()).unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    s
}

#[test]
fn the_live_page_answers_only_loopback_names_and_its_own_users() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "1", &tasks, "sleep"], "test_tasks", 1);
    let server = serve(job.pid);
    // A page whose name was rebound to 127.0.0.1 sends its own name: refused.
    for host in [
        "rebound.example",
        "rebound.example:80",
        "127.0.0.1.nip.example",
    ] {
        let r = http_raw(
            server.1,
            &format!("GET /frame.json HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        );
        assert!(r.starts_with("HTTP/1.1 421"), "{host}: {r}");
        assert!(!r.contains("generation"), "{host}: {r}");
    }
    let r = http_raw(server.1, "GET /frame.json HTTP/1.0\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    for host in [
        "localhost".to_string(),
        format!("127.0.0.1:{}", server.1),
        format!("[::1]:{}", server.1),
    ] {
        let r = http_raw(
            server.1,
            &format!("GET /frame.json HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        );
        assert!(r.starts_with("HTTP/1.1 200"), "{host}: {r}");
    }

    // Root's server (these tests' job and server run as the test's user) refuses another user.
    // SAFETY: getuid cannot fail.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("SKIPPED the other-user part: needs root to connect as another user");
        return;
    }
    use std::os::unix::process::CommandExt;
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{}; printf 'GET /frame.json HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3; cat <&3",
        server.1
    );
    let out = run(Command::new("bash")
        .args(["-c", &script])
        .uid(65534)
        .gid(65534)
        .current_dir("/"));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.starts_with("HTTP/1.1 403"), "{}", out.both());
    assert!(
        out.stdout
            .contains("answers only the user who started it (uid 0)"),
        "{}",
        out.both()
    );
    assert!(!out.stdout.contains("generation"), "{}", out.both());
}

#[test]
fn another_user_is_told_why_not() {
    // SAFETY: getuid cannot fail.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("SKIPPED: needs root to run pips as another user");
        return;
    }
    {
        use std::os::unix::process::CommandExt;
        let can_run = Command::new(tool("pips"))
            .arg("--version")
            .uid(65534)
            .gid(65534)
            .current_dir("/")
            .output()
            .is_ok_and(|o| o.status.success());
        if !can_run {
            eprintln!("SKIPPED: uid 65534 cannot run the pips binary here (directory permissions)");
            return;
        }
    }
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "1", &tasks, "sleep"], "test_tasks", 1);
    let pid = job.pid.to_string();
    let as_nobody = |args: &[&str]| {
        use std::os::unix::process::CommandExt;
        run(Command::new(tool("pips"))
            .args(args)
            .uid(65534)
            .gid(65534)
            .current_dir("/"))
    };
    let out = as_nobody(&["kill", &format!("{pid}:0")]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("belongs to uid 0"), "{}", out.both());
    let out = as_nobody(&["fds", "-r", &pid]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("belongs to uid 0"), "{}", out.both());
    let out = as_nobody(&["waits", "-r", &pid]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("belongs to uid 0"), "{}", out.both());
    // Listing another user's job by its pid is allowed (as ps does); the task still runs.
    let out = as_nobody(&["-r", &pid]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.contains("test_tasks"), "{}", out.both());
    assert_eq!(rows(job.pid).len(), 2);
}

#[test]
fn tasks_ending_during_snapshots() {
    // Eight tasks that end one after another (after 0, 30, ..., 210 ms), while pips looks.
    let tasks = s(&example("test_tasks"));
    let mut args: Vec<String> = Vec::new();
    for i in 0..8 {
        if i > 0 {
            args.push(":".into());
        }
        args.extend([
            "-n".into(),
            "1".into(),
            tasks.clone(),
            "export".into(),
            format!("x{i}"),
            "1".into(),
            (30 * i).to_string(),
        ]);
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = Command::new(tool("pip-exec"));
    c.args(&argv);
    let mut run = start(&mut c);
    let pid = run.pid().to_string();
    let mut looked = 0;
    while run.child.try_wait().unwrap().is_none() && looked < 500 {
        for args in [
            vec!["fds", "-r", &pid, "--json"],
            vec!["signals", "-r", &pid],
            vec!["-r", &pid, "--json"],
        ] {
            let out = pips(&args);
            // Fine: a snapshot (0), or "job ... has ended" (1). Never a crash.
            assert!(
                out.code == Some(0) || (out.code == Some(1) && out.stderr.contains("pips: ")),
                "pips {args:?}: {}",
                out.both()
            );
            if out.code == Some(0) && args[0] == "fds" {
                let _: Value = serde_json::from_str(&out.stdout).unwrap();
            }
        }
        looked += 1;
    }
    let end = run.finish(HANG_LIMIT);
    assert_eq!(end.code, Some(0), "{}", end.both());
    assert!(looked > 0);
    // Once the job is gone, asking for it says so.
    let out = pips(&["-r", &pid]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stderr.contains("has ended"), "{}", out.both());
}

#[test]
fn process_mode_tasks_are_processes_with_their_own_tables() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(
        &["--mode", "process", "-n", "2", &tasks, "sleep"],
        "test_tasks",
        2,
    );
    let pid = job.pid.to_string();
    // The root's host threads are named first; wait for the task processes themselves.
    let rows = poll("both task processes", || {
        let r = rows(job.pid);
        (r.len() == 3).then_some(r)
    });
    for (p, r) in rows[1..].iter().enumerate() {
        assert_eq!(r["pipid"], p, "{r}");
        assert_eq!(str_of(&r["mode"]), "process", "{r}");
        assert_ne!(r["pid"], job.pid, "a task has a pid of its own: {r}");
        assert_eq!(r["pid"], r["tid"]);
        assert_eq!(str_of(&r["fd_table"]), "private");
    }
    let t = tables(&fds_json(job.pid, &[]));
    assert_eq!(t.len(), 3, "{t:?}");
    // Narrowed to one task: its table only.
    let t1 = tables(&fds_json(job.pid, &["-t", "1"]));
    assert_eq!(t1.len(), 1, "{t1:?}");
    assert_eq!(t1[0].0, vec!["task 1".to_string()]);
    assert!(
        t.iter().any(|(h, _)| h == &vec!["task 1".to_string()]),
        "{t:?}"
    );
    // SIGKILL goes as pip-core's kill signal to the task's main thread, whose handler ends the
    // task's process with SIGKILL (outside any allocator call).
    let task1 = rows[2]["pid"].as_i64().unwrap();
    let out = pips(&["kill", "-s", "KILL", &format!("{pid}:1")]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.contains("sent RTMAX-3"), "{}", out.stdout);
    let end = job.finish();
    assert!(
        end.stderr.contains("task 1 (") && end.stderr.contains("SIGKILL"),
        "{}",
        end.both()
    );
    assert!(
        !Path::new(&format!("/proc/{task1}")).exists() || {
            // A zombie until its host thread reaps it, which the job's end has done.
            std::fs::read_to_string(format!("/proc/{task1}/stat")).is_err()
        }
    );
}

// --- pips waits ------------------------------------------------------------------------------

/// `pips waits -r JOB --json` once: its exit code and the job's graph.
fn waits_json(job: i32) -> (Option<i32>, Value) {
    let out = pips(&["waits", "-r", &job.to_string(), "--json"]);
    let v: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.both()));
    let graphs = v.as_array().unwrap();
    assert_eq!(graphs.len(), 1, "{v}");
    (out.code, graphs[0].clone())
}

/// Polls `pips waits` until `done` accepts the graph; returns it with the text output. A job
/// whose tasks `pips` cannot see yet (a `pip_comm::run` program before its rank threads are
/// named) is polled again; after [`HANG_LIMIT`] the last output is shown.
fn waits_until(job: i32, what: &str, done: impl Fn(&Value) -> bool) -> (Value, String) {
    let deadline = Instant::now() + HANG_LIMIT;
    let g = loop {
        let out = pips(&["waits", "-r", &job.to_string(), "--json"]);
        let graph = serde_json::from_str::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().filter(|a| a.len() == 1).map(|a| a[0].clone()));
        if let Some(g) = graph.filter(|g| done(g)) {
            break g;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last pips waits: {}",
            out.both()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = pips(&["waits", "-r", &job.to_string()]);
    (g, text.stdout)
}

/// The node of `label` (`task 0`) in a graph.
fn wait_node<'a>(g: &'a Value, label: &str) -> &'a Value {
    g["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["label"] == label)
        .unwrap_or_else(|| panic!("no {label} in {g}"))
}

fn tid_of(g: &Value, label: &str) -> i64 {
    wait_node(g, label)["tid"].as_i64().unwrap()
}

/// The cycle of the first deadlock, as a sorted list of tids.
fn cycle(g: &Value) -> Vec<i64> {
    let mut c: Vec<i64> = g["deadlocks"][0]["cycle"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    c.sort();
    c
}

fn has_deadlock(g: &Value) -> bool {
    g["deadlocks"].as_array().is_some_and(|d| !d.is_empty())
}

#[test]
fn waits_names_a_two_rank_receive_deadlock() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "2", &tasks, "recv_deadlock"], "test_tasks", 2);
    let (g, text) = waits_until(job.pid, "the receive deadlock", has_deadlock);
    assert_eq!(g["board"], true, "{g}");
    let (t0, t1) = (tid_of(&g, "task 0"), tid_of(&g, "task 1"));
    assert_eq!(cycle(&g), {
        let mut v = vec![t0, t1];
        v.sort();
        v
    });
    for (me, other) in [("task 0", "1"), ("task 1", "0")] {
        let n = wait_node(&g, me);
        assert_eq!(n["source"], "board", "{n}");
        assert_eq!(
            str_of(&n["waits"]),
            format!("recv from rank {other}, tag 7, context 0"),
            "{n}"
        );
        assert_eq!(str_of(&n["waits_for_text"]), format!("task {other}"));
    }
    // The root waits for its tasks: stuck behind the cycle, not part of it.
    let stuck = g["deadlocks"][0]["stuck"].as_array().unwrap();
    assert!(stuck.contains(&Value::from(tid_of(&g, "root"))), "{g}");
    assert!(
        text.contains("DEADLOCK: task 0 [recv from rank 1, tag 7, context 0] -> task 1 [recv from rank 0, tag 7, context 0] -> task 0"),
        "{text}"
    );
    assert!(text.contains("also stuck behind it: root"), "{text}");
    assert_eq!(waits_json(job.pid).0, Some(3), "deadlock exit code");
}

#[test]
fn waits_names_an_abba_mutex_deadlock() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "2", &tasks, "abba"], "test_tasks", 2);
    let (g, text) = waits_until(job.pid, "the AB-BA deadlock", has_deadlock);
    let (t0, t1) = (tid_of(&g, "task 0"), tid_of(&g, "task 1"));
    let mut want = vec![t0, t1];
    want.sort();
    assert_eq!(cycle(&g), want);
    for (me, other) in [("task 0", t1), ("task 1", t0)] {
        let n = wait_node(&g, me);
        assert_eq!(n["source"], "futex", "{n}");
        assert_eq!(n["waits_for"], serde_json::json!([other]), "{n}");
    }
    // The two mutexes differ, and each is named as held by the other task.
    let (w0, w1) = (
        str_of(&wait_node(&g, "task 0")["waits"]).to_string(),
        str_of(&wait_node(&g, "task 1")["waits"]).to_string(),
    );
    assert!(
        w0.starts_with("mutex 0x") && w0.ends_with("held by task 1"),
        "{w0}"
    );
    assert!(
        w1.starts_with("mutex 0x") && w1.ends_with("held by task 0"),
        "{w1}"
    );
    assert_ne!(w0.split(' ').nth(1), w1.split(' ').nth(1));
    assert!(text.contains("DEADLOCK: task 0 [mutex 0x"), "{text}");
}

#[test]
fn waits_names_a_barrier_that_waits_for_a_blocked_receive() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "3", &tasks, "barrier_vs_recv"], "test_tasks", 3);
    let (g, text) = waits_until(job.pid, "the barrier deadlock", |g| {
        has_deadlock(g) && wait_node(g, "task 1")["source"] == "board"
    });
    let (t0, t2) = (tid_of(&g, "task 0"), tid_of(&g, "task 2"));
    let mut want = vec![t0, t2];
    want.sort();
    assert_eq!(cycle(&g), want, "{g}");
    for me in ["task 0", "task 1"] {
        let n = wait_node(&g, me);
        assert_eq!(str_of(&n["waits"]), "barrier of the world (3 ranks)", "{n}");
        assert_eq!(str_of(&n["waits_for_text"]), "task 2", "{n}");
    }
    let stuck = g["deadlocks"][0]["stuck"].as_array().unwrap();
    assert!(stuck.contains(&Value::from(tid_of(&g, "task 1"))), "{g}");
    assert!(
        text.contains("also stuck behind it: root, task 1"),
        "{text}"
    );
}

#[test]
fn waits_names_a_cycle_of_named_imports() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "2", &tasks, "import_cycle"], "test_tasks", 2);
    let (g, _) = waits_until(job.pid, "the import cycle", has_deadlock);
    assert_eq!(
        str_of(&wait_node(&g, "task 0")["waits"]),
        "import \"never-1\" from 1"
    );
    assert_eq!(
        str_of(&wait_node(&g, "task 1")["waits"]),
        "import \"never-0\" from 0"
    );
    assert_eq!(cycle(&g).len(), 2, "{g}");
}

#[test]
fn waits_sees_no_deadlock_when_the_peer_can_still_act() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(
        &["-n", "2", &tasks, "recv_deadlock", "sleeper"],
        "test_tasks",
        2,
    );
    let (g, text) = waits_until(job.pid, "task 0's receive", |g| {
        wait_node(g, "task 0")["source"] == "board"
    });
    assert!(!has_deadlock(&g), "{g}");
    assert_eq!(str_of(&wait_node(&g, "task 0")["waits_for_text"]), "task 1");
    assert!(!text.contains("DEADLOCK"), "{text}");
    assert_eq!(waits_json(job.pid).0, Some(0));
}

#[test]
fn waits_reports_a_receive_from_a_task_that_has_ended() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(
        &["-n", "2", &tasks, "recv_deadlock", "quitter"],
        "test_tasks",
        1,
    );
    let (g, text) = waits_until(job.pid, "the wait for an ended task", |g| {
        g["threads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["waits_for_ended_task"] == true)
    });
    assert_eq!(
        str_of(&wait_node(&g, "task 0")["waits"]),
        "recv from rank 1, tag 7, context 0"
    );
    assert!(
        text.contains(
            "STUCK: task 0 [recv from rank 1, tag 7, context 0] waits for a task that has ended"
        ),
        "{text}"
    );
}

#[test]
fn waits_sees_a_task_reading_a_pipe_only_it_can_write() {
    let tasks = s(&example("test_tasks"));
    let job = Job::start(
        &["-n", "1", "--private-fds", &tasks, "pipe_self"],
        "test_tasks",
        1,
    );
    let (g, text) = waits_until(job.pid, "the pipe self-wait", has_deadlock);
    let t0 = tid_of(&g, "task 0");
    let n = wait_node(&g, "task 0");
    assert_eq!(n["source"], "pipe", "{n}");
    assert!(
        str_of(&n["waits"]).contains("needs a write end, held by task 0"),
        "{n}"
    );
    assert_eq!(cycle(&g), vec![t0]);
    assert!(text.contains("DEADLOCK: task 0 [read fd"), "{text}");
}

/// `pips waits` samples of a healthy job: none may name a deadlock (or exit with 3).
fn sample_waits_of_a_healthy_job(job: &Job, what: &str) {
    for i in 0..30 {
        let (code, g) = waits_json(job.pid);
        assert!(
            !has_deadlock(&g),
            "{what}, sample {i}: a deadlock named: {g}"
        );
        assert_eq!(code, Some(0), "{what}, sample {i}: {g}");
    }
}

#[test]
fn waits_sees_no_deadlock_in_a_healthy_stencil_or_all_to_all() {
    // Busy jobs whose waits come and go all the time: a send and the receive that matches it,
    // waits a microsecond old, ranks that run. Long enough to outlive the samples.
    let stencil = s(&example("stencil"));
    let job = Job::start(&["-n", "4", &stencil, "256", "300000"], "stencil", 4);
    sample_waits_of_a_healthy_job(&job, "stencil");
    drop(job);
    let tasks = s(&example("test_tasks"));
    let job = Job::start(&["-n", "4", &tasks, "alltoall", "1000000"], "test_tasks", 4);
    sample_waits_of_a_healthy_job(&job, "all-to-all");
}

/// A `pip_comm::run` program (examples/comm_run.rs), killed when dropped.
struct RunProgram(Running);

impl Drop for RunProgram {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}

#[test]
fn waits_sees_a_deadlock_of_pip_comm_run_threads() {
    let exe = std::env::current_exe().unwrap();
    let comm_run = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/comm_run");
    assert!(comm_run.exists(), "build the examples first");
    let prog = RunProgram(start(
        Command::new(comm_run)
            .args(["deadlock", "2"])
            .env("PIP_COMM_WATCHDOG", "0"),
    ));
    let pid = prog.0.pid();
    let (g, text) = waits_until(pid, "the receive deadlock of comm_run", has_deadlock);
    assert_eq!(g["board"], true, "{g}");
    for (me, other) in [("task 0", "1"), ("task 1", "0")] {
        let n = wait_node(&g, me);
        assert_eq!(n["source"], "board", "{n}");
        assert_eq!(
            str_of(&n["waits"]),
            format!("recv from rank {other}, tag 7, context 0"),
            "{n}"
        );
    }
    assert!(
        text.contains("DEADLOCK: task 0 [recv from rank 1, tag 7, context 0] -> task 1 [recv from rank 0, tag 7, context 0] -> task 0"),
        "{text}"
    );
}

#[test]
fn the_watchdog_names_a_deadlocked_job_and_ends_it_with_its_exit_code() {
    let tasks = s(&example("test_tasks"));
    for mode in ["thread", "process"] {
        let mut c = Command::new(tool("pip-exec"));
        c.args(["-n", "2", &tasks, "recv_deadlock"])
            .env("PIP_MODE", mode)
            .env("PIP_COMM_WATCHDOG", "1")
            .env("PIP_COMM_DEADLOCK", "abort");
        let out = start(&mut c).finish(HANG_LIMIT);
        assert_eq!(out.code, Some(86), "{mode}: {}", out.both());
        for want in [
            "pip-comm: DEADLOCK: all 2 ranks have waited for at least 1.0s",
            "rank 0 [recv from rank 1, tag 7, context 0] -> rank 1 [recv from rank 0, tag 7, context 0] -> rank 0",
            "ending the job with exit code 86 (PIP_COMM_DEADLOCK=abort)",
        ] {
            assert!(out.stderr.contains(want), "{mode}: {want:?}: {}", out.both());
        }
        assert_eq!(out.stderr.matches("DEADLOCK:").count(), 1, "{}", out.both());
    }
}

/// PiP's test timer on expiry: `pips x -k -d PID` then `pips x -s KILL -d PID`, where PID is a
/// process that started the job; and `pips -s KILL -f PID`, the whole job of a pid. Each ends
/// the job's tasks and then its root.
#[test]
fn pip_style_kill_of_a_family_and_of_descendants() {
    let tasks = s(&example("test_tasks"));
    // -f with the root's pid as the PATTERN; -v says what it sends.
    let job = Job::start(&["-n", "2", &tasks, "sleep"], "test_tasks", 2);
    let pid = job.pid.to_string();
    let out = pips(&["-v", "-s", "KILL", "-f", &pid]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(
        out.stdout.contains("pips: sending KILL to task 0")
            && out.stdout.contains(&format!("root of job {pid}")),
        "{}",
        out.both()
    );
    // pip-exec ends the job when its first task is killed, or the root's SIGKILL ends it.
    let end = job.finish();
    assert!(
        end.signal == Some(libc::SIGKILL) || end.code == Some(128 + libc::SIGKILL),
        "{}",
        end.both()
    );

    // -d with the pid of a shell that started pip-exec (the job's parent), after `x`.
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "{} -n 2 {tasks} sleep; exit 3",
            s(&tool("pip-exec"))
        ))
        .env_remove("PIP_MODE");
    let shell = start(&mut c);
    let sh_pid = shell.pid();
    poll("a job under the shell", || {
        let jobs = pips_json(&["--json"]);
        jobs.as_array()
            .unwrap()
            .iter()
            .any(|j| {
                let p = j["pid"].as_i64().unwrap() as i32;
                pip_tools::pips::procfs::descends_from(p, sh_pid)
                    && j["tasks"].as_array().unwrap().len() >= 3
            })
            .then_some(())
    });
    // Another job, not under the shell, must survive.
    let other = Job::start(&["-n", "1", &tasks, "sleep"], "test_tasks", 1);
    let out = pips(&["x", "-s", "KILL", "-d", &sh_pid.to_string()]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    let end = shell.finish(HANG_LIMIT);
    assert_eq!(end.code, Some(3), "{}", end.both());
    assert!(
        std::path::Path::new(&format!("/proc/{}", other.pid)).exists(),
        "a job outside the family was killed"
    );
    drop(other);
}
