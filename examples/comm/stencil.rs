//! A 2-D halo-exchange stencil: Jacobi iterations of the heat equation on an N x N grid whose
//! top edge is held at 1 and the other edges at 0. The rows are split into one block per rank;
//! before every step each rank swaps its edge rows with its neighbours (`sendrecv`), so that
//! it can update its block. At the end a sum reduction gives the grid's total heat, and on
//! grids of up to 512 x 512 rank 0 also computes the whole grid alone and checks the result.
//!
//! Arguments: `[N] [STEPS]` (defaults 256 and 500).

use pip_rs::pip_comm::prelude::*;
use pip_rs::pip_comm::send_receive_into_with_tags;

const UP: i32 = 1;
const DOWN: i32 = 2;

/// One Jacobi step on a block of `rows` interior rows of width `n` (plus a halo all round):
/// every interior cell of `to` becomes the mean of its four neighbours in `from`.
fn step(from: &[f64], to: &mut [f64], rows: usize, n: usize) {
    let w = n + 2;
    for r in 1..=rows {
        for c in 1..=n {
            let i = r * w + c;
            to[i] = 0.25 * (from[i - w] + from[i + w] + from[i - 1] + from[i + 1]);
        }
    }
}

/// A block with its halo, the top halo row held at 1 if the block touches the grid's top.
fn block(rows: usize, n: usize, top: bool) -> Vec<f64> {
    let mut g = vec![0.0; (rows + 2) * (n + 2)];
    if top {
        g[1..=n].fill(1.0);
    }
    g
}

/// The interior's sum.
fn heat(g: &[f64], rows: usize, n: usize) -> f64 {
    let w = n + 2;
    (1..=rows)
        .map(|r| g[r * w + 1..r * w + 1 + n].iter().sum::<f64>())
        .sum()
}

/// Runs the example on `world`; `args` are the example's own arguments.
pub fn run(world: &SimpleCommunicator, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(256);
    let steps: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    // Rows rank r owns: n / size, one more for the first n % size ranks.
    let rows = n / size + usize::from(rank < n % size);
    let w = n + 2;
    let mut u = block(rows, n, rank == 0);
    let mut v = u.clone();
    let up = (rank > 0 && rows > 0).then(|| rank as Rank - 1);
    let down = (rank + 1 < size && rows > 0 && n / size + usize::from(rank + 1 < n % size) > 0)
        .then(|| rank as Rank + 1);
    let mut edge = vec![0.0; n];
    let mut halo = vec![0.0; n];
    let start = std::time::Instant::now();
    for _ in 0..steps {
        // Shift up: my first row goes to the rank above, the rank below's first row becomes
        // my bottom halo. Then the same downwards.
        if rows > 0 {
            for (dir, to, from) in [(UP, up, down), (DOWN, down, up)] {
                let (send_row, halo_row) = if dir == UP { (1, rows + 1) } else { (rows, 0) };
                edge.copy_from_slice(&u[send_row * w + 1..send_row * w + 1 + n]);
                match (to, from) {
                    (Some(to), Some(from)) => {
                        let (to, from) = (world.process_at_rank(to), world.process_at_rank(from));
                        send_receive_into_with_tags(
                            &edge[..],
                            &to,
                            dir,
                            &mut halo[..],
                            &from,
                            dir,
                        )?;
                    }
                    (Some(to), None) => world.process_at_rank(to).send_with_tag(&edge[..], dir)?,
                    (None, Some(from)) => {
                        world
                            .process_at_rank(from)
                            .receive_into_with_tag(&mut halo[..], dir)?;
                    }
                    (None, None) => continue,
                }
                if from.is_some() {
                    u[halo_row * w + 1..halo_row * w + 1 + n].copy_from_slice(&halo);
                }
            }
        }
        step(&u, &mut v, rows, n);
        std::mem::swap(&mut u, &mut v);
    }
    let elapsed = start.elapsed();
    let mine = heat(&u, rows, n);
    let mut total = 0.0f64;
    world.all_reduce_into(&mine, &mut total, SystemOperation::sum())?;
    if rank == 0 {
        println!(
            "{n} x {n} grid, {steps} steps on {size} ranks: total heat {total:.9} ({:.1} ms)",
            elapsed.as_secs_f64() * 1e3
        );
        if n <= 512 {
            let mut a = block(n, n, true);
            let mut b = a.clone();
            for _ in 0..steps {
                step(&a, &mut b, n, n);
                std::mem::swap(&mut a, &mut b);
            }
            let serial = heat(&a, n, n);
            let same = (serial - total).abs() <= 1e-9 * serial.abs().max(1.0);
            println!(
                "one rank alone: {serial:.9}: {}",
                if same { "the same" } else { "DIFFERENT" }
            );
            if !same {
                return Err(format!("the result {total} differs from the serial {serial}").into());
            }
        }
    }
    Ok(())
}
