//! `osu_latency`: ping-pong between two ranks; one-way latency is half the round trip.
//!
//! For each message size, after a barrier, rank 0 sends a message to rank 1 and waits for one
//! of the same size back, `skip` times untimed and then `iterations` times timed; the latency
//! printed is the timed span divided by `2 * iterations`, in microseconds, as OSU's
//! `osu_latency` computes it. With `-f`, each round trip is also timed on its own and the
//! smallest and largest (halved) are printed: OSU prints the minimum and maximum over ranks,
//! which for a two-rank ping-pong says nothing more than the average; the spread over
//! iterations is what shows the noise of a machine.

use crate::options::{self, Options, Parsed, LARGE_MESSAGE_SIZE};
use crate::Launch;
use pip_comm::prelude::*;
use std::io::Write;
use std::time::{Duration, Instant};

/// The tag of the ping-pong messages (OSU uses 1).
const TAG: i32 = 1;

/// The OSU version whose output format this follows.
pub const OSU_VERSION: &str = "v7.4";

/// The header line, naming pip-rs and how the ranks run.
pub fn header(launch: Launch) -> String {
    format!(
        "# OSU MPI Latency Test {OSU_VERSION} (pip-rs {}: pip-comm over 2 {})",
        env!("CARGO_PKG_VERSION"),
        launch.describe()
    )
}

/// The column header line.
pub fn columns(full: bool) -> String {
    let mut s = format!("{:<10}{:>18}", "# Size", "Latency (us)");
    if full {
        s += &format!(
            "{:>18}{:>18}{:>12}",
            "Min Latency (us)", "Max Latency (us)", "Iterations"
        );
    }
    s
}

/// One result line.
pub fn line(size: usize, avg_us: f64, full: Option<(f64, f64, usize)>) -> String {
    let mut s = format!("{size:<10}{avg_us:>18.2}");
    if let Some((min, max, iterations)) = full {
        s += &format!("{min:>18.2}{max:>18.2}{iterations:>12}");
    }
    s
}

/// Runs the benchmark on `world` (ranks 0 and 1 take part; it must have exactly 2 ranks).
/// Rank 0 writes the table to `out`.
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
    if world.size() != 2 {
        return Err(format!("osu_latency needs exactly 2 ranks, not {}", world.size()).into());
    }
    let me = world.rank();
    let peer = world.process_at_rank(1 - me);
    let send_buf = vec![b'a'; opts.max_size];
    let mut recv_buf = vec![b'b'; opts.max_size];
    if me == 0 {
        writeln!(out, "{}", header(launch))?;
        writeln!(out, "{}", columns(opts.full))?;
        out.flush()?;
    }
    for size in options::sizes(opts.min_size, opts.max_size) {
        let (iterations, skip) = if size > LARGE_MESSAGE_SIZE {
            (opts.iterations_large, opts.skip_large)
        } else {
            (opts.iterations, opts.skip)
        };
        let (send, recv) = (&send_buf[..size], &mut recv_buf[..size]);
        world.barrier()?;
        if me == 0 {
            let mut start = Instant::now();
            let (mut min, mut max) = (Duration::MAX, Duration::ZERO);
            for i in 0..iterations + skip {
                if i == skip {
                    start = Instant::now();
                }
                let t = opts.full.then(Instant::now);
                peer.send_with_tag(send, TAG)?;
                peer.receive_into_with_tag(recv, TAG)?;
                if let (Some(t), true) = (t, i >= skip) {
                    let rt = t.elapsed();
                    (min, max) = (min.min(rt), max.max(rt));
                }
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / (2.0 * iterations as f64);
            let half_us = |d: Duration| d.as_secs_f64() * 1e6 / 2.0;
            writeln!(
                out,
                "{}",
                line(
                    size,
                    us,
                    opts.full.then(|| (half_us(min), half_us(max), iterations))
                )
            )?;
            out.flush()?;
        } else {
            for _ in 0..iterations + skip {
                peer.receive_into_with_tag(recv, TAG)?;
                peer.send_with_tag(send, TAG)?;
            }
        }
    }
    world.barrier()?;
    Ok(())
}

/// Parses `args` (without the program name); prints the usage or an error on rank 0.
/// `None` means: exit with the returned code.
fn options_or_exit(args: &[String], print: bool) -> Result<Options, i32> {
    match options::parse(args) {
        Ok(Parsed::Run(o)) => Ok(o),
        Ok(Parsed::Help) => {
            if print {
                print!("{}", options::usage("osu_latency"));
            }
            Err(0)
        }
        Err(e) => {
            if print {
                eprintln!("osu_latency: {e}\n{}", options::usage("osu_latency"));
            }
            Err(1)
        }
    }
}

/// The benchmark as a PiP task: joins the job's world and runs. Returns the exit code.
pub fn task_main(args: &[String]) -> i32 {
    let world = match pip_comm::world() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("osu_latency: {e}");
            return 1;
        }
    };
    let opts = match options_or_exit(args, world.rank() == 0) {
        Ok(o) => o,
        Err(code) => return code,
    };
    if world.size() != 2 {
        if world.rank() == 0 {
            eprintln!(
                "osu_latency: needs exactly 2 tasks, not {} (pip-exec -n 2 ...)",
                world.size()
            );
        }
        return 1;
    }
    match run(&world, &opts, Launch::Tasks, &mut std::io::stdout()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("osu_latency: rank {}: {e}", world.rank());
            1
        }
    }
}

/// The benchmark as one program: runs 2 thread ranks. Returns the exit code.
pub fn threads_main(args: &[String]) -> i32 {
    let opts = match options_or_exit(args, true) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let results = pip_comm::run(2, |world| {
        run(&world, &opts, Launch::Threads, &mut std::io::stdout()).map_err(|e| e.to_string())
    });
    match results {
        Ok(r) => match r.into_iter().find_map(Result::err) {
            None => 0,
            Some(e) => {
                eprintln!("osu_latency: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("osu_latency: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_matches_osu() {
        assert_eq!(columns(false), "# Size          Latency (us)");
        assert_eq!(line(0, 0.154, None), format!("0{}0.15", " ".repeat(23)));
        assert_eq!(
            line(4194304, 148.0, None),
            format!("4194304{}148.00", " ".repeat(15))
        );
        assert!(header(Launch::Tasks).starts_with("# OSU MPI Latency Test v7."));
        assert!(columns(true).starts_with("# Size          Latency (us)  Min Latency (us)"));
        assert_eq!(line(8, 1.0, Some((0.5, 2.25, 100))).len(), 10 + 18 * 3 + 12);
    }
}
