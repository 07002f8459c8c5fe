//! `osu_barrier`: the average time of a world barrier, for any number of ranks.
//!
//! Every rank runs `skip` untimed barriers, then `iterations` timed ones; each rank's average
//! is sent to rank 0, which prints the average over ranks (and with `-f` the minimum and
//! maximum over ranks and the iteration count), as OSU's `osu_barrier` does. With more ranks
//! than cores this shows what waiting costs: ranks that spin would hold the CPU that the last
//! rank to arrive needs.

use crate::options::{Options, Parsed};
use crate::Launch;
use pip_comm::prelude::*;
use std::io::Write;
use std::time::Instant;

/// The header line.
pub fn header(launch: Launch, ranks: i32) -> String {
    format!(
        "# OSU MPI Barrier Latency Test {} (pip-rs {}: pip-comm over {ranks} {})",
        crate::latency::OSU_VERSION,
        env!("CARGO_PKG_VERSION"),
        launch.describe()
    )
}

/// The column header line.
pub fn columns(full: bool) -> String {
    let mut s = format!("{:<10}{:>18}", "# Size", "Avg Latency(us)");
    if full {
        s += &format!(
            "{:>18}{:>18}{:>12}",
            "Min Latency(us)", "Max Latency(us)", "Iterations"
        );
    }
    s
}

/// Runs the benchmark; rank 0 writes to `out`. `opts.iterations` and `opts.skip` apply; the
/// message sizes do not.
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
    let (iterations, skip) = (opts.iterations, opts.skip);
    if world.rank() == 0 {
        writeln!(out, "{}", header(launch, world.size()))?;
        writeln!(out, "{}", columns(opts.full))?;
    }
    let mut start = Instant::now();
    for i in 0..iterations + skip {
        if i == skip {
            start = Instant::now();
        }
        world.barrier()?;
    }
    let avg_us = start.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    if world.rank() == 0 {
        let mut all = vec![avg_us];
        for r in 1..world.size() {
            all.push(world.process_at_rank(r).receive::<f64>()?.0);
        }
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let (min, max) = all
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let mut line = format!("{:<10}{mean:>18.2}", 0);
        if opts.full {
            line += &format!("{min:>18.2}{max:>18.2}{iterations:>12}");
        }
        writeln!(out, "{line}")?;
        out.flush()?;
    } else {
        world.process_at_rank(0).send(&avg_us)?;
    }
    world.barrier()?;
    Ok(())
}

/// Splits `--ranks N` (thread ranks only) from the OSU options.
fn ranks_and_rest(args: &[String]) -> Result<(usize, Vec<String>), String> {
    let mut ranks = 2;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-n" || a == "--ranks" {
            let v = it.next().ok_or("--ranks needs a value")?;
            ranks = v
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("--ranks {v}: expected a positive number"))?;
        } else {
            rest.push(a.clone());
        }
    }
    Ok((ranks, rest))
}

fn options(args: &[String], print: bool) -> Result<Options, i32> {
    match crate::options::parse(args) {
        Ok(Parsed::Run(o)) => Ok(o),
        Ok(Parsed::Help) => {
            if print {
                println!(
                    "{}  -n, --ranks N  (thread ranks only) how many ranks (default 2)",
                    crate::options::usage("osu_barrier")
                );
            }
            Err(0)
        }
        Err(e) => {
            if print {
                eprintln!("osu_barrier: {e}");
            }
            Err(1)
        }
    }
}

/// The benchmark as a PiP task (every task of the job takes part). Returns the exit code.
pub fn task_main(args: &[String]) -> i32 {
    let world = match pip_comm::world() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("osu_barrier: {e}");
            return 1;
        }
    };
    let opts = match options(args, world.rank() == 0) {
        Ok(o) => o,
        Err(code) => return code,
    };
    match run(&world, &opts, Launch::Tasks, &mut std::io::stdout()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("osu_barrier: rank {}: {e}", world.rank());
            1
        }
    }
}

/// The benchmark over thread ranks (`--ranks N`, default 2). Returns the exit code.
pub fn threads_main(args: &[String]) -> i32 {
    let (ranks, rest) = match ranks_and_rest(args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("osu_barrier: {e}");
            return 1;
        }
    };
    let opts = match options(&rest, true) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let results = pip_comm::run(ranks, |world| {
        run(&world, &opts, Launch::Threads, &mut std::io::stdout()).map_err(|e| e.to_string())
    });
    match results.map(|r| r.into_iter().find_map(Result::err)) {
        Ok(None) => 0,
        Ok(Some(e)) => {
            eprintln!("osu_barrier: {e}");
            1
        }
        Err(e) => {
            eprintln!("osu_barrier: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_option() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ranks_and_rest(&args(&["-i", "5"])).unwrap(),
            (2, args(&["-i", "5"]))
        );
        assert_eq!(
            ranks_and_rest(&args(&["--ranks", "4", "-f"])).unwrap(),
            (4, args(&["-f"]))
        );
        assert!(ranks_and_rest(&args(&["-n", "0"])).is_err());
        assert_eq!(columns(false), "# Size       Avg Latency(us)");
    }
}
