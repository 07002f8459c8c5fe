//! OSU-style benchmarks for pip-rs.
//!
//! Each benchmark is written once, over a [`pip_comm::Communicator`], and runs two ways:
//!
//! * as **PiP tasks**: a `cdylib` launched by pip-exec (`tasks/<name>.rs`, built as the example
//!   `lib<name>.so`), where each task gets its world from [`pip_comm::world`];
//! * as **thread ranks**: a normal binary (`src/bin/<name>.rs`) that runs the ranks with
//!   [`pip_comm::run`].
//!
//! Options and output follow the OSU Micro-Benchmarks, so the tables line up with published
//! OSU results (see [`options`]).
#![warn(missing_docs)]

pub mod barrier;
pub mod latency;
pub mod options;

/// How the ranks of a benchmark run were started (printed in the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// PiP tasks under pip-exec.
    Tasks,
    /// Threads of one program, through `pip_comm::run`.
    Threads,
}

impl Launch {
    /// Words for the header: "PiP tasks" or "thread ranks".
    pub fn describe(self) -> &'static str {
        match self {
            Launch::Tasks => "PiP tasks",
            Launch::Threads => "thread ranks",
        }
    }
}
