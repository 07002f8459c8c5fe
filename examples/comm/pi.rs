//! Pi by reduction: each rank integrates 4 / (1 + x²) over its share of the intervals (the
//! midpoint rule on [0, 1]), and a sum reduction to rank 0 adds the pieces.
//!
//! Arguments: `[INTERVALS]` (default 50,000,000).

use pip_rs::pip_comm::prelude::*;

/// Runs the example on `world`; `args` are the example's own arguments.
pub fn run(world: &SimpleCommunicator, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000_000);
    let (rank, size) = (world.rank() as u64, world.size() as u64);
    let h = 1.0 / n as f64;
    // Interleaved shares: interval i belongs to rank i % size.
    let mut sum = 0.0f64;
    let mut i = rank;
    while i < n {
        let x = h * (i as f64 + 0.5);
        sum += 4.0 / (1.0 + x * x);
        i += size;
    }
    let mine = sum * h;
    let root = world.process_at_rank(0);
    if world.rank() == 0 {
        let mut pi = 0.0f64;
        root.reduce_into_root(&mine, &mut pi, SystemOperation::sum())?;
        println!(
            "pi is about {pi:.15} (error {:.1e}), from {n} intervals on {size} ranks",
            (pi - std::f64::consts::PI).abs()
        );
    } else {
        root.reduce_into(&mine, SystemOperation::sum())?;
    }
    Ok(())
}
