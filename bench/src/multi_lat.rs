//! `osu_multi_lat`: the ping-pong of `osu_latency` between many pairs of ranks at once.
//!
//! With `n` ranks (an even number), rank `r < n/2` pairs with rank `r + n/2`, as OSU pairs
//! them. For each size, after a barrier, every pair runs the ping-pong at the same time
//! (`skip` untimed, `iterations` timed round trips); each low rank computes its pair's one-way
//! latency (half the round trip) and rank 0 prints the average over the pairs, in
//! microseconds. With more ranks than cores the pairs share the cores, which shows how waiting
//! ranks give the CPU away. With `-f`, the minimum and maximum over pairs follow.

use crate::options::Options;
use crate::{osu_header, Launch, Ranks, Spec};
use pip_comm::prelude::*;
use std::io::Write;
use std::time::Instant;

/// The tag of the ping-pong messages.
const TAG: i32 = 1;
/// The tag of the per-pair results sent to rank 0.
const RESULT_TAG: i32 = 2;

/// `osu_multi_lat`'s name, defaults and rank rule.
pub fn spec() -> Spec {
    Spec {
        name: "osu_multi_lat",
        defaults: Options::default(),
        ranks: Ranks::Even,
    }
}

/// Runs the benchmark on `world` (an even number of ranks); rank 0 writes to `out`.
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
    let (me, n) = (world.rank(), world.size());
    let pairs = n / 2;
    let low = me < pairs;
    let peer = world.process_at_rank(if low { me + pairs } else { me - pairs });
    let send_buf = vec![b'a'; opts.max_size];
    let mut recv_buf = vec![b'b'; opts.max_size];
    if me == 0 {
        writeln!(out, "{}", osu_header("Multi Latency Test", launch, n))?;
        writeln!(out, "{}", crate::latency::columns(opts.full))?;
        out.flush()?;
    }
    for size in crate::options::sizes(opts.min_size, opts.max_size) {
        let (iterations, skip) = opts.counts(size);
        let (send, recv) = (&send_buf[..size], &mut recv_buf[..size]);
        world.barrier()?;
        let mut start = Instant::now();
        for i in 0..iterations + skip {
            if i == skip {
                start = Instant::now();
            }
            if low {
                peer.send_with_tag(send, TAG)?;
                peer.receive_into_with_tag(recv, TAG)?;
            } else {
                peer.receive_into_with_tag(recv, TAG)?;
                peer.send_with_tag(send, TAG)?;
            }
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / (2.0 * iterations as f64);
        if me == 0 {
            let mut all = vec![us];
            for r in 1..pairs {
                all.push(world.process_at_rank(r).receive_with_tag_f64(RESULT_TAG)?);
            }
            let avg = all.iter().sum::<f64>() / all.len() as f64;
            let (min, max) = all
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            writeln!(
                out,
                "{}",
                crate::latency::line(size, avg, opts.full.then_some((min, max, iterations)))
            )?;
            out.flush()?;
        } else if low {
            world.process_at_rank(0).send_with_tag(&us, RESULT_TAG)?;
        }
    }
    world.barrier()?;
    Ok(())
}

/// Receiving one `f64` with a tag, which `Process` offers only through a buffer.
trait ReceiveF64 {
    fn receive_with_tag_f64(&self, tag: i32) -> pip_comm::Result<f64>;
}

impl ReceiveF64 for pip_comm::Process<'_> {
    fn receive_with_tag_f64(&self, tag: i32) -> pip_comm::Result<f64> {
        let mut v = 0f64;
        self.receive_into_with_tag(&mut v, tag)?;
        Ok(v)
    }
}
