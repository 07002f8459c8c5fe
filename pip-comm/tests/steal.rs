//! Work stealing: waiting ranks copy chunks of busy ranks' large copies (rendezvous messages
//! and collective pieces), and results are the same with stealing on and off.
//!
//! Waiters must be polling (not asleep on the futex) to steal, so this binary makes ranks spin
//! while they wait (`PIP_COMM_SPIN`, set before any world starts; it is the only test binary
//! that does).

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, SimpleCommunicator, SystemOperation};

fn spin_while_waiting() {
    std::env::set_var("PIP_COMM_SPIN", "100000000");
}

fn data(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed * 7) ^ (i >> 9)) as u8)
        .collect()
}

/// A mix of large transfers and collectives; returns everything each rank received.
fn workload(world: &SimpleCommunicator) -> Vec<Vec<u8>> {
    let me = world.rank() as usize;
    let n = world.size() as usize;
    let len = 1 << 20;
    let mut got = Vec::new();
    // Rank 0 receives a large message from rank 1 while the others wait at the barrier.
    if me == 0 {
        got.push(world.process_at_rank(1).receive_vec::<u8>().unwrap().0);
    } else if me == 1 {
        world
            .process_at_rank(0)
            .send(&data(1, 4 * len)[..])
            .unwrap();
    }
    world.barrier().unwrap();
    // Broadcast from 2: the root waits while the others copy.
    let mut b = if me == 2 { data(2, len) } else { vec![0; len] };
    world.process_at_rank(2).broadcast_into(&mut b[..]).unwrap();
    got.push(b);
    // Gather to 0 and all-to-all, large pieces.
    let piece = data(me + 10, len / 2);
    if me == 0 {
        let mut all = vec![0u8; n * len / 2];
        world
            .process_at_rank(0)
            .gather_into_root(&piece[..], &mut all[..])
            .unwrap();
        got.push(all);
    } else {
        world.process_at_rank(0).gather_into(&piece[..]).unwrap();
    }
    let send = data(me + 20, n * len / 2);
    let mut recv = vec![0u8; n * len / 2];
    world.all_to_all_into(&send[..], &mut recv[..]).unwrap();
    got.push(recv);
    let mine: Vec<u64> = (0..len as u64 / 4).map(|i| i * (me as u64 + 1)).collect();
    let mut sum = vec![0u64; mine.len()];
    world
        .all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum())
        .unwrap();
    got.push(sum.iter().flat_map(|x| x.to_le_bytes()).collect());
    got
}

#[test]
fn stealing_happens_and_changes_no_result() {
    let _w = common::watchdog("stealing_happens_and_changes_no_result");
    spin_while_waiting();
    for n in [3usize, 4] {
        let off = run(n, |world| {
            world.set_work_stealing(false);
            world.barrier().unwrap();
            let got = workload(&world);
            world.barrier().unwrap();
            (got, world.steal_stats())
        })
        .unwrap();
        assert!(
            off.iter().all(|(_, s)| s.chunks == 0),
            "no stealing when off"
        );
        // With stealing on, repeat until some rank has stolen (timing decides how much).
        let mut stolen = 0;
        for round in 0..200 {
            let on = run(n, |world| {
                world.set_work_stealing(true);
                world.barrier().unwrap();
                let got = workload(&world);
                world.barrier().unwrap();
                (got, world.steal_stats())
            })
            .unwrap();
            for (r, ((a, _), (b, _))) in off.iter().zip(&on).enumerate() {
                assert!(a == b, "n={n} round {round}: rank {r}'s results differ");
            }
            stolen += on.iter().map(|(_, s)| s.chunks).sum::<u64>();
            if stolen > 0 && round >= 2 {
                break;
            }
        }
        assert!(stolen > 0, "n={n}: no rank ever stole a chunk");
    }
}

#[test]
fn waiting_ranks_steal_rendezvous_chunks() {
    let _w = common::watchdog("waiting_ranks_steal_rendezvous_chunks");
    spin_while_waiting();
    let mut stolen = 0;
    for _ in 0..200 {
        let out = run(3, |world| {
            world.set_work_stealing(true);
            let me = world.rank();
            let len = 16 << 20;
            if me == 0 {
                let mut buf = vec![0u8; len];
                world.process_at_rank(1).receive_into(&mut buf[..]).unwrap();
                assert!(buf == data(5, len));
            } else if me == 1 {
                world.process_at_rank(0).send(&data(5, len)[..]).unwrap();
            }
            // Rank 2 waits here from the start, and steals.
            world.barrier().unwrap();
            world.steal_stats()
        })
        .unwrap();
        stolen += out[2].chunks;
        if stolen > 0 {
            break;
        }
    }
    assert!(stolen > 0, "rank 2 never stole a chunk");
}
