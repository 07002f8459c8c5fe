//! What a task's entry macros give the user: an entry that returns an `Err` prints the error's
//! text and its sources and exits 1 (run under pip-exec), and `task_main!` in a binary crate
//! stops the build with a message that says to build a cdylib (checked with Cargo, offline).
//!
//! Every run is under a generous time limit that only stops a hang.
mod common;
mod support;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::*;

/// Runs the start function `name` of the test task program as a job of one task.
fn run_failing_function(name: &str) -> Output {
    run(Command::new(tool("pip-exec"))
        .args(["-n", "1", "-f", name])
        .arg(test_tasks())
        .env_remove("PIP_MODE"))
}

#[test]
fn an_error_prints_its_text_and_sources_and_exits_1() {
    let out = run_failing_function("fail_with_source_fn");
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stderr
            .contains("Error: cannot read the settings file ranks.toml\n  caused by: the disk is not mounted\n"),
        "{}",
        out.both()
    );
    assert!(
        !out.stderr.contains("ConfigError {"),
        "Debug form: {}",
        out.both()
    );
    assert!(out.stderr.contains("exited with code 1"), "{}", out.both());
}

#[test]
fn a_boxed_error_prints_its_text_and_sources() {
    let out = run_failing_function("fail_boxed_fn");
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stderr
            .contains("Error: cannot read the settings file ranks.toml\n  caused by: the disk is not mounted\n"),
        "{}",
        out.both()
    );
}

#[test]
fn a_pip_core_error_prints_its_display_text() {
    let out = run_failing_function("fail_with_pip_error_fn");
    assert_eq!(out.code, Some(1), "{}", out.both());
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or_else(|| panic!("no error line: {}", out.both()));
    // The Debug form of pip-core's errors is `Variant { field: .. }`.
    assert!(!line.contains(" { "), "Debug form: {}", out.both());
}

#[test]
fn a_string_error_prints_its_text() {
    let out = run_failing_function("fail_with_text_fn");
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stderr.contains("Error: no work for this rank\n"),
        "{}",
        out.both()
    );
}

/// Writes a package whose library (a cdylib) and binary both invoke `task_main!`.
fn write_package(dir: &Path) {
    let pip_core = Path::new(env!("CARGO_MANIFEST_DIR")).join("pip-core");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"entrycheck\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\npip-core = {{ path = {:?} }}\n\n\
             [workspace]\n",
            pip_core.display().to_string()
        ),
    )
    .unwrap();
    // The workspace's lock file: the same dependency versions, nothing to resolve offline.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap();
    let task =
        "fn run() -> Result<(), pip_core::Error> {\n    Ok(())\n}\npip_core::task_main!(run);\n";
    std::fs::write(dir.join("src/lib.rs"), task).unwrap();
    std::fs::write(dir.join("src/main.rs"), task).unwrap();
}

#[test]
fn task_main_in_a_binary_crate_says_to_build_a_cdylib() {
    let scratch = Scratch::new("entry-check");
    write_package(&scratch.0);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // A target directory kept between runs, so only the first run checks pip-core's dependencies.
    let target = target_dir().join("entry-check");
    let out = start(
        Command::new(cargo)
            .args(["check", "--offline", "--quiet", "--message-format", "short"])
            .current_dir(&scratch.0)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET"),
    )
    .finish(Duration::from_secs(600));
    assert_eq!(out.code, Some(101), "{}", out.both());
    assert!(
        out.stderr
            .contains("pip_core::task_main! is in a binary crate")
            && out
                .stderr
                .contains("add `[lib] crate-type = [\"cdylib\"]` to Cargo.toml"),
        "{}",
        out.both()
    );
    // The binary failed, the library (a cdylib) did not.
    assert!(
        out.stderr
            .contains("could not compile `entrycheck` (bin \"entrycheck\")"),
        "{}",
        out.both()
    );
    assert!(
        !out.stderr.contains("(lib)") && !out.stderr.lines().any(|l| l.starts_with("src/lib.rs:")),
        "the cdylib was refused: {}",
        out.both()
    );
}
