//! Bidirectional windows (`osu_bibw`'s pattern): both ranks start a window of 64 immediate
//! sends to the other, receive the other's 64, then wait for their own. The window is four
//! times the ring, so each rank fills the other's ring and waits for a slot that only the
//! other, itself waiting for a slot, can free: each waiting rank must drain its rings while it
//! waits, from its first poll on (see pip-comm's `waiter` module, "Progress while spinning").
//!
//! Each size (1 B eager, 1 KiB and 8 KiB rendezvous) runs 200 windows (20 for the first
//! policy) under three waiting policies, each run bounded by [`BOUND`] (20 s). A run takes 5
//! to 120 ms in a debug build on a 2-CPU machine, but a spinning rank descheduled for whole
//! time slices by other work can make it some 50 times longer:
//!
//! * one that never stops spinning: a rank that drained its rings only once it stopped
//!   spinning never lets its peer go, and the run never ends (this is what fails without the
//!   drain while spinning, whatever the machine's speed);
//! * the default (spin, yield, sleep): there such a rank waited out the whole spin phase three
//!   times per window, some 6 times the fixed time in a debug build (300 ms for 200 windows),
//!   10 to 100 times in a release one: too close to the noise for a bound, so this run only
//!   guards against worse;
//! * one that sleeps at once: every wait goes through the bell.
//!
//! The policies are environment variables, read when a world is made; this file is a test
//! binary (a process) of its own, with one test, so they affect nothing else.

mod common;

use pip_comm::prelude::*;
use pip_comm::request::{scope, wait_all};
use pip_comm::run;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Immediate sends each way per window (OSU's default).
const WINDOW: usize = 64;
/// Windows per run (under the spin-only policy, where one window is enough to fail and a
/// loaded machine makes each slow, a tenth of them).
const WINDOWS: usize = 200;
/// Ring slots (the default, set explicitly: the window must overflow the ring).
const RING_SLOTS: &str = "16";
/// The longest a run of windows of one size may take.
const BOUND: Duration = Duration::from_secs(20);

/// The byte that `rank` sends in window `w`.
fn byte(rank: i32, w: usize) -> u8 {
    (w as u8).wrapping_mul(2).wrapping_add(rank as u8)
}

/// Runs `windows` bidirectional windows of `size`-byte messages on two thread ranks, checking
/// every message, in a thread of its own; `None` if they have not finished within `BOUND` (the
/// ranks are then left behind: the test fails and its process ends).
fn run_windows(windows: usize, size: usize) -> Option<Duration> {
    let (done, finished) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        run(2, move |world| {
            let me = world.rank();
            let peer = world.process_at_rank(1 - me);
            let mut recv = vec![0u8; size];
            for w in 0..windows {
                let send = vec![byte(me, w); size];
                let want = vec![byte(1 - me, w); size];
                scope(|s| {
                    let sends = (0..WINDOW)
                        .map(|_| peer.immediate_send(s, &send[..]).unwrap())
                        .collect::<Vec<_>>();
                    for _ in 0..WINDOW {
                        recv.fill(0);
                        peer.receive_into(&mut recv[..]).unwrap();
                        assert!(recv == want, "window {w}: a message of the wrong window");
                    }
                    wait_all(sends).unwrap();
                });
            }
        })
        .unwrap();
        let _ = done.send(start.elapsed());
    });
    finished.recv_timeout(BOUND).ok()
}

#[test]
fn bidirectional_windows_finish_promptly_under_every_waiting_policy() {
    let _watchdog = common::watchdog("bidirectional_windows_finish_promptly");
    std::env::set_var("PIP_COMM_RING_SLOTS", RING_SLOTS);
    // The newer names win over the ones set below.
    std::env::remove_var("PIP_WAIT_SPIN");
    std::env::remove_var("PIP_WAIT_YIELD");
    // Name, (PIP_COMM_SPIN, PIP_COMM_YIELD) or the defaults, windows per run.
    type Counts = Option<(&'static str, &'static str)>;
    let policies: [(&str, Counts, usize); 3] = [
        ("spin only", Some(("4294967295", "0")), WINDOWS / 10),
        ("default", None, WINDOWS),
        ("sleep at once", Some(("0", "0")), WINDOWS),
    ];
    for (name, counts, windows) in policies {
        match counts {
            Some((spins, yields)) => {
                std::env::set_var("PIP_COMM_SPIN", spins);
                std::env::set_var("PIP_COMM_YIELD", yields);
            }
            None => {
                std::env::remove_var("PIP_COMM_SPIN");
                std::env::remove_var("PIP_COMM_YIELD");
            }
        }
        for size in [1, 1024, 8192] {
            match run_windows(windows, size) {
                Some(t) => eprintln!("{name}: {windows} windows of {size} B in {t:?}"),
                None => panic!(
                    "{name}: {windows} bidirectional windows of {WINDOW} messages of {size} B \
                     each way did not finish within {BOUND:?}"
                ),
            }
        }
    }
}
