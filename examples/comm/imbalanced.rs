//! An imbalanced workload and work stealing: every round, each rank sends a large result to
//! rank 0 in a gather. Rank 0 has all of the copying to do (every other rank's bytes into its
//! buffer) while the others only wait for it. With work stealing (pip-comm's default; off with
//! `PIP_COMM_STEAL=0` or `SimpleCommunicator::set_work_stealing`) the waiting ranks copy chunks of
//! rank 0's copies for it. The example runs the rounds with stealing off, then on, and prints
//! both times and the share of the bytes the other ranks copied.
//!
//! Arguments: `[MIB] [ROUNDS]` (defaults 16 MiB per rank and 20 rounds). Try it with more
//! ranks than 2 on a machine with more cores.

use pip_rs::pip_comm::prelude::*;
use std::time::Instant;

/// Runs the example on `world`; `args` are the example's own arguments.
pub fn run(world: &SimpleCommunicator, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(16);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let (rank, size) = (world.rank(), world.size() as usize);
    let bytes = mib << 20;
    let mine = vec![rank as u8; bytes];
    let mut all = if rank == 0 {
        vec![0u8; bytes * size]
    } else {
        Vec::new()
    };
    let root = world.process_at_rank(0);
    let was_on = world.work_stealing();
    // One untimed round: the first touch of rank 0's buffer would be counted otherwise.
    if rank == 0 {
        root.gather_into_root(&mine[..], &mut all[..])?;
    } else {
        root.gather_into(&mine[..])?;
    }
    // The rounds alternate between the two modes in blocks (off, on, off, on, ...), so that
    // both see the same minutes of a busy machine.
    const BLOCKS: usize = 4;
    let mut times = [0.0f64; 2];
    let mut stolen = [0u64; 2];
    for block in 0..2 * BLOCKS {
        let k = block % 2;
        world.set_work_stealing(k == 1);
        world.barrier()?;
        let before = world.steal_stats().bytes;
        let start = Instant::now();
        for _ in 0..rounds.div_ceil(BLOCKS) {
            if rank == 0 {
                root.gather_into_root(&mine[..], &mut all[..])?;
            } else {
                root.gather_into(&mine[..])?;
            }
        }
        world.barrier()?;
        times[k] += start.elapsed().as_secs_f64();
        let by_me = world.steal_stats().bytes - before;
        let mut sum = 0u64;
        world.all_reduce_into(&by_me, &mut sum, SystemOperation::sum())?;
        stolen[k] += sum;
    }
    let done = rounds.div_ceil(BLOCKS) * BLOCKS;
    for t in &mut times {
        *t /= done as f64;
    }
    world.set_work_stealing(was_on);
    if rank == 0 {
        let wrong = (0..size).find(|&r| {
            all[r * bytes..(r + 1) * bytes]
                .iter()
                .any(|&b| b != r as u8)
        });
        if let Some(r) = wrong {
            return Err(format!("rank {r}'s part of the gather arrived wrong").into());
        }
        let copied = ((size - 1) * bytes * done) as f64;
        println!("gather of {mib} MiB per rank to rank 0, {size} ranks, {done} rounds per mode:");
        println!("  stealing off: {:8.2} ms per round", times[0] * 1e3);
        println!(
            "  stealing on:  {:8.2} ms per round ({:.2}x), {:.0}% of the bytes copied by the waiting ranks",
            times[1] * 1e3,
            times[0] / times[1],
            100.0 * stolen[1] as f64 / copied
        );
    }
    Ok(())
}
