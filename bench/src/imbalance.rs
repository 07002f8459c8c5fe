//! `imbalance`: what pip-comm's work stealing buys when one rank has all the copying to do,
//! and what it costs when the work is balanced.
//!
//! Not an OSU test. For each size, every iteration is one of two patterns:
//!
//! * **imbalanced**: a gather of `size` bytes per rank to rank 0: rank 0 copies every other
//!   rank's `size` bytes straight from their buffers, and the others only wait until it has.
//!   Without stealing they are idle; with stealing they copy chunks of rank 0's copies.
//!   (A point-to-point pattern would not do: a large send's waiting sender already copies half
//!   of its own message, stealing or not.)
//! * **balanced**: an allgather of `size` bytes per rank: every rank copies the same amount, so
//!   there is little to steal.
//!
//! Stealing is switched off and on with [`SimpleCommunicator::set_work_stealing`] on every rank (the
//! same switch as `PIP_COMM_STEAL=0`), alternating in blocks of iterations so that both modes
//! see the same minutes of a noisy machine. The table gives the mean time per iteration in
//! microseconds with stealing off and on, the speedup (off / on), and the share of the bytes
//! copied from peers that a rank copied for another one (with stealing on). Defaults: 256 KiB to 16 MiB, 100
//! iterations (10 warm-up) per mode and pattern, any number of ranks >= 2 (thread ranks: `-n N`).

use crate::options::Options;
use crate::{osu_header, Launch, Ranks, Spec};
use pip_comm::prelude::*;
use std::io::Write;
use std::time::{Duration, Instant};

/// The tag of the per-rank results sent to rank 0.
const RESULT_TAG: i32 = 8;
/// Iterations are alternated between the two modes in this many blocks per mode.
const BLOCKS: usize = 5;

/// `imbalance`'s name, defaults and rank rule.
pub fn spec() -> Spec {
    Spec {
        name: "imbalance",
        defaults: Options {
            min_size: 256 << 10,
            max_size: 16 << 20,
            iterations: 100,
            skip: 10,
            iterations_large: 100,
            skip_large: 10,
            ..Options::default()
        },
        ranks: Ranks::AtLeastTwo,
    }
}

/// The column header line.
pub fn columns() -> String {
    format!(
        "{:<10}{:>12}{:>16}{:>16}{:>10}{:>10}",
        "# Size", "Pattern", "Off (us)", "On (us)", "Speedup", "Stolen"
    )
}

/// One result line.
pub fn line(size: usize, pattern: &str, off: f64, on: f64, stolen: f64) -> String {
    format!(
        "{size:<10}{pattern:>12}{off:>16.2}{on:>16.2}{:>10.2}{:>9.0}%",
        off / on,
        stolen * 100.0
    )
}

/// One iteration of a pattern.
fn iteration(
    world: &SimpleCommunicator,
    balanced: bool,
    send: &[u8],
    recv: &mut [u8],
) -> pip_comm::Result<()> {
    let size = send.len();
    let n = world.size() as usize;
    if balanced {
        world.all_gather_into(send, &mut recv[..size * n])
    } else {
        let root = world.process_at_rank(0);
        if world.rank() == 0 {
            root.gather_into_root(send, &mut recv[..size * n])
        } else {
            root.gather_into(send)
        }
    }
}

/// Runs `count` iterations in mode `on`; returns the time they took.
fn timed(
    world: &SimpleCommunicator,
    balanced: bool,
    on: bool,
    count: usize,
    send: &[u8],
    recv: &mut [u8],
) -> pip_comm::Result<Duration> {
    world.set_work_stealing(on);
    world.barrier()?;
    let start = Instant::now();
    for _ in 0..count {
        iteration(world, balanced, send, recv)?;
    }
    Ok(start.elapsed())
}

/// Runs the benchmark on `world` (at least 2 ranks); rank 0 writes to `out`.
///
/// # Errors
///
/// A messaging error, or an I/O error writing `out`.
pub fn run(
    world: &SimpleCommunicator,
    opts: &Options,
    launch: Launch,
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let send = vec![b'a'; opts.max_size];
    let mut recv = vec![b'b'; opts.max_size * world.size() as usize];
    let was_on = world.work_stealing();
    if world.rank() == 0 {
        writeln!(
            out,
            "{}",
            osu_header(
                "Imbalance Test (work stealing off/on)",
                launch,
                world.size()
            )
        )?;
        writeln!(out, "{}", columns())?;
        out.flush()?;
    }
    for size in crate::options::sizes(opts.min_size.max(1), opts.max_size) {
        let (iterations, skip) = opts.counts(size);
        let per_block = iterations.div_ceil(BLOCKS).max(1);
        for balanced in [false, true] {
            let (s, r) = (&send[..size], &mut recv[..]);
            timed(world, balanced, false, skip, s, r)?;
            timed(world, balanced, true, skip, s, r)?;
            let (mut off, mut on) = (Duration::ZERO, Duration::ZERO);
            let (mut done, mut stolen) = (0, 0u64);
            while done < iterations {
                let count = per_block.min(iterations - done);
                off += timed(world, balanced, false, count, s, r)?;
                let before = world.steal_stats().bytes;
                on += timed(world, balanced, true, count, s, r)?;
                stolen += world.steal_stats().bytes - before;
                done += count;
            }
            let per_iteration = |d: Duration| d.as_secs_f64() * 1e6 / iterations as f64;
            let (off, on) = (per_iteration(off), per_iteration(on));
            if world.rank() == 0 {
                for peer in 1..world.size() {
                    let mut v = 0u64;
                    world
                        .process_at_rank(peer)
                        .receive_into_with_tag(&mut v, RESULT_TAG)?;
                    stolen += v;
                }
                // The bytes copied from peers: by rank 0 (gather), or by every rank (allgather).
                let ranks = world.size() as u64;
                let moved =
                    if balanced { ranks } else { 1 } * (ranks - 1) * (size * iterations) as u64;
                let pattern = if balanced { "balanced" } else { "imbalanced" };
                writeln!(
                    out,
                    "{}",
                    line(size, pattern, off, on, stolen as f64 / moved as f64)
                )?;
                out.flush()?;
            } else {
                world
                    .process_at_rank(0)
                    .send_with_tag(&stolen, RESULT_TAG)?;
            }
        }
    }
    world.set_work_stealing(was_on);
    world.barrier()?;
    Ok(())
}
