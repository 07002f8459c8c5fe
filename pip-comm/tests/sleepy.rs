//! Every wait goes straight to the futex (no spinning, no yielding), so each message, free
//! slot, copy, barrier and collective step needs a wake-up: a lost wake-up hangs this test. Tiny rings and a low
//! eager limit make senders wait for slots and use the rendezvous often.
//!
//! The settings are environment variables, read when a world is made; this file is a test
//! binary (a process) of its own, with one test, so they affect nothing else.

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, SystemOperation};

#[test]
fn every_wait_sleeps_and_every_sleeper_is_woken() {
    let _watchdog = common::watchdog("every_wait_sleeps_and_every_sleeper_is_woken");
    std::env::set_var("PIP_COMM_SPIN", "0");
    std::env::set_var("PIP_COMM_YIELD", "0");
    std::env::set_var("PIP_COMM_RING_SLOTS", "2");
    std::env::set_var("PIP_COMM_EAGER_MAX", "64");
    std::env::set_var("PIP_COMM_PAR_COPY_MIN", "4096");
    const ROUNDS: usize = 2000;
    run(4, |world| {
        let (me, n) = (world.rank(), world.size());
        let right = world.process_at_rank((me + 1) % n);
        let left = world.process_at_rank((me + n - 1) % n);
        for i in 0..ROUNDS {
            let len = [0usize, 8, 64, 65, 300, 5000, 70_000][i % 7];
            let data = vec![(i + me as usize) as u8; len];
            if me % 2 == 0 {
                right.send(&data).unwrap();
                let (v, _) = left.receive_vec::<u8>().unwrap();
                assert_eq!(v, vec![(i + ((me + n - 1) % n) as usize) as u8; len]);
            } else {
                let (v, _) = left.receive_vec::<u8>().unwrap();
                assert_eq!(v, vec![(i + ((me + n - 1) % n) as usize) as u8; len]);
                right.send(&data).unwrap();
            }
            if i % 10 == 0 {
                world.barrier().unwrap();
            }
        }
        // Everyone floods rank 0, which receives from anyone.
        if me == 0 {
            for _ in 0..(n as usize - 1) * 200 {
                world.any_process().receive::<u32>().unwrap();
            }
        } else {
            for i in 0..200u32 {
                world.process_at_rank(0).send(&i).unwrap();
            }
        }
        world.barrier().unwrap();
        // Collectives, small (the collective lines: one flag per rank) and large, on the world
        // and on a duplicate, every wait asleep.
        let dup = world.duplicate().unwrap();
        for i in 0..1000u64 {
            let comm = if i % 2 == 0 { &world } else { &dup };
            let len = [1usize, 4, 3000][i as usize % 3];
            let mine = vec![i + me as u64; len];
            let mut sum = vec![0u64; len];
            comm.all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum())
                .unwrap();
            let want = (0..n as u64).map(|r| i + r).sum::<u64>();
            assert!(sum.iter().all(|&x| x == want));
            let root = (i % n as u64) as i32;
            let mut b = vec![if me == root { i } else { 0 }; len];
            comm.process_at_rank(root)
                .broadcast_into(&mut b[..])
                .unwrap();
            assert!(b.iter().all(|&x| x == i));
            if i % 5 == 0 {
                comm.barrier().unwrap();
            }
        }
    })
    .unwrap();
}
