//! Runs the pip-comm examples as thread ranks of this one program (`pip_comm::run`), the same
//! code that runs as PiP tasks under pip-exec.
//!
//! ```text
//! cargo run --release --example comm_run -- EXAMPLE RANKS [ARGS]
//! cargo run --release --example comm_run -- pi 4 100000000
//! ```
//! EXAMPLE is `pi`, `stencil`, `pipeline` or `imbalanced` (see `examples/comm/`), or
//! `deadlock`: every rank receives from the next one first, so none ever sends (to try
//! `pips waits` and the deadlock watchdog, `PIP_COMM_WATCHDOG`, on).
use pip_rs::pip_comm::prelude::*;
use std::process::ExitCode;

#[path = "comm/imbalanced.rs"]
mod imbalanced;
#[path = "comm/pi.rs"]
mod pi;
#[path = "comm/pipeline.rs"]
mod pipeline;
#[path = "comm/stencil.rs"]
mod stencil;

type Body =
    fn(&pip_rs::pip_comm::SimpleCommunicator, &[String]) -> Result<(), Box<dyn std::error::Error>>;

/// Every rank receives (tag 7) from the next rank before it sends: a deadlock.
fn deadlock(
    world: &pip_rs::pip_comm::SimpleCommunicator,
    _args: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    let next = (world.rank() + 1) % world.size();
    let mut v = [0u64; 1];
    world
        .process_at_rank(next)
        .receive_into_with_tag(&mut v[..], 7)?;
    world.process_at_rank(next).send_with_tag(&v[..], 7)?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let body: Body = match args.first().map(String::as_str) {
        Some("pi") => pi::run,
        Some("stencil") => stencil::run,
        Some("pipeline") => pipeline::run,
        Some("imbalanced") => imbalanced::run,
        Some("deadlock") => deadlock,
        _ => {
            eprintln!("usage: comm_run pi|stencil|pipeline|imbalanced|deadlock RANKS [ARGS]");
            return ExitCode::from(2);
        }
    };
    let Some(ranks) = args.get(1).and_then(|n| n.parse::<usize>().ok()) else {
        eprintln!("comm_run: RANKS must be a number of ranks (1 or more)");
        return ExitCode::from(2);
    };
    let rest = &args[2..];
    let outcome = pip_rs::pip_comm::run(ranks, |world| {
        body(&world, rest).map_err(|e| format!("rank {}: {e}", world.rank()))
    });
    match outcome {
        Ok(results) => match results.into_iter().find_map(Result::err) {
            None => ExitCode::SUCCESS,
            Some(e) => {
                eprintln!("{}: {e}", args[0]);
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("{}: {e}", args[0]);
            ExitCode::FAILURE
        }
    }
}
