//! The options the commands share: which jobs, how to show them, what to hide.

use clap::Args;
use pip_tools::pips::jobs::{self, Filter, Job};

/// Which jobs and tasks.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct Select {
    /// Only job PID (the root's pid); repeatable.
    #[arg(short = 'r', long = "job", visible_alias = "root", value_name = "PID")]
    pub(crate) jobs: Vec<i32>,
    /// Only task PIPID; repeatable.
    #[arg(short = 't', long = "pipid", value_name = "PIPID")]
    pub(crate) pipids: Vec<usize>,
    /// Include other users' jobs (their rows only: their fds and kcmp stay closed to you).
    #[arg(long)]
    pub(crate) all_users: bool,
    /// Only jobs or tasks whose program contains PATTERN.
    #[arg(value_name = "PATTERN")]
    pub(crate) patterns: Vec<String>,
}

impl Select {
    /// The filter by job pid only (for `-f`/`-d`, which take whole jobs).
    pub(crate) fn filter_jobs_only(&self) -> Filter {
        Filter {
            jobs: self.jobs.clone(),
            ..Filter::default()
        }
    }

    pub(crate) fn filter(&self) -> Filter {
        Filter {
            jobs: self.jobs.clone(),
            pipids: self.pipids.clone(),
            programs: self.patterns.clone(),
        }
    }
    /// The matching jobs. Jobs named by pid are looked for among every user's, like `ps -p`
    /// (what may be read of them is then up to the kernel).
    pub(crate) fn jobs(&self) -> Vec<Job> {
        self.filter()
            .apply(jobs::scan(self.all_users || !self.jobs.is_empty()))
    }
}

#[derive(Args, Debug, Default)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) view: ViewArgs,
    /// Send SIGTERM to the tasks listed (PiP's `pips -k`).
    #[arg(short = 'k', long = "kill")]
    pub(crate) kill: bool,
    /// Send signal SIG to the tasks listed (PiP's `pips -s SIG`).
    #[arg(short = 's', long = "signal", value_name = "SIG")]
    pub(crate) signal: Option<String>,
    /// The whole job (root and every task) of each task or root that matches (PiP's `-f`).
    #[arg(short = 'f', long = "family")]
    pub(crate) family: bool,
    /// The jobs whose root is a PATTERN process (by pid) or one of its descendants (PiP's
    /// `-d`): `pips -s KILL -d PID` ends the jobs started under PID.
    #[arg(
        short = 'd',
        long = "descendants",
        visible_alias = "descent",
        alias = "descentants"
    )]
    pub(crate) descendants: bool,
    /// Say what is about to be signalled (PiP's `-v`).
    #[arg(short = 'v', long = "verbose")]
    pub(crate) verbose: bool,
}

/// Which jobs, and how to show them (the listing, `signals`, `waits`).
#[derive(Args, Debug, Default)]
pub(crate) struct ViewArgs {
    #[command(flatten)]
    pub(crate) select: Select,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Refresh every SECS seconds (default 1) in place, until interrupted.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "1")]
    pub(crate) watch: Option<f64>,
}

#[derive(Args, Debug, Clone, Copy, Default)]
pub(crate) struct Hide {
    /// Leave out fds 0, 1 and 2.
    #[arg(long)]
    pub(crate) hide_stdio: bool,
    /// Leave out pip-core's task images (the `/memfd:pip-task:...` files). The diagrams
    /// (--svg, --dot, `pips serve`) leave them out unless --show-images is given, and say how
    /// many they left out.
    #[arg(long, conflicts_with = "show_images")]
    pub(crate) hide_images: bool,
    /// Draw pip-core's task images in the diagrams too.
    #[arg(long)]
    pub(crate) show_images: bool,
}

impl Hide {
    /// Whether task images are left out: of a diagram (`diagram`) unless --show-images, of
    /// text and JSON only with --hide-images.
    pub(crate) fn images(&self, diagram: bool) -> bool {
        self.hide_images || (diagram && !self.show_images)
    }
}

#[derive(Args, Debug)]
pub(crate) struct FdsArgs {
    #[command(flatten)]
    pub(crate) select: Select,
    #[command(flatten)]
    pub(crate) hide: Hide,
    /// Print JSON.
    #[arg(long, group = "format")]
    pub(crate) json: bool,
    /// Print Graphviz DOT.
    #[arg(long, group = "format")]
    pub(crate) dot: bool,
    /// Print SVG (drawn by the system's `dot` when installed, else by pips's own layout).
    #[arg(long, group = "format")]
    pub(crate) svg: bool,
    /// With --svg: always use pips's own three-row layout.
    #[arg(long)]
    pub(crate) builtin: bool,
    /// Refresh every SECS seconds (default 1) in place (text only).
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "1")]
    pub(crate) watch: Option<f64>,
}
