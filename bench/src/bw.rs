//! `osu_bw` and `osu_bibw`: bandwidth with a window of messages in flight.
//!
//! **osu_bw.** For each size, after a barrier, rank 0 starts `window` (`-W`, default 64)
//! immediate sends of one buffer to rank 1 and waits for them all; rank 1 then answers with a
//! 4-byte acknowledgement. That is one iteration; `skip` run untimed, `iterations` timed. The
//! bandwidth printed is `size * window * iterations / time` in MB/s (10^6 bytes per second),
//! as OSU computes it.
//!
//! **osu_bibw.** Both ranks start `window` immediate sends to the other, receive the other's
//! `window` messages, and wait for their own sends; the bandwidth counts both directions.
//!
//! **One difference from OSU's loop.** OSU's receiver posts `window` immediate receives into
//! one and the same buffer. pip-comm's requests borrow their buffer for the scope (a receive
//! takes it mutably), so safe Rust cannot post two receives into one buffer; the receiver
//! here takes the window with blocking receives, one after the other, into one buffer. The
//! sends are immediate as in OSU. pip-comm has no progress thread, so a posted receive would
//! only be filled while its rank is inside a pip-comm call anyway: the copies happen in the
//! same order either way.

use crate::options::Options;
use crate::{osu_header, Launch, Ranks, Spec};
use pip_comm::prelude::*;
use pip_comm::request::{scope, wait_all};
use std::io::Write;
use std::time::Instant;

/// The tag of the data messages (OSU uses 100).
const TAG: i32 = 100;
/// The tag of the acknowledgement (OSU uses 101).
const ACK_TAG: i32 = 101;

/// `osu_bw`'s name, defaults and rank rule.
pub fn spec_bw() -> Spec {
    Spec {
        name: "osu_bw",
        defaults: Options::bandwidth(),
        ranks: Ranks::Two,
    }
}

/// `osu_bibw`'s name, defaults and rank rule.
pub fn spec_bibw() -> Spec {
    Spec {
        name: "osu_bibw",
        defaults: Options::bandwidth(),
        ranks: Ranks::Two,
    }
}

/// The column header line (both tests).
pub fn columns() -> String {
    format!("{:<10}{:>18}", "# Size", "Bandwidth (MB/s)")
}

/// One result line: `%-10d%18.2f`.
pub fn line(size: usize, mb_per_s: f64) -> String {
    format!("{size:<10}{mb_per_s:>18.2}")
}

/// `osu_bw` on `world` (2 ranks); rank 0 writes the table to `out`.
///
/// # Errors
///
/// A messaging error, or an I/O error writing `out`.
pub fn run_bw(
    world: &SimpleCommunicator,
    opts: &Options,
    launch: Launch,
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    run(world, opts, launch, out, false)
}

/// `osu_bibw` on `world` (2 ranks); rank 0 writes the table to `out`.
///
/// # Errors
///
/// A messaging error, or an I/O error writing `out`.
pub fn run_bibw(
    world: &SimpleCommunicator,
    opts: &Options,
    launch: Launch,
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    run(world, opts, launch, out, true)
}

fn run(
    world: &SimpleCommunicator,
    opts: &Options,
    launch: Launch,
    out: &mut dyn Write,
    bidirectional: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let me = world.rank();
    let peer = world.process_at_rank(1 - me);
    let send_buf = vec![b'a'; opts.max_size];
    let mut recv_buf = vec![b'b'; opts.max_size];
    let window = opts.window;
    if me == 0 {
        let title = if bidirectional {
            "Bi-Directional Bandwidth Test"
        } else {
            "Bandwidth Test"
        };
        writeln!(out, "{}", osu_header(title, launch, 2))?;
        writeln!(out, "{}", columns())?;
        out.flush()?;
    }
    for size in crate::options::sizes(opts.min_size, opts.max_size) {
        let (iterations, skip) = opts.counts(size);
        let send = &send_buf[..size];
        world.barrier()?;
        let mut start = Instant::now();
        for i in 0..iterations + skip {
            if i == skip {
                start = Instant::now();
            }
            if bidirectional {
                scope(|s| -> pip_comm::Result<()> {
                    let mut sends = Vec::with_capacity(window);
                    for _ in 0..window {
                        sends.push(peer.immediate_send_with_tag(s, send, TAG)?);
                    }
                    for _ in 0..window {
                        peer.receive_into_with_tag(&mut recv_buf[..size], TAG)?;
                    }
                    wait_all(sends)?;
                    Ok(())
                })?;
            } else if me == 0 {
                scope(|s| -> pip_comm::Result<()> {
                    let mut sends = Vec::with_capacity(window);
                    for _ in 0..window {
                        sends.push(peer.immediate_send_with_tag(s, send, TAG)?);
                    }
                    wait_all(sends)?;
                    Ok(())
                })?;
                peer.receive_into_with_tag(&mut recv_buf[..4.min(opts.max_size)], ACK_TAG)?;
            } else {
                for _ in 0..window {
                    peer.receive_into_with_tag(&mut recv_buf[..size], TAG)?;
                }
                peer.send_with_tag(&send_buf[..4.min(opts.max_size)], ACK_TAG)?;
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        if me == 0 {
            let directions = if bidirectional { 2.0 } else { 1.0 };
            let mb = size as f64 * window as f64 * iterations as f64 * directions / 1e6;
            writeln!(out, "{}", line(size, mb / seconds))?;
            out.flush()?;
        }
    }
    world.barrier()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format() {
        assert_eq!(columns(), "# Size      Bandwidth (MB/s)");
        assert_eq!(line(1, 12.345), format!("1{}12.35", " ".repeat(22)));
    }
}
