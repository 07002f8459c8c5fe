//! A zero-copy pipeline: rank 0 makes blocks of data, every rank in turn does its stage on a
//! block and hands it to the next with `send_vec`, which moves the `Vec` itself (its
//! allocation), not its bytes, so a hop costs the same for 1 KiB as for 1 GiB. The last rank
//! checks what arrived.
//!
//! Arguments: `[BLOCKS] [MIB]` (defaults 8 blocks of 64 MiB). Needs `shared-libc` isolation
//! (the default): with a private libc per task a `Vec` cannot change owners, and `send_vec`
//! says so.

use pip_rs::pip_comm::prelude::*;
use std::time::Instant;

/// Runs the example on `world`; `args` are the example's own arguments.
pub fn run(world: &SimpleCommunicator, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let blocks: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(8);
    let mib: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let (rank, size) = (world.rank(), world.size());
    if size < 2 {
        println!("pipeline: run me on 2 ranks or more");
        return Ok(());
    }
    let len = (mib << 20) / 8;
    let (prev, next) = (
        world.process_at_rank((rank + size - 1) % size),
        world.process_at_rank((rank + 1) % size),
    );
    // Rank 0 makes every block before the clock starts: block b holds b in each element.
    let made: Vec<Vec<u64>> = if rank == 0 {
        (0..blocks).map(|b| vec![b; len]).collect()
    } else {
        Vec::new()
    };
    world.barrier()?;
    let start = Instant::now();
    if rank == 0 {
        for v in made {
            next.send_vec(v).map_err(|e| e.error)?;
        }
    }
    // The last rank keeps what arrived until the clock stops: freeing 64 MiB takes
    // milliseconds, and would be counted as the hop's time.
    let mut kept = Vec::new();
    if rank != 0 {
        for b in 0..blocks {
            let (mut v, _) = prev.recv_vec::<u64>()?;
            // The stage: rank r adds r to the first element (the rest is left alone).
            v[0] += rank as u64;
            if rank + 1 < size {
                next.send_vec(v).map_err(|e| e.error)?;
            } else {
                let stages: u64 = (1..size as u64).sum();
                let ok = v.len() == len && v[0] == b + stages && v[len - 1] == b;
                if !ok {
                    let (first, last) = (v[0], v[len - 1]);
                    return Err(format!(
                        "block {b} arrived wrong: length {}, first {first}, last {last}",
                        v.len()
                    )
                    .into());
                }
                kept.push(v);
            }
        }
    }
    // The last rank tells rank 0 it has everything.
    if rank == size - 1 {
        world.process_at_rank(0).send(&blocks)?;
    }
    if rank == 0 {
        world.process_at_rank(size - 1).receive::<u64>()?;
        let t = start.elapsed().as_secs_f64();
        let hops = blocks * (size as u64 - 1);
        println!(
            "{blocks} blocks of {mib} MiB through {} stages: {:.2} us per block and hop (the Vec moves, its bytes stay), all checked",
            size - 1,
            t * 1e6 / hops as f64
        );
    }
    Ok(())
}
