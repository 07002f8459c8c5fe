//! The compiler drivers as PiP's scripts call them: `pipcc` with a `$CC` of several words, a
//! program that depends on `libpip.so` even when the linker drops unused libraries, and `pipfc`
//! (Fortran, through gfortran) building programs that run as roots and as tasks in both modes.
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// `CC="cc -v -O3" pipcc ...` runs `cc` with `-v -O3`, as PiP's pipcc (a shell script that
/// expands `$CC` unquoted) does.
#[test]
fn pipcc_splits_cc_into_words() {
    let out_path = build_dir().join("cc-words");
    let out = run(Command::new(pipcc())
        .env("CC", " cc  -v -O3 ")
        .arg("-o")
        .arg(&out_path)
        .arg(c_dir().join("check_only.c")));
    assert_eq!(out.code, Some(0), "{}", out.all());
    // `cc -v` shows the options it passes on.
    assert!(out.stderr.contains("-O3"), "{}", out.all());
    run_program(&out_path, &[], &[]).assert_ok("plain");
    let which = run(Command::new(pipcc()).env("CC", "cc -O3").arg("--which"));
    assert_eq!(which.stdout.trim(), "cc -O3", "{}", which.all());
}

/// A program that calls no PiP function still depends on libpip.so when the linker drops
/// unused libraries (`--as-needed`, the default of some distributions' linkers), so it is a
/// root and its tasks bind to libpip's `exit`.
#[test]
fn pipcc_output_depends_on_libpip_under_as_needed() {
    let p = build_as("check_only", "as-needed", &["-Wl,--as-needed"]);
    let check = run(Command::new(tool("pip-check")).arg("-r").arg(&p));
    assert_eq!(check.code, Some(0), "{}", check.all());
    assert!(
        check.stdout.contains("linked with libpip.so"),
        "{}",
        check.all()
    );
    // The user's --as-needed still applies to what comes after libpip (push/pop-state).
    let lflags = run(Command::new(pipcc()).arg("--lflags"));
    let words: Vec<&str> = lflags.stdout.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "-lpip").unwrap();
    assert_eq!(
        (words[at - 1], words[at + 1]),
        ("-Wl,--push-state,--no-as-needed", "-Wl,--pop-state"),
        "{}",
        lflags.all()
    );
}

fn gfortran_installed() -> bool {
    Command::new("gfortran")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn pipfc() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pipfc"))
}

fn build_fortran(out_name: &str, flags: &[&str]) -> PathBuf {
    let out_path = build_dir().join(out_name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fortran/hello.f90");
    let out = run(Command::new(pipfc())
        .env_remove("FC")
        .args(flags)
        .arg("-o")
        .arg(&out_path)
        .arg(&src));
    assert_eq!(out.code, Some(0), "pipfc {flags:?}: {}", out.all());
    out_path
}

#[test]
fn pipfc_builds_fortran_roots_and_tasks() {
    if !gfortran_installed() {
        eprintln!("skipped: gfortran is not installed (apt-get install gfortran)");
        return;
    }
    let which = run(Command::new(pipfc()).env_remove("FC").arg("--which"));
    assert_eq!(which.stdout.trim(), "gfortran", "{}", which.all());
    let p = build_fortran("fortran-hello", &[]);
    run_program(&p, &[], &[]).assert_ok("fortran: ok, count 1");
    let check = run(Command::new(tool("pip-check")).arg("-b").arg(&p));
    assert_eq!(check.code, Some(0), "{}", check.all());
    // Two tasks, each with its own module variable, in each execution mode.
    for mode in ["pthread", "process"] {
        let out = run(Command::new(tool("pip-exec"))
            .env("PIP_MODE", mode)
            .args(["-n", "2"])
            .arg(&p));
        assert_eq!(out.code, Some(0), "{mode}: {}", out.all());
        assert_eq!(
            out.stdout.matches("fortran: ok, count 1").count(),
            2,
            "{mode}: {}",
            out.all()
        );
    }
    // pipcc's options: a root-only build, and the plain compiler.
    let root = build_fortran("fortran-root", &["--piproot"]);
    run_program(&root, &[], &[]).assert_ok("fortran: ok");
    let dry = run(Command::new(pipfc())
        .env("FC", "gfortran -O2")
        .args(["--dryrun", "-o", "x", "x.f90"]));
    assert!(
        dry.stdout.starts_with("gfortran -O2 ") && dry.stdout.contains("-lpip"),
        "{}",
        dry.all()
    );
}
