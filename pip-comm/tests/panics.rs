//! A rank that panics aborts the world: the others are released with errors instead of
//! hanging, and `run` reports the first panic.

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, Error};

#[test]
fn a_panic_releases_every_other_rank() {
    let _watchdog = common::watchdog("a_panic_releases_every_other_rank");
    let r = run(5, |world| {
        let dup = world.duplicate().unwrap();
        match world.rank() {
            1 => panic!("boom on rank 1"),
            // Blocked in a receive from the panicking rank.
            0 => {
                let e = world.process_at_rank(1).receive::<u64>().unwrap_err();
                assert!(matches!(e, Error::Aborted { rank: 1 }), "{e}");
            }
            // Blocked in a rendezvous send that will never be matched.
            2 => {
                let e = world
                    .process_at_rank(1)
                    .send(&vec![0u8; 1 << 20])
                    .unwrap_err();
                assert!(matches!(e, Error::Aborted { rank: 1 }), "{e}");
            }
            // Blocked in the world's barrier: an error like every other call.
            3 => {
                let e = world.barrier().unwrap_err();
                assert!(matches!(e, Error::Aborted { rank: 1 }), "{e}");
            }
            // Blocked in a derived communicator's barrier: the same.
            _ => {
                let e = dup.barrier().unwrap_err();
                assert!(matches!(e, Error::Aborted { rank: 1 }), "{e}");
            }
        }
    });
    match r {
        Err(Error::RankPanicked { rank: 1, message }) => assert_eq!(message, "boom on rank 1"),
        other => panic!("expected rank 1's panic, got {other:?}"),
    }
}

#[test]
fn world_sizes_are_checked() {
    let _watchdog = common::watchdog("world_sizes_are_checked");
    assert!(matches!(
        run(0, |_| ()),
        Err(Error::InvalidSize { size: 0, .. })
    ));
    assert!(matches!(
        run(pip_comm::MAX_RANKS + 1, |_| ()),
        Err(Error::InvalidSize { .. })
    ));
}

#[test]
fn results_come_back_in_rank_order_and_closures_may_borrow() {
    let _watchdog = common::watchdog("results_come_back_in_rank_order_and_closures_may_borrow");
    let base = String::from("rank");
    let out = run(5, |world| format!("{base} {}", world.rank())).unwrap();
    assert_eq!(out, ["rank 0", "rank 1", "rank 2", "rank 3", "rank 4"]);
}
