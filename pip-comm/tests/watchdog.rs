//! The watchdog (`PIP_COMM_WATCHDOG`): a deadlocked job prints every rank's pending
//! operations. The deadlock runs in a child process (this test binary run again), which the
//! test kills once the report has appeared.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The child: two ranks that each wait for a message the other never sends (a deadlock), with
/// an unrelated message left unreceived and a non-blocking receive posted.
#[test]
#[ignore = "run by watchdog_reports_a_deadlock in a child process"]
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

#[test]
fn watchdog_reports_a_deadlock() {
    let _watchdog = common::watchdog("watchdog_reports_a_deadlock");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "deadlocked_child", "--nocapture"])
        .env("PIP_COMM_WATCHDOG", "0.2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let wanted = [
        "pip-comm watchdog: no progress for",
        "rank 0 (world) waits in receive: peer 1, tag 42, communicator context 0",
        "rank 1 (world) waits in receive: peer 0, tag 43, communicator context 0",
        "posted receive: receive: peer 1, tag 99",
        "from rank 1, tag 5, context 0, 10 bytes, eager",
        "every rank of the world:",
    ];
    for line in stderr.lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if wanted.iter().all(|w| seen.contains(w)) {
            break;
        }
    }
    // The child is deadlocked by design: end it.
    let _ = child.kill();
    let _ = child.wait();
    for w in wanted {
        assert!(seen.contains(w), "missing {w:?} in the report:\n{seen}");
    }
}
