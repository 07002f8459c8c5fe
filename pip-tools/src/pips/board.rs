//! A job's wait board, found and read from outside the job: the waits its tasks publish and
//! the facts its root publishes (see [`pip_core::waits`]).
//!
//! The board is the root's memfd named [`BOARD_NAME`](pip_core::waits::BOARD_NAME): read
//! through the root's `/proc/PID/fd/N` (needs only ptrace read access) or, if a task closed
//! that fd, through `/proc/PID/mem` at the mapping.

use super::procfs;
use super::PipsError;
use pip_core::waits::{self as board, BoardHeaderInfo, JobFacts, PublishedWait};
use std::os::unix::fs::FileExt;

/// A function that copies bytes of a board at an offset.
type Copier<'a> = &'a mut dyn FnMut(u64, &mut [u8]) -> std::io::Result<()>;

/// Runs `read` on the job's board, if it has one: through the root's fd, else its memory.
fn with_board<T>(
    pid: i32,
    mut read: impl FnMut(Copier<'_>) -> std::io::Result<T>,
) -> Result<Option<T>, PipsError> {
    let prefix = format!("/memfd:{}", board::BOARD_NAME);
    // Through the root's fd (needs only ptrace read access)...
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in dir.flatten() {
            let Ok(link) = std::fs::read_link(e.path()) else {
                continue;
            };
            if !link.to_string_lossy().starts_with(&prefix) {
                continue;
            }
            if let Ok(f) = std::fs::File::open(e.path()) {
                if let Ok(v) = read(&mut |off, buf| f.read_exact_at(buf, off)) {
                    return Ok(Some(v));
                }
            }
        }
    }
    // ... or through its memory at the mapping (a task may have closed the fd).
    let maps = match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
        Ok(m) => m,
        Err(e)
            if e.raw_os_error() == Some(libc::ENOENT) || e.raw_os_error() == Some(libc::ESRCH) =>
        {
            return Err(PipsError::Gone(format!("job {pid} has ended")))
        }
        Err(_) => {
            return Err(PipsError::Permission {
                what: format!("the wait board of job {pid}"),
                why: procfs::why_denied(pid),
            })
        }
    };
    for line in maps.lines().filter(|l| l.contains(&prefix)) {
        let Some(start) = line
            .split('-')
            .next()
            .and_then(|a| u64::from_str_radix(a, 16).ok())
        else {
            continue;
        };
        match read(&mut |off, buf| procfs::read_mem(pid, start + off, buf)) {
            Ok(v) => return Ok(Some(v)),
            Err(e) if procfs::is_denied(&e) => {
                return Err(PipsError::Permission {
                    what: format!("the wait board of job {pid}"),
                    why: procfs::why_denied(pid),
                })
            }
            Err(_) => continue,
        }
    }
    Ok(None)
}

/// Reads the job's wait board, if it has one: the published waits.
pub fn read_board(pid: i32) -> Result<Option<Vec<PublishedWait>>, PipsError> {
    with_board(pid, |copy| board::read_board(copy).map(|(_, waits)| waits))
}

/// The header of the job's wait board, if it has one it can read (with the job's facts when
/// the root published them: a board of version 3 on).
pub fn read_header(pid: i32) -> Option<BoardHeaderInfo> {
    with_board(pid, |copy| board::read_board_header(copy))
        .ok()
        .flatten()
}

/// The job's facts, as its root published them; `None` for a job without a board (its root
/// runs with `PIP_WAIT_BOARD=0`, or cannot be read) or with an older root's board.
pub fn job_facts(pid: i32) -> Option<JobFacts> {
    read_header(pid)?.facts
}
