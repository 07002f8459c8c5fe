//! The job's whole process tree: processes that tasks fork end with the job.
//!
//! A task may fork (`system()`, a helper daemon, a double fork that detaches). Without help such
//! a process outlives the job: when its parent ends it is adopted by pid 1. `pip-exec` therefore
//!
//! 1. makes itself a *child subreaper* ([`become_subreaper`], `PR_SET_CHILD_SUBREAPER`) before
//!    any task starts, so that every orphan of the job is adopted by pip-exec instead of pid 1
//!    and stays in its tree, however it detaches (`setsid` and double forks included);
//! 2. once the tasks have ended (normally, after a failure, or after `SIGINT`/`SIGTERM`), ends
//!    what remains of that tree ([`end_descendants`]): `SIGTERM`, a grace period, then
//!    `SIGKILL`, reaping each one.
//!
//! Not covered: a pip-exec that is itself killed with `SIGKILL` cannot clean up, and the
//! processes its tasks forked then go to the next subreaper up or pid 1 (process-mode task
//! processes themselves still die with it: pip-core gives them a parent-death signal, which it
//! cannot do for a fork in the task's own code). While the job runs, orphans that end stay
//! zombies until the job ends: pip-exec cannot reap them earlier without risking to take the
//! exit status of a child that a thread-mode task is waiting for.

use crate::pips::procfs;
use std::collections::{HashMap, HashSet};
use std::io;
use std::time::{Duration, Instant};

/// How long [`end_descendants`] waits for `SIGKILL` to take effect before giving up (a process
/// in uninterruptible sleep, or one being traced, may take long).
const KILL_LIMIT: Duration = Duration::from_secs(5);

/// Makes the calling process a child subreaper: orphans among its descendants become its
/// children instead of pid 1's.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER only sets a per-process flag.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The live (not zombie) descendants of process `root`, from the parent links in `/proc`.
pub fn descendants(root: i32) -> Vec<i32> {
    live_descendants(root)
        .into_iter()
        .map(|(pid, _)| pid)
        .collect()
}

/// The live descendants of `root` with their start times (which tell a process from a later one
/// that reuses its pid).
fn live_descendants(root: i32) -> Vec<(i32, u64)> {
    let mut children: HashMap<i32, Vec<(i32, procfs::Stat)>> = HashMap::new();
    for pid in procfs::pids() {
        // A process that ended meanwhile has no stat any more: it is simply not counted.
        if let Ok(st) = procfs::stat(pid, pid) {
            children.entry(st.ppid).or_default().push((pid, st));
        }
    }
    let mut found = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for (child, st) in children.get(&p).into_iter().flatten() {
            if st.state != 'Z' {
                found.push((*child, st.starttime));
            }
            todo.push(*child);
        }
    }
    found
}

/// Sends `sig` to process `pid` if it is still the one that started at `starttime`: through a
/// pidfd opened first, so that a pid reused since the scan is never signalled.
fn signal_if_same(pid: i32, starttime: u64, sig: i32) {
    // SAFETY: pidfd_open of a pid with no flags; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if fd < 0 {
        return; // Gone (ESRCH), or a kernel without pidfds (older than 5.3): nothing safe to do.
    }
    // The pidfd holds whatever process had the pid when it was opened; if that one has the
    // start time of the scan, it is the process we found.
    if procfs::stat(pid, pid).is_ok_and(|st| st.starttime == starttime) {
        // SAFETY: pidfd_send_signal on our own pidfd with no siginfo and no flags.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
    }
    // SAFETY: closing the pidfd opened above.
    unsafe { libc::close(fd) };
}

/// Reaps every child of the calling process that has ended (without blocking).
fn reap_ended_children() {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with WNOHANG on any child; `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG | libc::__WALL) };
        if r <= 0 {
            return;
        }
    }
}

/// Ends every descendant of the calling process and reaps them: `SIGTERM` to each, up to
/// `grace` for them to end, then `SIGKILL` to what remains. Returns how many processes it
/// signalled. Call it only once the job's tasks have ended: it reaps any child, and in thread
/// mode the children of tasks are this process's children.
///
/// Gives up (returning what it signalled) when processes still remain 5 s after
/// `SIGKILL`, which only a process that the kernel holds (uninterruptible sleep) can do.
pub fn end_descendants(grace: Duration) -> usize {
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    let start = Instant::now();
    let mut termed = HashSet::new();
    let mut killed = HashSet::new();
    loop {
        reap_ended_children();
        let left = live_descendants(me);
        if left.is_empty() {
            break;
        }
        let hard = start.elapsed() >= grace;
        if hard && start.elapsed() >= grace + KILL_LIMIT {
            break;
        }
        for (pid, starttime) in left {
            let (sig, sent) = if hard {
                (libc::SIGKILL, &mut killed)
            } else {
                (libc::SIGTERM, &mut termed)
            };
            if sent.insert(pid) {
                signal_if_same(pid, starttime, sig);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    termed.union(&killed).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grandchild_is_a_descendant() {
        // sh forks a sleep and waits for it: both are descendants of this process.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 120; true"])
            .spawn()
            .unwrap();
        let sh = child.id() as i32;
        let me = std::process::id() as i32;
        let deadline = Instant::now() + Duration::from_secs(60);
        let sleep = loop {
            let all = live_descendants(me);
            let started = all
                .iter()
                .find(|(p, _)| procfs::stat(*p, *p).is_ok_and(|st| st.ppid == sh));
            if let Some(&(p, t)) = started {
                break (p, t);
            }
            assert!(Instant::now() < deadline, "sh did not start its sleep");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(descendants(me).contains(&sh));
        // (end_descendants itself is tested through pip-exec: here it would reap the children
        // of other tests of this binary.)
        signal_if_same(sleep.0, sleep.1, libc::SIGKILL);
        signal_if_same(sleep.0, sleep.1 + 1, libc::SIGKILL); // Not the same process: no-op.
        let _ = child.kill();
        let _ = child.wait();
    }
}
