//! `zerocopy`: ownership transfer of a `Vec` between 2 ranks (`send_vec` / `recv_vec`).
//!
//! Not an OSU test (MPI has no way to hand over a buffer), but printed in the same format as
//! `osu_latency` so that the two tables line up: for each size, rank 0 fills a `Vec<u8>` of
//! that many bytes, then passes it to rank 1 and back, `skip` times untimed and `iterations`
//! times timed; the latency printed is the timed span divided by `2 * iterations`, in
//! microseconds. The `Vec` that comes back must be the same allocation that left (checked at
//! the end of each size), so nothing was copied. Defaults: 1 B to 64 MiB, 1000 iterations and
//! 10 warm-up ones for every size.
//!
//! It needs one heap for all ranks: thread ranks, or PiP tasks with `shared-libc` isolation.
//! Under `namespace` isolation pip-comm refuses the transfer and the benchmark says so.

use crate::options::Options;
use crate::{Launch, Ranks, Spec};
use pip_comm::prelude::*;
use std::io::Write;
use std::time::{Duration, Instant};

/// The tag of the transfers.
const TAG: i32 = 1;

/// `zerocopy`'s name, defaults and rank rule.
pub fn spec() -> Spec {
    Spec {
        name: "zerocopy",
        defaults: Options {
            min_size: 1,
            max_size: 64 << 20,
            iterations: 1000,
            skip: 10,
            iterations_large: 1000,
            skip_large: 10,
            ..Options::default()
        },
        ranks: Ranks::Two,
    }
}

/// The header line.
pub fn header(launch: Launch) -> String {
    format!(
        "# OSU MPI Latency Test {} (pip-rs {}: zero-copy, ownership transfer with send_vec over 2 {})",
        crate::latency::OSU_VERSION,
        env!("CARGO_PKG_VERSION"),
        launch.describe()
    )
}

/// Runs the benchmark on `world` (2 ranks); rank 0 writes to `out`.
///
/// # Errors
///
/// A messaging error (`OwnershipTransferUnavailable` under namespace isolation), a `Vec` that
/// came back as another allocation, or an I/O error writing `out`.
pub fn run(
    world: &SimpleCommunicator,
    opts: &Options,
    launch: Launch,
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let me = world.rank();
    let peer = world.process_at_rank(1 - me);
    if me == 0 {
        writeln!(out, "{}", header(launch))?;
        writeln!(out, "{}", crate::latency::columns(opts.full))?;
        out.flush()?;
    }
    for size in crate::options::sizes(opts.min_size.max(1), opts.max_size) {
        let (iterations, skip) = opts.counts(size);
        world.barrier()?;
        if me == 0 {
            let mut v = vec![b'z'; size];
            let addr = v.as_ptr() as usize;
            let mut start = Instant::now();
            let (mut min, mut max) = (Duration::MAX, Duration::ZERO);
            for i in 0..iterations + skip {
                if i == skip {
                    start = Instant::now();
                }
                let t = opts.full.then(Instant::now);
                peer.send_vec_with_tag(v, TAG)
                    .map_err(pip_comm::Error::from)?;
                v = peer.recv_vec_with_tag::<u8>(TAG)?.0;
                if let (Some(t), true) = (t, i >= skip) {
                    let rt = t.elapsed();
                    (min, max) = (min.min(rt), max.max(rt));
                }
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / (2.0 * iterations as f64);
            if v.as_ptr() as usize != addr || v.len() != size || v[size - 1] != b'z' {
                return Err(format!("size {size}: the Vec came back as another allocation").into());
            }
            let half_us = |d: Duration| d.as_secs_f64() * 1e6 / 2.0;
            writeln!(
                out,
                "{}",
                crate::latency::line(
                    size,
                    us,
                    opts.full.then(|| (half_us(min), half_us(max), iterations))
                )
            )?;
            out.flush()?;
        } else {
            for _ in 0..iterations + skip {
                let (v, _) = peer.recv_vec_with_tag::<u8>(TAG)?;
                peer.send_vec_with_tag(v, TAG)
                    .map_err(pip_comm::Error::from)?;
            }
        }
    }
    world.barrier()?;
    Ok(())
}
