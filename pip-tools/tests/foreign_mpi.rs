//! A program built against another MPI is refused by name: `pip-check` says it is not a task and
//! why, and `pip-exec` (also behind pip-mpi's `mpiexec`) refuses it before spawning anything
//! (loaded as tasks, an MPICH or Open MPI program would run as worlds of one rank each and exit
//! 0). A program built with pip-rs's own `mpicc` is a task.
//!
//! The MPICH and Open MPI programs are built with `mpicc.mpich` and `mpicc.openmpi`, as a PIE
//! (`-fPIC -pie -rdynamic`) and as a shared object (`-shared -fPIC`). Without those compilers
//! the tests say so and pass, unless `PIP_MPI_REQUIRE_REFERENCE=1` (CI sets it), which makes a
//! missing compiler a failure.

#[path = "../../tests/support/mod.rs"]
mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const HELLO: &str = r#"
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    printf("rank %d of %d\n", rank, size);
    MPI_Finalize();
    return 0;
}
"#;

/// The two ways a C program becomes a task file.
const BUILDS: [(&str, &[&str]); 2] = [
    ("pie", &["-fPIC", "-pie", "-rdynamic"]),
    ("so", &["-shared", "-fPIC"]),
];

/// Compiles [`HELLO`] with `compiler` and `flags` into `dir/name`; panics with the compiler's
/// messages if it fails.
fn build(compiler: &Path, dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join("hello.c");
    std::fs::write(&src, HELLO).unwrap();
    let out = dir.join(name);
    let r = Command::new(compiler)
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", compiler.display()));
    assert!(
        r.status.success(),
        "{} {flags:?} failed:\n{}",
        compiler.display(),
        String::from_utf8_lossy(&r.stderr)
    );
    out
}

/// The reference MPI's compiler driver, or `None` (with a note) when it is not installed and
/// the reference MPIs are not required.
fn reference_compiler(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var("PIP_MPI_REQUIRE_REFERENCE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{name} is missing and PIP_MPI_REQUIRE_REFERENCE=1: install mpich libmpich-dev openmpi-bin libopenmpi-dev"
        );
        eprintln!("note: {name} is not installed; skipping (install mpich and openmpi-bin to run this test)");
    }
    found
}

/// Builds the hello program with `compiler` both ways and checks that pip-check and pip-exec
/// refuse each, naming `implementation` and the fix.
fn refused_by_name(compiler: &str, implementation: &str) {
    let Some(cc) = reference_compiler(compiler) else {
        return;
    };
    let dir = Scratch::new(&format!("foreign-{implementation}").replace(' ', ""));
    for (how, flags) in BUILDS {
        let prog = build(&cc, &dir.0, &format!("hello-{how}"), flags);
        let p = prog.display().to_string();
        let expected = format!("linked against {implementation}'s ");
        let fix = "must be rebuilt with pip-rs's mpicc (pip-mpi) to run as PiP tasks";

        let text = run_tool("pip-check", ["-t", &p]);
        assert_eq!(text.code, Some(1), "{how}: {}", text.both());
        assert!(
            text.stdout.contains(&format!("task:      no: {expected}"))
                && text.stdout.contains(fix),
            "{how}: {}",
            text.both()
        );

        let json = run_tool("pip-check", ["--json", "-t", &p]);
        let v: Value =
            serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.both()));
        let sheet = &v[0];
        assert_eq!(sheet["task"]["ok"], false, "{how}: {sheet}");
        assert_eq!(
            sheet["foreign_mpi"]["implementation"], implementation,
            "{how}: {sheet}"
        );
        let library = sheet["foreign_mpi"]["library"].as_str().unwrap();
        assert!(library.starts_with("libmpi"), "{how}: {sheet}");

        let exec = run(Command::new(tool("pip-exec")).args(["-n", "2", &p]));
        assert_ne!(exec.code, Some(0), "{how}: {}", exec.both());
        assert!(
            exec.stderr.contains(&format!("{p}: {expected}{library}")) && exec.stderr.contains(fix),
            "{how}: {}",
            exec.both()
        );
        assert!(
            !exec.stdout.contains("rank"),
            "{how}: a task ran: {}",
            exec.both()
        );

        // pip-mpi's mpiexec is pip-exec underneath: the same refusal.
        let mpiexec = run(Command::new(tool("mpiexec")).args(["-np", "2", &p]));
        assert_ne!(mpiexec.code, Some(0), "{how}: {}", mpiexec.both());
        assert!(
            mpiexec.stderr.contains(&expected) && !mpiexec.stdout.contains("rank"),
            "{how}: {}",
            mpiexec.both()
        );
    }
}

#[test]
fn an_mpich_program_is_refused_by_name() {
    refused_by_name("mpicc.mpich", "MPICH");
}

#[test]
fn an_open_mpi_program_is_refused_by_name() {
    refused_by_name("mpicc.openmpi", "Open MPI");
}

#[test]
fn a_program_built_with_pip_rs_mpicc_is_a_task() {
    let dir = Scratch::new("own-mpi");
    // target/<profile>/mpicc, next to the tools; it links libmpi.so (soname without a version).
    let prog = build(&tool("mpicc"), &dir.0, "hello", &[]);
    let p = prog.display().to_string();
    let text = run_tool("pip-check", ["-t", &p]);
    assert_eq!(text.code, Some(0), "{}", text.both());
    let json = run_tool("pip-check", ["--json", "-t", &p]);
    let v: Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.both()));
    assert_eq!(v[0]["task"]["ok"], true, "{}", v[0]);
    assert_eq!(v[0]["foreign_mpi"], Value::Null, "{}", v[0]);
}
