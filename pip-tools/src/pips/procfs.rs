//! Reading procfs, and the `kcmp` system call, for `pips`.
//!
//! Everything `pips` knows about a running job comes from here:
//!
//! * `/proc/PID/task/TID/comm`: thread names. pip-core names a task's thread `<digit>|<program>`
//!   (the last digit of its pipid) and pip-exec names its root thread `R|<program>`, as PiP does;
//!   this is how jobs are found.
//! * `/proc/PID/task/TID/stat`: run state, CPU time, start time, last CPU, parent.
//! * `/proc/PID/task/TID/status`: owner (`Uid`) and the signal masks (`Sig*`, `ShdPnd`).
//! * `/proc/PID/task/TID/children`: the processes a thread forked (per thread, so a forked
//!   process can be attributed to the task that forked it).
//! * `/proc/PID/task/TID/{fd,fdinfo}`: a thread's fd table. `/proc/PID/fd` shows only the
//!   leader's table, which is wrong for a task with a private table, so `pips` always reads the
//!   per-thread directories.
//! * `kcmp(2)`: whether two threads share an fd table (`KCMP_FILES`) and whether two fds refer
//!   to the same open file description (`KCMP_FILE`); procfs cannot tell either.
//!
//! Any of these can fail half-way because the thread ended: readers return `io::Error`s that
//! callers treat as "gone" (`ENOENT`, `ESRCH`) or "not allowed" (`EACCES`, `EPERM`), never a
//! panic.

use std::cmp::Ordering;
use std::io;
use std::path::PathBuf;

/// `kcmp` type: same open file description (`struct file`) behind two fds.
pub const KCMP_FILE: i32 = 0;
/// `kcmp` type: same address space.
pub const KCMP_VM: i32 = 1;
/// `kcmp` type: same fd table.
pub const KCMP_FILES: i32 = 2;
/// `kcmp` type: same signal handler table.
pub const KCMP_SIGHAND: i32 = 4;

/// `kcmp(pid1, pid2, type, idx1, idx2)`: `Equal` when both name the same kernel object,
/// otherwise the kernel's (arbitrary but consistent) order. Both ids may be thread ids.
pub fn kcmp(pid1: i32, pid2: i32, kind: i32, idx1: u64, idx2: u64) -> io::Result<Ordering> {
    // SAFETY: kcmp only reads its integer arguments; it touches no memory of ours.
    let r = unsafe { libc::syscall(libc::SYS_kcmp, pid1, pid2, kind, idx1, idx2) };
    match r {
        0 => Ok(Ordering::Equal),
        1 => Ok(Ordering::Less),
        2 => Ok(Ordering::Greater),
        3 => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        _ => Err(io::Error::last_os_error()),
    }
}

/// The directory of one thread: `/proc/PID/task/TID`.
pub fn task_dir(pid: i32, tid: i32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/task/{tid}"))
}

/// Every process id in `/proc`, ascending.
pub fn pids() -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort_unstable();
    v
}

/// The thread ids of process `pid`, ascending.
pub fn tids(pid: i32) -> io::Result<Vec<i32>> {
    let mut v: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// A thread's name (`comm`), without the newline.
pub fn comm(pid: i32, tid: i32) -> io::Result<String> {
    let s = std::fs::read_to_string(task_dir(pid, tid).join("comm"))?;
    Ok(s.trim_end_matches('\n').to_string())
}

/// A process's command line (`cmdline`), split at NULs.
pub fn cmdline(pid: i32) -> io::Result<Vec<String>> {
    let b = std::fs::read(format!("/proc/{pid}/cmdline"))?;
    Ok(b.split(|&c| c == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

/// The fields of `/proc/PID/task/TID/stat` that `pips` uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stat {
    /// Run state: `R` running, `S` sleeping, `D` disk sleep, `T` stopped, `t` traced, `Z`
    /// zombie, `X` dead, `I` idle.
    pub state: char,
    /// Parent process.
    pub ppid: i32,
    /// Process group.
    pub pgrp: i32,
    /// User-mode CPU time, clock ticks.
    pub utime: u64,
    /// Kernel-mode CPU time, clock ticks.
    pub stime: u64,
    /// Start time, clock ticks after boot.
    pub starttime: u64,
    /// CPU the thread last ran on.
    pub processor: i32,
}

/// Parses a `stat` line. The name (field 2) is in parentheses and may itself contain spaces
/// and parentheses, so fields are counted from the last `)`.
pub fn parse_stat(line: &str) -> Option<Stat> {
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state).
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<i64>().ok());
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: num(1)? as i32,
        pgrp: num(2)? as i32,
        utime: num(11)? as u64,
        stime: num(12)? as u64,
        starttime: num(19)? as u64,
        processor: num(36).unwrap_or(-1) as i32,
    })
}

/// Reads and parses `/proc/PID/task/TID/stat`.
pub fn stat(pid: i32, tid: i32) -> io::Result<Stat> {
    let s = std::fs::read_to_string(task_dir(pid, tid).join("stat"))?;
    parse_stat(&s).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable stat"))
}

/// `/proc/PID/task/TID/status` as (key, value) pairs, in file order.
pub fn status(pid: i32, tid: i32) -> io::Result<Vec<(String, String)>> {
    let s = std::fs::read_to_string(task_dir(pid, tid).join("status"))?;
    Ok(parse_status(&s))
}

/// Splits a `status` file into (key, value) pairs.
pub fn parse_status(s: &str) -> Vec<(String, String)> {
    s.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// The value of `key` in parsed `status` pairs.
pub fn status_field<'a>(st: &'a [(String, String)], key: &str) -> Option<&'a str> {
    st.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// True when process `pid` is `ancestor` or one of its descendants (through the parent
/// chain in procfs; a process that ended breaks the chain).
pub fn descends_from(pid: i32, ancestor: i32) -> bool {
    let mut p = pid;
    // Bounded: a parent chain is short, and a race that made it loop must not hang pips.
    for _ in 0..4096 {
        if p == ancestor {
            return true;
        }
        match stat(p, p) {
            Ok(st) if st.ppid > 0 && st.ppid != p => p = st.ppid,
            _ => return false,
        }
    }
    false
}

/// The real uid of a process (from the owner of `/proc/PID`, which is readable for every
/// process, unlike some of its files).
pub fn owner(pid: i32) -> io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata(format!("/proc/{pid}"))?.uid())
}

/// The processes thread `tid` of `pid` forked (`/proc/PID/task/TID/children`).
pub fn children(pid: i32, tid: i32) -> Vec<i32> {
    std::fs::read_to_string(task_dir(pid, tid).join("children"))
        .map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The kernel function a thread sleeps in (`wchan`), or an empty string.
pub fn wchan(pid: i32, tid: i32) -> String {
    std::fs::read_to_string(task_dir(pid, tid).join("wchan"))
        .map(|s| if s == "0" { String::new() } else { s })
        .unwrap_or_default()
}

/// The system call a thread is blocked in (`/proc/PID/task/TID/syscall`): its number and
/// first argument, when readable (it needs ptrace attach rights) and the thread is in one.
pub fn syscall(pid: i32, tid: i32) -> Option<(i64, u64)> {
    syscall_args(pid, tid).map(|(nr, args)| (nr, args[0]))
}

/// Like [`syscall`], with every argument the kernel shows (six).
pub fn syscall_args(pid: i32, tid: i32) -> Option<(i64, Vec<u64>)> {
    let s = std::fs::read_to_string(task_dir(pid, tid).join("syscall")).ok()?;
    parse_syscall(&s)
}

/// Parses a `syscall` file: `202 0x7f.. 0x80 ...` (number, six arguments, sp, pc). `None` for
/// `running` and for `-1 ...` (blocked, but not in a system call).
pub fn parse_syscall(s: &str) -> Option<(i64, Vec<u64>)> {
    let mut it = s.split_whitespace();
    let nr: i64 = it.next()?.parse().ok()?;
    if nr < 0 {
        return None;
    }
    let args = it
        .take(6)
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .collect::<Option<Vec<u64>>>()?;
    Some((nr, args))
}

/// Reads `buf.len()` bytes of `pid`'s memory at `addr` (`/proc/PID/mem`: ptrace attach rights).
pub fn read_mem(pid: i32, addr: u64, buf: &mut [u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    std::fs::File::open(format!("/proc/{pid}/mem"))?.read_exact_at(buf, addr)
}

/// Clock ticks per second (`_SC_CLK_TCK`).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Seconds since boot (`/proc/uptime`).
pub fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The calling process's real uid.
pub fn my_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// True when the error means the thing read has gone (the thread or process ended, or the fd
/// was closed).
pub fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::ESRCH) | Some(libc::EBADF)
    ) || e.kind() == io::ErrorKind::NotFound
}

/// True when the error means the caller may not look (`EACCES`, `EPERM`).
pub fn is_denied(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM))
}

/// Why the caller may not inspect process `pid`, in words: another user's process, or one that
/// is not dumpable, and what would be needed.
pub fn why_denied(pid: i32) -> String {
    let me = my_uid();
    match owner(pid) {
        Ok(uid) if uid != me => format!(
            "process {pid} belongs to uid {uid} and you are uid {me}: reading its fd tables or wait board, or signalling it, needs the same user or CAP_SYS_PTRACE/CAP_KILL"
        ),
        Ok(_) => format!(
            "ptrace access to process {pid} is denied (it is probably not dumpable: setuid, or prctl(PR_SET_DUMPABLE, 0)); CAP_SYS_PTRACE would be needed"
        ),
        Err(_) => format!("process {pid} has ended"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_names() {
        let line = "1234 (0|a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 2 0 555 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 1);
        assert_eq!((s.utime, s.stime), (7, 3));
        assert_eq!(s.starttime, 555);
        assert_eq!(s.processor, 1);
    }

    #[test]
    fn own_thread_readable() {
        let pid = std::process::id() as i32;
        assert!(tids(pid).unwrap().contains(&pid));
        let st = stat(pid, pid).unwrap();
        assert!(st.state == 'R' || st.state == 'S');
        assert!(status_field(&status(pid, pid).unwrap(), "SigBlk").is_some());
        assert_eq!(
            kcmp(pid, pid, KCMP_FILES, 0, 0).unwrap(),
            std::cmp::Ordering::Equal
        );
    }
}
