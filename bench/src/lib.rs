//! OSU-style benchmarks for pip-rs.
//!
//! Each benchmark is written once, over a [`pip_comm::SimpleCommunicator`], and runs two ways:
//!
//! * as **PiP tasks**: a `cdylib` launched by pip-exec (`tasks/<name>.rs`, built as the example
//!   `lib<name>.so`), where each task gets its world from [`pip_comm::world`];
//! * as **thread ranks**: a normal binary (`src/bin/<name>.rs`) that runs the ranks with
//!   [`pip_comm::run`].
//!
//! Options and output follow the OSU Micro-Benchmarks, so the tables line up with published
//! OSU results (see [`options`]).
#![warn(missing_docs)]

use pip_comm::prelude::*;

pub mod barrier;
pub mod bw;
pub mod collective;
pub mod imbalance;
pub mod latency;
pub mod multi_lat;
pub mod options;
pub mod zerocopy;

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

/// What a benchmark body gets: the world, the options, how the ranks run, and where rank 0
/// writes its table.
pub type Body = fn(
    &pip_comm::SimpleCommunicator,
    &options::Options,
    Launch,
    &mut dyn std::io::Write,
) -> Result<(), Box<dyn std::error::Error>>;

/// How many ranks a benchmark accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranks {
    /// Exactly two (the point-to-point tests).
    Two,
    /// An even number, at least two (pairs of ranks).
    Even,
    /// Any number, at least one (collectives).
    Any,
    /// Any number, at least two.
    AtLeastTwo,
}

impl Ranks {
    fn check(self, n: i32) -> Result<(), String> {
        match self {
            Ranks::Two if n != 2 => Err(format!("needs exactly 2 ranks, not {n}")),
            Ranks::Any if n < 1 => Err(format!("needs at least 1 rank, not {n}")),
            Ranks::AtLeastTwo if n < 2 => Err(format!("needs at least 2 ranks, not {n}")),
            Ranks::Even if n < 2 || n % 2 != 0 => {
                Err(format!("needs an even number of ranks, not {n}"))
            }
            _ => Ok(()),
        }
    }
}

/// A benchmark's name, defaults and rank rule: enough for [`task_main`] and
/// [`threads_main`] to parse its options and start it both ways.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The program name (`osu_bw`), used in messages and the usage text.
    pub name: &'static str,
    /// The options before the command line changes them.
    pub defaults: options::Options,
    /// How many ranks it takes.
    pub ranks: Ranks,
}

impl Spec {
    fn options(&self, args: &[String], print: bool) -> Result<options::Options, i32> {
        let note = match self.ranks {
            Ranks::Two => "Run with exactly 2 ranks.",
            Ranks::Even => {
                "Run with an even number of ranks (thread ranks: -n/--ranks N, default 2)."
            }
            Ranks::Any => "Run with any number of ranks (thread ranks: -n/--ranks N, default 2).",
            Ranks::AtLeastTwo => {
                "Run with 2 ranks or more (thread ranks: -n/--ranks N, default 2)."
            }
        };
        match options::parse_with(args, self.defaults.clone()) {
            Ok(options::Parsed::Run(o)) => Ok(o),
            Ok(options::Parsed::Help) => {
                if print {
                    print!("{}", options::usage_with(self.name, &self.defaults, note));
                }
                Err(0)
            }
            Err(e) => {
                if print {
                    eprintln!(
                        "{}: {e}\n{}",
                        self.name,
                        options::usage_with(self.name, &self.defaults, note)
                    );
                }
                Err(1)
            }
        }
    }
}

/// Runs `body` as a PiP task: joins the job's world, parses `args` (without the program
/// name), checks the number of tasks and returns the exit code.
pub fn task_main(spec: &Spec, args: &[String], body: Body) -> i32 {
    let world = match pip_comm::world() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{}: {e}", spec.name);
            return 1;
        }
    };
    let opts = match spec.options(args, world.rank() == 0) {
        Ok(o) => o,
        Err(code) => return code,
    };
    if let Err(e) = spec.ranks.check(world.size()) {
        if world.rank() == 0 {
            eprintln!("{}: {e} (pip-exec -n N ...)", spec.name);
        }
        return 1;
    }
    match body(&world, &opts, Launch::Tasks, &mut std::io::stdout()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}: rank {}: {e}", spec.name, world.rank());
            1
        }
    }
}

/// Runs `body` over thread ranks of this program (`pip_comm::run`): 2, or `-n`/`--ranks N`
/// when the benchmark takes other counts. Returns the exit code.
pub fn threads_main(spec: &Spec, args: &[String], body: Body) -> i32 {
    let mut ranks = 2usize;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if spec.ranks != Ranks::Two && (a == "-n" || a == "--ranks") {
            match it.next().and_then(|v| v.parse().ok()) {
                Some(n) => ranks = n,
                None => {
                    eprintln!("{}: {a} needs a number", spec.name);
                    return 1;
                }
            }
        } else {
            rest.push(a.clone());
        }
    }
    let opts = match spec.options(&rest, true) {
        Ok(o) => o,
        Err(code) => return code,
    };
    if let Err(e) = spec.ranks.check(ranks as i32) {
        eprintln!("{}: {e}", spec.name);
        return 1;
    }
    let results = pip_comm::run(ranks, |world| {
        body(&world, &opts, Launch::Threads, &mut std::io::stdout()).map_err(|e| e.to_string())
    });
    match results.map(|r| r.into_iter().find_map(Result::err)) {
        Ok(None) => 0,
        Ok(Some(e)) => {
            eprintln!("{}: {e}", spec.name);
            1
        }
        Err(e) => {
            eprintln!("{}: {e}", spec.name);
            1
        }
    }
}

/// The header line of a benchmark: `# OSU MPI <title> v7.4 (pip-rs ...: pip-comm over N ...)`.
pub fn osu_header(title: &str, launch: Launch, ranks: i32) -> String {
    format!(
        "# OSU MPI {title} {} (pip-rs {}: pip-comm over {ranks} {})",
        latency::OSU_VERSION,
        env!("CARGO_PKG_VERSION"),
        launch.describe()
    )
}
