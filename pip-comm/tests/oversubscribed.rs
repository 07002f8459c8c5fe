//! More ranks than cores: barriers, a token ring and a gather still finish quickly because
//! waiting ranks yield and then sleep on the futex instead of spinning.

mod common;

use pip_comm::prelude::*;
use pip_comm::run;

#[test]
fn sixteen_ranks_on_few_cores() {
    let _watchdog = common::watchdog("sixteen_ranks_on_few_cores");
    const N: usize = 16;
    const BARRIERS: usize = 200;
    const LAPS: u64 = 20;
    let out = run(N, |world| {
        let (me, n) = (world.rank(), world.size());
        for _ in 0..BARRIERS {
            world.barrier().unwrap();
        }
        // A token travels LAPS times around the ring, incremented at every hop.
        let right = world.process_at_rank((me + 1) % n);
        let left = world.process_at_rank((me + n - 1) % n);
        let mut token = 0u64;
        for _ in 0..LAPS {
            if me == 0 {
                right.send(&(token + 1)).unwrap();
                token = left.receive::<u64>().unwrap().0;
            } else {
                token = left.receive::<u64>().unwrap().0;
                right.send(&(token + 1)).unwrap();
            }
        }
        // Everyone reports to rank 0, which takes them in any order.
        if me == 0 {
            let mut seen = vec![false; n as usize];
            for _ in 1..n {
                let (r, s) = world.any_process().receive::<i32>().unwrap();
                assert_eq!(r, s.source);
                seen[r as usize] = true;
            }
            assert!(seen[1..].iter().all(|&b| b));
        } else {
            world.process_at_rank(0).send(&me).unwrap();
        }
        world.barrier().unwrap();
        token
    })
    .unwrap();
    assert_eq!(out[0], LAPS * N as u64);
}
