//! A PiP task program for pip-comm's collective tests: `pip-exec -n N libcoll_tasks.so`.
//!
//! Every task runs each collective on the world and on a split communicator, small and large
//! (the large ones take the segmented and stealing paths), and checks the results against a
//! serial computation. Task 0 prints `collectives: N tasks ok`. Exit code 0 when every check
//! passed.
use pip_comm::prelude::*;
use pip_comm::{SimpleCommunicator, SystemOperation};

fn data(r: usize, len: usize) -> Vec<u64> {
    (0..len as u64)
        .map(|i| i * 7 + r as u64 * 1_000_003)
        .collect()
}

fn check(world: &SimpleCommunicator, len: usize) {
    let (me, n) = (world.rank() as usize, world.size() as usize);
    let mine = data(me, len);
    let mut sum = vec![0u64; len];
    world
        .all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum())
        .unwrap();
    let inputs: Vec<Vec<u64>> = (0..n).map(|r| data(r, len)).collect();
    let want: Vec<u64> = (0..len)
        .map(|i| inputs.iter().map(|x| x[i]).sum())
        .collect();
    assert!(sum == want, "allreduce len {len}");
    let root = n - 1;
    let mut b = if me == root {
        data(root, len)
    } else {
        vec![0; len]
    };
    world
        .process_at_rank(root as i32)
        .broadcast_into(&mut b[..])
        .unwrap();
    assert!(b == data(root, len), "bcast len {len}");
    let mut all = vec![0u64; n * len];
    world.all_gather_into(&mine[..], &mut all[..]).unwrap();
    let want: Vec<u64> = (0..n).flat_map(|r| data(r, len)).collect();
    assert!(all == want, "allgather len {len}");
    let send: Vec<u64> = (0..n).flat_map(|q| data(me * n + q, len)).collect();
    let mut recv = vec![0u64; n * len];
    world.all_to_all_into(&send[..], &mut recv[..]).unwrap();
    let want: Vec<u64> = (0..n).flat_map(|q| data(q * n + me, len)).collect();
    assert!(recv == want, "alltoall len {len}");
    let mut pre = 0u64;
    world
        .scan_into(&(me as u64 + 1), &mut pre, SystemOperation::sum())
        .unwrap();
    assert_eq!(pre, ((me + 1) * (me + 2) / 2) as u64);
}

fn coll_tasks() -> i32 {
    let world = pip_comm::world().expect("world");
    for len in [1, 100, 50_000] {
        check(&world, len);
    }
    let half = world
        .split_by_color(Color::with_value(world.rank() % 2))
        .expect("split")
        .expect("a color");
    for len in [3, 40_000] {
        check(&half, len);
    }
    world.barrier().unwrap();
    if world.rank() == 0 {
        println!("collectives: {} tasks ok", world.size());
    }
    0
}

pip_core::task_main!(coll_tasks);
