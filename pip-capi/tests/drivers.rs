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

/// `pipcc --version` (and pipfc's) names the driver and its version on the first line, then
/// the compiler's own version follows.
#[test]
fn pipcc_version_names_itself_then_the_compiler() {
    let out = run(Command::new(pipcc()).env_remove("CC").arg("--version"));
    assert_eq!(out.code, Some(0), "{}", out.all());
    let mut lines = out.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(concat!("pipcc (pip-rs) ", env!("CARGO_PKG_VERSION"))),
        "{}",
        out.all()
    );
    // The compiler's version (cc's first line names it, e.g. `cc (Debian 12.2.0-14) 12.2.0`).
    assert!(lines.next().is_some_and(|l| !l.is_empty()), "{}", out.all());
    let fc = run(Command::new(pipfc()).env("FC", "cc").arg("--version"));
    assert!(fc.stdout.starts_with("pipfc (pip-rs) "), "{}", fc.all());
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

/// `pipcc -shared` builds a shared-object task (no `main` needed: `pip-exec -f`), which, run as a
/// program, says how to run it and exits with 2 instead of crashing; it still runs as a task.
#[test]
fn pipcc_shared_tasks_say_how_to_run_them_when_run_as_programs() {
    let dir = build_dir();
    let src = dir.join("shared_task.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint work(void *arg) { (void)arg; return 5; }\nint main(int argc, char **argv) { (void)argv; printf(\"shared task %d\\n\", argc); return 0; }\n",
    )
    .unwrap();
    let task = dir.join("libshared_task.so");
    // pipcc writes the entry's assembly into a temporary file, and removes it.
    let tmp = dir.join("shared_task_tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = run(Command::new(pipcc())
        .env("TMPDIR", &tmp)
        .args(["-shared", "-Wall", "-o"])
        .arg(&task)
        .arg(&src));
    assert_eq!(out.code, Some(0), "{}", out.all());
    let check = run(Command::new(tool("pip-check")).arg(&task));
    assert!(
        check.stdout.contains("built as a shared object"),
        "{}",
        check.all()
    );
    let out = run(&mut Command::new(&task));
    assert_eq!(out.code, Some(2), "{}", out.all());
    assert_eq!(
        out.stderr,
        format!(
            "this is a PiP task: run it with pip-exec -n N {}\n",
            task.display()
        )
    );
    let out = run(Command::new(tool("pip-exec"))
        .args(["-n", "2"])
        .arg(&task)
        .arg("x"));
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        out.stdout,
        "shared task 2\nshared task 2\n",
        "{}",
        out.all()
    );
    let out = run(Command::new(tool("pip-exec"))
        .args(["-f", "work"])
        .arg(&task));
    assert_eq!(out.code, Some(5), "{}", out.all());
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "pipcc left its temporary file"
    );
    let dry = run(Command::new(pipcc()).args(["--dryrun", "-shared", "-o", "x.so", "x.c"]));
    assert!(
        dry.stdout.contains("-x assembler") && !dry.stdout.contains("-pie"),
        "{}",
        dry.all()
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
    // gfortran writes the module file (`counter.mod`) into the current directory.
    let out = run(Command::new(pipfc())
        .current_dir(build_dir())
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

/// PiP's `pip-check` options as PiP's own pipcc test uses them: `--piproot`, `--piptask`,
/// `--both`, with PiP's exit codes (0 when the file can be what is asked, else 1).
#[test]
fn pip_check_takes_pips_options_with_pips_meaning() {
    let check = |args: &[&str], file: &Path| {
        let out = run(Command::new(tool("pip-check")).args(args).arg(file));
        out.code
    };
    let nopip = build_as("check_only", "pc-nopip", &["--nopip"]);
    let root = build_as("check_only", "pc-root", &["--piproot"]);
    let task = build_as("check_only", "pc-task", &["--piptask"]);
    let both = build_as("check_only", "pc-both", &[]);
    let cases: &[(&[&str], &Path, i32)] = &[
        (&[], &nopip, 1),
        (&["-v"], &nopip, 1),
        (&["--piproot"], &root, 0),
        (&["-r"], &root, 0),
        (&["--piptask"], &root, 1),
        (&["-t"], &root, 1),
        (&["--piptask"], &task, 0),
        (&["--both"], &both, 0),
        (&["--pipboth"], &both, 0),
        (&["--piproot"], &both, 0),
        (&["--piptask"], &both, 0),
        (&["-v"], &both, 0),
    ];
    for (args, file, code) in cases {
        assert_eq!(
            check(args, file),
            Some(*code),
            "pip-check {args:?} {}",
            file.display()
        );
    }
}

/// A PIE linked without `-rdynamic` (a plain `cc` build: `main` only in the symbol table):
/// pip-check says it is not a task and pip-exec refuses it, with the same reason, in both
/// execution modes; linked `-rdynamic` it runs.
#[test]
fn pip_check_and_pip_exec_agree_on_a_pie_without_rdynamic() {
    let dir = build_dir();
    let src = c_dir().join("check_only.c");
    let plain = dir.join("pie-no-rdynamic");
    let exported = dir.join("pie-rdynamic");
    for (out_path, extra) in [(&plain, None), (&exported, Some("-rdynamic"))] {
        let r = run(Command::new("cc")
            .args(["-fPIC", "-pie"])
            .args(extra)
            .arg("-o")
            .arg(out_path)
            .arg(&src));
        assert_eq!(r.code, Some(0), "{}", r.all());
    }
    let why = "`main` is not exported";
    let check = run(Command::new(tool("pip-check")).arg("-t").arg(&plain));
    assert_eq!(check.code, Some(1), "{}", check.all());
    assert!(
        check.stdout.contains(why) && check.stdout.contains("-rdynamic"),
        "{}",
        check.all()
    );
    let check = run(Command::new(tool("pip-check")).arg("-t").arg(&exported));
    assert_eq!(check.code, Some(0), "{}", check.all());
    for mode in ["pthread", "process"] {
        let out = run(Command::new(tool("pip-exec"))
            .env("PIP_MODE", mode)
            .arg(&plain));
        assert_eq!(out.code, Some(1), "{mode}: {}", out.all());
        assert!(out.stdout.is_empty(), "{mode}: it ran: {}", out.all());
        assert!(
            out.stderr.contains(why) && out.stderr.contains("-rdynamic"),
            "{mode}: {}",
            out.all()
        );
        let out = run(Command::new(tool("pip-exec"))
            .env("PIP_MODE", mode)
            .arg(&exported));
        out.assert_ok("plain");
    }
}
