//! The deadlock watchdog (`PIP_COMM_WATCHDOG`, on by default): a deadlocked world prints the
//! cycle of waits and every rank's pending operations, once; `PIP_COMM_DEADLOCK=abort` ends
//! the program with `DEADLOCK_EXIT_CODE`; a healthy oversubscribed world prints nothing. Each
//! world runs in a child process (this test binary run again), which the test ends or waits
//! for with a bound.

mod common;

use pip_comm::prelude::*;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The child: two ranks that each wait for a message the other never sends (a deadlock), with
/// an unrelated message left unreceived and a non-blocking receive posted.
#[test]
#[ignore = "run by the watchdog tests in a child process"]
fn deadlocked_child() {
    pip_comm::run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        peer.send_with_tag(&[1u8; 10], 5).unwrap();
        let mut x = 0u32;
        pip_comm::request::scope(|scope| {
            let _r = peer
                .immediate_receive_into_with_tag(scope, &mut x, 99)
                .unwrap();
            let _ = peer.receive_vec_with_tag::<u8>(42 + world.rank());
        });
    })
    .unwrap();
}

/// The child: more ranks than CPUs, each computing far longer than the watchdog's period
/// between messages (one rank at a time for longest, so the others wait for it), then a ring
/// exchange and a barrier. Healthy: the watchdog must stay quiet.
#[test]
#[ignore = "run by a_healthy_oversubscribed_world_prints_nothing in a child process"]
fn oversubscribed_child() {
    let n = 6;
    pip_comm::run(n, |world| {
        let me = world.rank();
        let size = world.size();
        for round in 0..3 {
            // The slow rank of this round computes for about a second; the others briefly.
            let busy = if me == round % size {
                Duration::from_millis(1200)
            } else {
                Duration::from_millis(50)
            };
            let start = Instant::now();
            let mut x = 0u64;
            while start.elapsed() < busy {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            let next = world.process_at_rank((me + 1) % size);
            let prev = world.process_at_rank((me + size - 1) % size);
            next.send_with_tag(&[x], round).unwrap();
            let (_v, _) = prev.receive_vec_with_tag::<u64>(round).unwrap();
            world.barrier().unwrap();
        }
    })
    .unwrap();
}

/// Runs `child` with `env`, capturing stderr.
fn spawn(child: &str, env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--ignored", "--exact", child, "--nocapture"])
        .env_remove("PIP_COMM_WATCHDOG")
        .env_remove("PIP_COMM_DEADLOCK")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Waits (at most two minutes) for `child` to end; its exit code and stderr.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child did not end within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status.code(), reader.join().unwrap())
}

const CYCLE: &str = "rank 0 [recv from rank 1, tag 42, context 0] -> rank 1 [recv from rank 0, tag 43, context 0] -> rank 0";

#[test]
fn watchdog_reports_a_deadlock() {
    let _watchdog = common::watchdog("watchdog_reports_a_deadlock");
    let mut child = spawn("deadlocked_child", &[("PIP_COMM_WATCHDOG", "0.2")]);
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let wanted = [
        "pip-comm: DEADLOCK: all 2 ranks have waited for at least 0.2s and none made progress",
        CYCLE,
        "rank 0: recv from rank 1, tag 42, context 0 (for ",
        "rank 1: recv from rank 0, tag 43, context 0 (for ",
        "rank 0: posted receive: recv from rank 1, tag 99, context 0",
        "rank 1: posted receive: recv from rank 0, tag 99, context 0",
        "from rank 1, tag 5, context 0, 10 bytes, eager",
    ];
    for line in stderr.lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if wanted.iter().all(|w| seen.contains(w)) {
            break;
        }
    }
    // The child is deadlocked by design, and only reports: end it.
    let _ = child.kill();
    let _ = child.wait();
    for w in wanted {
        assert!(seen.contains(w), "missing {w:?} in the report:\n{seen}");
    }
    assert_eq!(
        seen.matches("DEADLOCK").count(),
        1,
        "reported more than once:\n{seen}"
    );
}

#[test]
fn watchdog_abort_ends_a_deadlocked_program_with_its_exit_code() {
    let _watchdog = common::watchdog("watchdog_abort");
    let child = spawn(
        "deadlocked_child",
        &[("PIP_COMM_WATCHDOG", "1"), ("PIP_COMM_DEADLOCK", "abort")],
    );
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(pip_comm::DEADLOCK_EXIT_CODE), "{stderr}");
    assert!(stderr.contains(CYCLE), "{stderr}");
    assert!(
        stderr.contains("ending the job with exit code 86 (PIP_COMM_DEADLOCK=abort)"),
        "{stderr}"
    );
}

#[test]
fn a_healthy_oversubscribed_world_prints_nothing() {
    let _watchdog = common::watchdog("a_healthy_oversubscribed_world_prints_nothing");
    // Sleep at once when waiting, so that every waiting rank is watched.
    let child = spawn(
        "oversubscribed_child",
        &[
            ("PIP_COMM_WATCHDOG", "0.3"),
            ("PIP_COMM_DEADLOCK", "abort"),
            ("PIP_COMM_SPIN", "0"),
            ("PIP_COMM_YIELD", "0"),
        ],
    );
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("pip-comm"), "{stderr}");
}
