//! A copy of pip-core and pip-comm inside an ordinary shared library that C tasks load (as a C
//! MPI library is): no root attaches it, so it asks the live root who the calling thread is.
//! The C task `dlopen`s the test task program (`libtest_tasks.so`, which then is just a
//! library) and calls its `pip_rs_test_library_view`, which queries pip-core, exchanges named
//! exports and makes a pip-comm world; in `shared-libc` isolation one copy serves every task.
mod common;
mod support;

use common::*;
use support::*;

/// The C task: loads `argv[1]` as a library and prints what its copy of pip-core says.
const LOADER_C: &str = r#"
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 3; }
    void (*view)(char *, unsigned long) =
        (void (*)(char *, unsigned long))dlsym(lib, "pip_rs_test_library_view");
    if (!view) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 4; }
    char line[512];
    view(line, sizeof line);
    printf("%s\n", line);
    fflush(stdout);
    return 0;
}
"#;

/// Runs the loader under pip-exec with `options` and 3 tasks; returns their lines, sorted.
fn job(loader: &std::path::Path, options: &[&str]) -> Vec<String> {
    let out = run(std::process::Command::new(pip_exec())
        .args(options)
        .args(["-n", "3"])
        .arg(loader)
        .arg(test_tasks()));
    assert_eq!(out.code, Some(0), "{options:?}: {}", out.both());
    let mut lines: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn a_library_copy_asks_the_live_root() {
    let dir = build_dir("library_copy");
    let loader = cc(
        &dir,
        "libloader.so",
        LOADER_C,
        &["-shared", "-fPIC", "-ldl"],
    );
    for (options, isolation, statics) in [
        (&[][..], "SharedLibc", "shared"),
        (&["--isolation", "namespace"][..], "Namespace", "private"),
        (&["--mode", "process"][..], "SharedLibc", "shared"),
    ] {
        let mode = if options.contains(&"process") {
            "Process"
        } else {
            "Thread"
        };
        let expected: Vec<String> = (0..3)
            .map(|i| {
                format!(
                    "pipid=Task({i}) ntasks=3 isolation={isolation} mode={mode} \
                     statics={statics} rank={i} size=3 sum=3 second_world_refused=true"
                )
            })
            .collect();
        assert_eq!(job(&loader, options), expected, "{options:?}");
    }
}

#[test]
fn a_library_copy_without_a_root_is_not_initialised() {
    let dir = build_dir("library_copy_alone");
    let loader = cc(
        &dir,
        "loader",
        LOADER_C,
        &["-fPIE", "-pie", "-rdynamic", "-ldl"],
    );
    let out = run(std::process::Command::new(&loader).arg(test_tasks()));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert_eq!(
        out.stdout.trim(),
        format!("error: {}", pip_rs::pip_core::Error::NotInitialized)
    );
}
