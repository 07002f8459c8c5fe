//! `printpipmode`: prints the execution mode a PiP program started now would run in, as PiP's
//! `printpipmode` does: `pthread` or `process`, the strings `pip_get_mode_str()` returns.
//!
//! The mode comes from `PIP_MODE` exactly as a root reads it (pip-core's
//! [`Mode::from_env`](pip_core::Mode::from_env)), so `pip-mode -P printpipmode` prints `process`.
//! When the mode is refused (PiP's `process:preload`, an unknown value) it prints why on stderr
//! and exits with 1 (`EPERM`, the error PiP's `pip_init` gives, which PiP's printpipmode
//! returns). Options: `-h`/`--help` and `-V`/`--version` only.
use clap::{CommandFactory, Parser};
use std::process::ExitCode;

/// Print the PiP execution mode (pthread or process) a program started now would run in.
///
/// The mode comes from PIP_MODE (set it with pip-mode). Exit code: 0, or 1 (EPERM, as PiP's
/// pip_init) when the mode is refused, with the reason on stderr.
#[derive(Parser, Debug)]
#[command(name = "printpipmode", version)]
struct Cli {}

fn main() -> ExitCode {
    pip_tools::default_sigpipe();
    pip_tools::generate::generate_if_asked(Cli::command);
    Cli::parse();
    match pip_core::Mode::from_env() {
        Ok(m) => {
            println!("{}", m.as_str());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("printpipmode: pip_init() would fail: {e}");
            ExitCode::from(libc::EPERM as u8)
        }
    }
}
