//! The job's `PIP_*` settings, read and checked once by [`Root::init`](super::Root::init), so
//! that a bad value stops the job at the start with a message saying what is wrong (see
//! [`crate::settings`] for the spellings).

use crate::error::{Error, Result};
use crate::settings::{self, Plain};

/// The smallest task stack `PIP_STACKSIZE` may ask for.
pub(crate) const MIN_STACK: usize = 64 << 10;
/// The largest task stack `PIP_STACKSIZE` may ask for: the x86-64 user address space (128 TiB).
pub(crate) const MAX_STACK: usize = 1 << 47;
/// The task stack size without `PIP_STACKSIZE`.
const DEFAULT_STACK: usize = 8 << 20;

/// What the `PIP_*` variables ask of this job.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobEnv {
    /// `PIP_STACKSIZE` (a plain number is KiB), or 8 MiB.
    pub(crate) stack_size: usize,
    /// `PIP_STOP_ON_START`: a pipid, or a negative number for every task.
    pub(crate) stop_on_start: Option<i64>,
    /// `PIP_FULL_IMAGE`: keep the whole program file in each task's image.
    pub(crate) full_image: bool,
    /// `PIP_WAIT_BOARD` (default on).
    pub(crate) wait_board: bool,
}

impl JobEnv {
    /// Reads the variables for a job of `ntasks` tasks.
    pub(crate) fn read(ntasks: usize) -> Result<JobEnv> {
        let stack_size = match settings::size("PIP_STACKSIZE", Plain::KiB)? {
            None => DEFAULT_STACK,
            Some(s) if s < MIN_STACK => {
                return Err(Error::InvalidArgument(format!(
                    "PIP_STACKSIZE={}: {s} bytes is too small for a task's stack (a plain number is KiB); give at least 64k, e.g. PIP_STACKSIZE=16m",
                    settings::text("PIP_STACKSIZE")?.unwrap_or_default()
                )))
            }
            Some(s) if s > MAX_STACK => {
                return Err(Error::InvalidArgument(format!(
                    "PIP_STACKSIZE={}: {s} bytes is more than the whole address space (128t); give a size such as 16m",
                    settings::text("PIP_STACKSIZE")?.unwrap_or_default()
                )))
            }
            Some(s) => s,
        };
        let stop_on_start = match settings::text("PIP_STOP_ON_START")? {
            None => None,
            Some(v) => Some(parse_stop_on_start(&v, ntasks)?),
        };
        Ok(JobEnv {
            stack_size,
            stop_on_start,
            full_image: settings::flag("PIP_FULL_IMAGE")?.unwrap_or(false),
            wait_board: settings::flag("PIP_WAIT_BOARD")?.unwrap_or(true),
        })
    }
}

/// `PIP_STOP_ON_START`: a pipid of this job, or a negative number for every task.
fn parse_stop_on_start(v: &str, ntasks: usize) -> Result<i64> {
    let n: i64 = v.trim().parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "PIP_STOP_ON_START={v}: not a pipid (give the pipid of the task to stop at, or -1 for every task)"
        ))
    })?;
    if n >= 0 && n as u64 >= ntasks as u64 {
        return Err(Error::InvalidArgument(format!(
            "PIP_STOP_ON_START={v}: this job has tasks 0..{ntasks} (give one of those, or -1 for every task)"
        )));
    }
    Ok(n)
}
