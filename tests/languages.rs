//! Tasks that are not plain single-threaded C: a C task that leaves threads running when it
//! ends, OpenMP (libgomp), C++ (libstdc++) and Fortran (libgfortran) programs, each run through
//! pip-exec with several tasks, in both execution modes. Every run is a pip-exec child bounded
//! by [`support::HANG_LIMIT`], so a task that never ends fails the test instead of hanging it.
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// Compiles `src` (written to `DIR/NAME.EXT`) with `compiler FLAGS -o DIR/NAME`. Panics, with the
/// compiler's messages, if the compiler is missing (saying which package provides it) or fails.
fn compile(
    compiler: &str,
    package: &str,
    dir: &Path,
    name: &str,
    ext: &str,
    src: &str,
    flags: &[&str],
) -> PathBuf {
    let file = dir.join(format!("{name}.{ext}"));
    std::fs::write(&file, src).unwrap();
    let out = dir.join(name);
    let result = Command::new(compiler)
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{compiler}` (install {package}): {e}"));
    assert!(
        result.status.success(),
        "{compiler} {flags:?} {name}.{ext} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// The two ways to build a task of any language: a shared object, and a PIE compiled `-fPIC`
/// and linked `-rdynamic` (what pipcc and pipfc do).
const BUILDS: [(&str, &[&str]); 2] = [
    ("so", &["-shared", "-fPIC"]),
    ("pie", &["-fPIC", "-pie", "-rdynamic"]),
];

/// Runs `pip-exec --mode MODE [--isolation ISOLATION] -n N PROGRAM ARGS...`.
fn pip_exec(mode: &str, isolation: &str, n: usize, program: &Path, args: &[&str]) -> Output {
    let n = n.to_string();
    let mut cmd = Command::new(tool("pip-exec"));
    cmd.args(["--mode", mode, "--isolation", isolation, "-n", &n])
        .arg(program)
        .args(args);
    run(&mut cmd)
}

/// Asserts that each of `n` tasks printed exactly `line` (once each) and that the job exited 0.
fn assert_each_task_printed(out: &Output, n: usize, line: &str, what: &str) {
    assert_eq!(out.code, Some(0), "{what}: {}", out.both());
    let seen = out.stdout.lines().filter(|l| *l == line).count();
    assert_eq!(
        seen,
        n,
        "{what}: expected {n} lines `{line}`: {}",
        out.both()
    );
}

// --- Threads left running when a task ends -------------------------------------------------

/// `argv[1]`: `return` returns 5 from main, `exit` calls `exit(6)` from main, both while a
/// thread the task started sleeps in a loop; `thread-exit` calls `exit(7)` on a thread the task
/// started while main sleeps.
const THREADS_C: &str = r#"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void *sleeper(void *a) { for (;;) sleep(1); return a; }
static void *exiter(void *a) { exit(7); return a; }
int main(int argc, char **argv) {
    pthread_t t;
    if (argc > 1 && strcmp(argv[1], "thread-exit") == 0) {
        pthread_create(&t, NULL, exiter, NULL);
        for (;;) sleep(1);
    }
    pthread_create(&t, NULL, sleeper, NULL);
    if (argc > 1 && strcmp(argv[1], "exit") == 0) exit(6);
    return 5;
}
"#;

#[test]
fn a_task_ends_with_its_status_while_threads_it_started_still_run() {
    let dir = build_dir("lang-threads");
    let task = compile(
        "cc",
        "gcc",
        &dir,
        "threads.so",
        "c",
        THREADS_C,
        &["-shared", "-fPIC", "-pthread"],
    );
    // In thread mode `exit()` on a task's own thread ends the whole process (README, Limits),
    // with the same code; in process mode it ends the task's process.
    for mode in ["thread", "process"] {
        for isolation in ["shared-libc", "namespace"] {
            for (how, code) in [("return", 5), ("exit", 6), ("thread-exit", 7)] {
                let out = pip_exec(mode, isolation, 2, &task, &[how]);
                assert_eq!(
                    out.code,
                    Some(code),
                    "{mode} {isolation} {how}: {}",
                    out.both()
                );
            }
        }
    }
}

// --- OpenMP ----------------------------------------------------------------------------------

/// A parallel region of 4 threads; each task checks the reduction and its private static.
const OPENMP_C: &str = r#"
#include <omp.h>
#include <stdio.h>
static int counter;
int main(void) {
    int sum = 0;
    counter++;
    #pragma omp parallel num_threads(4) reduction(+:sum)
    sum += omp_get_thread_num() + 1;
    printf("openmp sum=%d threads=%d counter=%d\n", sum, omp_get_max_threads() > 0, counter);
    return sum == 10 && counter == 1 ? 0 : 1;
}
"#;

#[test]
fn openmp_tasks_run_in_both_modes() {
    let dir = build_dir("lang-openmp");
    for (kind, flags) in BUILDS {
        let flags = [flags, &["-fopenmp"]].concat();
        let task = compile(
            "cc",
            "gcc",
            &dir,
            &format!("openmp_{kind}"),
            "c",
            OPENMP_C,
            &flags,
        );
        for mode in ["thread", "process"] {
            for isolation in ["shared-libc", "namespace"] {
                // libgomp keeps its worker threads after the region: in process mode the task
                // ends while they wait, and every task must still end (and the job with it).
                let out = pip_exec(mode, isolation, 3, &task, &[]);
                let what = format!("{kind} {mode} {isolation}");
                assert_each_task_printed(&out, 3, "openmp sum=10 threads=1 counter=1", &what);
            }
        }
    }
}

// --- C++ -------------------------------------------------------------------------------------

/// iostream, a static object with a constructor and destructor, and exceptions thrown and
/// caught (one by the library, one by the program). The destructor's output is not checked:
/// when it runs is not settled for tasks.
const CXX_CC: &str = r#"
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
static int counter;
struct Global {
    std::string name;
    Global() : name("constructed") { counter += 10; }
    // Each line goes out in one write: in thread mode the tasks share one std::cout, and a line
    // written piece by piece interleaves with other tasks' lines.
    ~Global() { std::cout << "destructor\n" << std::flush; }
};
static Global global;
int main() {
    counter++;
    int caught = 0;
    try {
        std::vector<int> v(3);
        v.at(7) = 1;
    } catch (const std::out_of_range &) {
        caught++;
    }
    try {
        throw std::runtime_error("thrown");
    } catch (const std::exception &e) {
        if (std::string(e.what()) == "thrown") caught++;
    }
    std::ostringstream line;
    line << "c++ " << global.name << " counter=" << counter << " caught=" << caught << "\n";
    std::cout << line.str() << std::flush;
    return counter == 11 && caught == 2 ? 0 : 1;
}
"#;

#[test]
fn cxx_tasks_run_in_both_modes() {
    let dir = build_dir("lang-cxx");
    for (kind, flags) in BUILDS {
        let task = compile(
            "c++",
            "g++",
            &dir,
            &format!("cxx_{kind}"),
            "cc",
            CXX_CC,
            flags,
        );
        for mode in ["thread", "process"] {
            for isolation in ["shared-libc", "namespace"] {
                let out = pip_exec(mode, isolation, 3, &task, &[]);
                let what = format!("{kind} {mode} {isolation}");
                assert_each_task_printed(&out, 3, "c++ constructed counter=11 caught=2", &what);
            }
        }
    }
}

// --- Fortran ---------------------------------------------------------------------------------

/// Formatted output, an array intrinsic, a command-line argument and a saved variable.
const FORTRAN_F90: &str = r#"
program fort
  implicit none
  integer, save :: counter = 0
  real(8) :: a(100)
  integer :: i
  character(len=32) :: arg
  counter = counter + 1
  do i = 1, 100
     a(i) = real(i, 8)
  end do
  call get_command_argument(1, arg)
  write(*, '(A,I0,A,F7.1,A,A)') 'fortran counter=', counter, ' sum=', sum(a), ' arg=', trim(arg)
  if (counter /= 1) stop 1
end program fort
"#;

#[test]
fn fortran_tasks_run_in_both_modes() {
    let dir = build_dir("lang-fortran");
    for (kind, flags) in BUILDS {
        let task = compile(
            "gfortran",
            "gfortran",
            &dir,
            &format!("fortran_{kind}"),
            "f90",
            FORTRAN_F90,
            flags,
        );
        for mode in ["thread", "process"] {
            for isolation in ["shared-libc", "namespace"] {
                let out = pip_exec(mode, isolation, 3, &task, &["hello"]);
                let what = format!("{kind} {mode} {isolation}");
                assert_each_task_printed(&out, 3, "fortran counter=1 sum= 5050.0 arg=hello", &what);
            }
        }
    }
}

/// A C++ PIE compiled `-fPIE` (gcc's default for a PIE, unlike pipcc's `-fPIC`) takes copies of
/// libstdc++'s data (`std::cout`, the `typeinfo` of the exceptions it throws) through copy
/// relocations, which glibc fills from the program itself once it is loaded with `dlopen`: the
/// task would crash in its first throw. pip-exec and pip-check refuse it, saying why and what to
/// do (README, Limits).
#[test]
fn cxx_pie_compiled_fpie_is_refused_with_the_reason() {
    let dir = build_dir("lang-cxx-fpie");
    let task = compile(
        "c++",
        "g++",
        &dir,
        "cxx_fpie",
        "cc",
        CXX_CC,
        &["-fPIE", "-pie", "-rdynamic"],
    );
    for mode in ["thread", "process"] {
        for isolation in ["shared-libc", "namespace"] {
            let out = pip_exec(mode, isolation, 2, &task, &[]);
            let what = format!("{mode} {isolation}");
            assert_eq!(out.code, Some(1), "{what}: {}", out.both());
            assert!(
                out.stderr.contains("copy relocations"),
                "{what}: {}",
                out.both()
            );
            assert!(out.stderr.contains("_ZSt4cout"), "{what}: {}", out.both());
            assert!(out.stderr.contains("-fPIC"), "{what}: {}", out.both());
            assert!(
                !out.stdout.contains("c++ constructed"),
                "{what}: {}",
                out.both()
            );
        }
    }
    let out = run_tool("pip-check", ["-t".as_ref(), task.as_os_str()]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(out.stdout.contains("copy relocations"), "{}", out.both());
}

/// A C PIE compiled `-fPIE` that uses `stdout` copies libc's `stdout` pointer: with shared-libc
/// isolation glibc fills the copy from the root's libc, but a task in namespace isolation would
/// get a null `stdout`, so that isolation refuses it.
const STDOUT_C: &str = r#"
#include <stdio.h>
int main(void) { fprintf(stdout, "stdout works\n"); return 0; }
"#;

#[test]
fn c_pie_compiled_fpie_using_stdout_runs_with_shared_libc_only() {
    let dir = build_dir("lang-c-fpie");
    let task = compile(
        "cc",
        "gcc",
        &dir,
        "stdout_fpie",
        "c",
        STDOUT_C,
        &["-fPIE", "-pie", "-rdynamic"],
    );
    for mode in ["thread", "process"] {
        let out = pip_exec(mode, "shared-libc", 2, &task, &[]);
        assert_each_task_printed(&out, 2, "stdout works", mode);
        let out = pip_exec(mode, "namespace", 2, &task, &[]);
        assert_eq!(out.code, Some(1), "{mode}: {}", out.both());
        assert!(
            out.stderr.contains("`stdout`: copy relocations"),
            "{mode}: {}",
            out.both()
        );
    }
}
