//! `printpipmode`: prints the execution mode a PiP program started now would run in, as PiP's
//! `printpipmode` does: `pthread` or `process`, the strings `pip_get_mode_str()` returns.
//!
//! The mode comes from `PIP_MODE` exactly as a root reads it (pip-core's
//! [`Mode::from_env`](pip_core::Mode::from_env)), so `pip-mode -P printpipmode` prints `process`.
//! When the mode is refused (PiP's `process:preload`, an unknown value) it prints why on stderr
//! and exits with 1 (`EPERM`, the error PiP's `pip_init` gives, which PiP's printpipmode
//! returns). Options: `-h`/`--help` only.
use std::process::ExitCode;

fn main() -> ExitCode {
    pip_tools::default_sigpipe();
    if let Some(a) = std::env::args().nth(1) {
        let help = a == "-h" || a == "--help";
        let text = "usage: printpipmode\nPrints the PiP execution mode (pthread or process) a program started now would run in; set it with PIP_MODE or pip-mode.";
        if help {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        eprintln!("printpipmode: unexpected argument `{a}`\n{text}");
        return ExitCode::from(2);
    }
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
