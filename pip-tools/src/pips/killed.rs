//! After `pips kill -s KILL`: did the targets really end?
//!
//! Sending a signal succeeds as soon as the kernel queues it, which says nothing about the
//! target ending. SIGKILL cannot be aimed at one thread, so a thread-mode task gets pip-core's
//! kill signal (`SIGRTMAX-3`) instead, and a task that blocks every signal never takes it: it
//! keeps running. [`confirm_ended`] waits a bounded time for every target of a kill and turns
//! the ones still running into [`PipsError::StillRunning`], saying why (as far as procfs tells)
//! and what ends them.

use super::jobs::Sent;
use super::{procfs, PipsError};
use std::time::{Duration, Instant};

/// How long `pips kill -s KILL` waits for its targets to end before saying they did not.
/// A kill normally takes effect in milliseconds; the limit only matters when it does not.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// Whether `sig` (as sent) is meant to end its target: SIGKILL, or pip-core's kill signal that
/// stands for it.
pub fn is_a_kill(sig: i32) -> bool {
    sig == libc::SIGKILL || sig == pip_core::signals::kill_signal()
}

/// Whether thread `tid` of process `pid` has ended: gone from procfs, or a zombie (a
/// process-mode task or forked process not yet reaped by its parent).
pub fn has_ended(pid: i32, tid: i32) -> bool {
    match procfs::stat(pid, tid) {
        Ok(st) => matches!(st.state, 'Z' | 'X' | 'x'),
        Err(_) => true,
    }
}

/// Waits up to `limit` for every target that was sent a kill ([`is_a_kill`]) and accepted it
/// to end; each one still running then gets a [`PipsError::StillRunning`] result that says so.
pub fn confirm_ended(sent: &mut [Sent], limit: Duration) {
    let waiting = |s: &Sent| s.result.is_ok() && is_a_kill(s.signal);
    let start = Instant::now();
    while sent.iter().any(|s| waiting(s) && !has_ended(s.pid, s.tid)) && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    for s in sent.iter_mut().filter(|s| waiting(s)) {
        if !has_ended(s.pid, s.tid) {
            s.result = Err(PipsError::StillRunning(still_running(s, start.elapsed())));
        }
    }
}

/// True if thread `tid` of `pid` blocks `sig` (from its `SigBlk` in procfs).
fn blocks(pid: i32, tid: i32, sig: i32) -> bool {
    procfs::status(pid, tid)
        .ok()
        .and_then(|st| {
            procfs::status_field(&st, "SigBlk").and_then(|v| u64::from_str_radix(v, 16).ok())
        })
        .is_some_and(|mask| sig >= 1 && mask & (1u64 << (sig - 1)) != 0)
}

/// The message for a target that did not end.
fn still_running(s: &Sent, waited: Duration) -> String {
    let sig = match super::signals::signal_name(s.signal) {
        n if n.starts_with(|c: char| c.is_ascii_digit()) => format!("signal {n}"),
        n => format!("SIG{n}"),
    };
    let state = procfs::stat(s.pid, s.tid)
        .map(|st| format!(", state {}", st.state))
        .unwrap_or_default();
    let head = format!(
        "{}: {sig} was sent but it has NOT ended ({:.0} s later{state})",
        s.what,
        waited.as_secs_f64()
    );
    let end_job = format!(
        "end its whole job instead: `pips kill {job}:root` (SIGTERM: pip-exec ends the other tasks, then exits after waiting 10 s for this one) or `pips kill -s KILL {job}:root` (at once)",
        job = s.job
    );
    if s.in_root_process && blocks(s.pid, s.tid, s.signal) {
        format!(
            "{head}: it blocks {sig}, pip-core's kill signal (SIGKILL itself would end every task of the job). A thread-mode task that blocks it cannot be ended alone: {end_job}"
        )
    } else if s.in_root_process {
        format!(
            "{head}: it may be in a long allocator call, or have replaced pip-core's handler of {sig}. If it does not end, {end_job}"
        )
    } else {
        format!(
            "{head}: the kernel has not ended the process yet (in state D it ends when its uninterruptible wait does). If it does not end, {end_job}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_thread_has_not_ended_and_a_missing_one_has() {
        let pid = std::process::id() as i32;
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        assert!(!has_ended(pid, tid));
        assert!(has_ended(pid, i32::MAX));
        assert!(is_a_kill(libc::SIGKILL) && is_a_kill(pip_core::signals::kill_signal()));
        assert!(!is_a_kill(libc::SIGTERM));
    }
}
