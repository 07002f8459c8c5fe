//! The pip-comm examples of the README (`examples/comm/`), each run both ways: as PiP tasks
//! under pip-exec and as thread ranks with `comm_run` (`pip_comm::run`), on small inputs.
mod common;
mod support;
use common::*;
use std::process::Command;
use std::time::Duration;

/// Runs one example both ways on `ranks` ranks; returns both outputs' stdout after checking
/// that each succeeded.
fn both_ways(name: &str, ranks: usize, args: &[&str]) -> [String; 2] {
    let n = ranks.to_string();
    let tasks = support::start(
        Command::new(pip_exec())
            .args(["-n", &n])
            .arg(example(name))
            .args(args),
    )
    .finish(Duration::from_secs(120));
    assert_eq!(tasks.code, Some(0), "pip-exec {name}: {}", tasks.both());
    let threads = support::start(
        Command::new(target_dir().join("examples").join("comm_run"))
            .args([name, &n])
            .args(args),
    )
    .finish(Duration::from_secs(120));
    assert_eq!(threads.code, Some(0), "comm_run {name}: {}", threads.both());
    [tasks.stdout, threads.stdout]
}

#[test]
fn pi_by_reduction() {
    for out in both_ways("pi", 3, &["1000000"]) {
        assert!(out.starts_with("pi is about 3.14159"), "{out}");
        assert!(out.contains("from 1000000 intervals on 3 ranks"), "{out}");
    }
}

#[test]
fn stencil_matches_the_serial_computation() {
    // 30 rows on 4 ranks: blocks of 8, 8, 7 and 7 rows.
    for out in both_ways("stencil", 4, &["30", "40"]) {
        assert!(out.contains("30 x 30 grid, 40 steps on 4 ranks"), "{out}");
        assert!(out.contains(": the same"), "{out}");
    }
    // More ranks than rows: some ranks own nothing.
    for out in both_ways("stencil", 3, &["2", "5"]) {
        assert!(out.contains(": the same"), "{out}");
    }
}

#[test]
fn pipeline_moves_every_block() {
    for out in both_ways("pipeline", 3, &["5", "1"]) {
        assert!(
            out.contains("5 blocks of 1 MiB through 2 stages") && out.contains("all checked"),
            "{out}"
        );
    }
}

#[test]
fn imbalanced_runs_with_stealing_off_and_on() {
    for out in both_ways("imbalanced", 2, &["1", "3"]) {
        assert!(
            out.contains("stealing off:") && out.contains("stealing on:"),
            "{out}"
        );
    }
}

#[test]
fn comm_run_explains_its_usage() {
    let out = support::start(&mut Command::new(
        target_dir().join("examples").join("comm_run"),
    ))
    .finish(Duration::from_secs(30));
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("usage: comm_run"), "{}", out.both());
}
