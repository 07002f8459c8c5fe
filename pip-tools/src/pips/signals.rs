//! Signal state per task: blocked, pending (thread and shared), ignored and caught signals.
//!
//! Read from `/proc/PID/task/TID/status`: `SigBlk` (the thread's mask) and `SigPnd` (pending
//! for this thread alone, e.g. sent with `tgkill`) are per thread; `ShdPnd` (pending for the
//! process) is per thread group; `SigIgn`/`SigCgt` are per handler table, so in thread mode
//! every task shows the same ones (a thread cannot have its own handlers: `unshare(CLONE_SIGHAND)`
//! fails in a threaded process). These files are readable for every process (no ptrace rights
//! needed), unless `/proc` is mounted with `hidepid`.
//!
//! **Handler names.** The kernel does not show handler addresses in procfs; only the process
//! itself can ask (`sigaction(sig, NULL, &old)`). So names are found only when `pips` runs
//! inside the inspected process (the library called from a root, a task or a test):
//! [`handlers_of_this_process`] reads each caught signal's handler with `sigaction` and names
//! it from the symbol tables of the file mapped at that address ([`symbolize`]: the mapping from
//! `/proc/self/maps`, then the ELF `.symtab`/`.dynsym` of that file). From outside, a caught
//! signal is listed without a name, and the output says why. One exception is known by
//! convention: pip-core's per-task kill signal (`SIGRTMAX-3`) is marked as such.

use super::procfs;
use serde_json::{json, Value};

/// The name of signal `sig` without `SIG`: `TERM`, `USR1`, `RTMIN+2`, `RTMAX-3` (pip-core's
/// one signal table, [`pip_core::signal_short_name`]).
pub fn signal_name(sig: i32) -> String {
    pip_core::signal_short_name(sig)
}

/// Parses a signal: a number, or a name with or without `SIG`, in any case (`term`, `SIGKILL`,
/// `RTMIN+2`, `RTMAX-3`); [`pip_core::parse_signal`].
pub fn parse_signal(s: &str) -> Option<i32> {
    pip_core::parse_signal(s)
}

/// The signals in a hexadecimal mask from `status` (`0000000000004200` = {USR1, TERM}).
pub fn decode_mask(hex: &str) -> Vec<i32> {
    let Ok(bits) = u64::from_str_radix(hex.trim(), 16) else {
        return Vec::new();
    };
    (1..=64).filter(|s| bits & (1u64 << (s - 1)) != 0).collect()
}

/// A caught signal and, when known, its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// The signal.
    pub signal: i32,
    /// The handler's symbol (`on_usr1`, `pip_core::signals::handler`), when it could be named.
    pub handler: Option<String>,
    /// The handler's address, when it could be read (inside the process only).
    pub address: Option<usize>,
    /// `SA_SIGINFO` etc., when read.
    pub flags: Option<u64>,
    /// What is known by convention (pip-core's kill signal).
    pub note: Option<&'static str>,
}

/// One thread's signal state.
#[derive(Debug, Clone, Default)]
pub struct TaskSignals {
    /// Process.
    pub pid: i32,
    /// Thread.
    pub tid: i32,
    /// A label (`task 2`, `root`).
    pub label: String,
    /// `SigBlk`: blocked in this thread.
    pub blocked: Vec<i32>,
    /// `SigPnd`: pending for this thread alone.
    pub pending_thread: Vec<i32>,
    /// `ShdPnd`: pending for the whole process.
    pub pending_shared: Vec<i32>,
    /// `SigIgn`: ignored (process-wide in thread mode).
    pub ignored: Vec<i32>,
    /// `SigCgt`: caught, with handlers when they can be named.
    pub caught: Vec<Caught>,
    /// `SigQ`: queued / limit for the owner.
    pub queued: String,
    /// Why handler names are missing, if they are.
    pub handler_note: Option<String>,
}

/// Reads the signal state of thread `tid` of `pid`. Handler names are filled in when `pid` is
/// this process.
pub fn read(pid: i32, tid: i32, label: &str) -> std::io::Result<TaskSignals> {
    let st = procfs::status(pid, tid)?;
    let mask = |k: &str| decode_mask(procfs::status_field(&st, k).unwrap_or(""));
    let own = pid == std::process::id() as i32;
    let handlers = if own {
        handlers_of_this_process()
    } else {
        Vec::new()
    };
    let caught = mask("SigCgt")
        .into_iter()
        .map(|s| {
            let h = handlers.iter().find(|h| h.signal == s).cloned();
            Caught {
                signal: s,
                handler: h.as_ref().and_then(|h| h.handler.clone()),
                address: h.as_ref().and_then(|h| h.address),
                flags: h.as_ref().and_then(|h| h.flags),
                note: (s == pip_core::signals::kill_signal())
                    .then_some("pip-core's per-task kill signal"),
            }
        })
        .collect();
    Ok(TaskSignals {
        pid,
        tid,
        label: label.to_string(),
        blocked: mask("SigBlk"),
        pending_thread: mask("SigPnd"),
        pending_shared: mask("ShdPnd"),
        ignored: mask("SigIgn"),
        caught,
        queued: procfs::status_field(&st, "SigQ").unwrap_or("").to_string(),
        handler_note: (!own).then(|| {
            "handler addresses are not visible from outside a process (procfs does not show them); names are given when the library runs inside the process".to_string()
        }),
    })
}

impl TaskSignals {
    /// As JSON: signal names, handlers where known.
    pub fn to_json(&self) -> Value {
        let names = |v: &[i32]| v.iter().map(|&s| signal_name(s)).collect::<Vec<_>>();
        json!({
            "pid": self.pid,
            "tid": self.tid,
            "label": self.label,
            "blocked": names(&self.blocked),
            "pending_thread": names(&self.pending_thread),
            "pending_shared": names(&self.pending_shared),
            "ignored": names(&self.ignored),
            "caught": self.caught.iter().map(|c| json!({
                "signal": signal_name(c.signal),
                "handler": c.handler,
                "address": c.address.map(|a| format!("{a:#x}")),
                "flags": c.flags.map(|f| format!("{f:#x}")),
                "note": c.note,
            })).collect::<Vec<_>>(),
            "queued": self.queued,
            "handler_note": self.handler_note,
        })
    }

    /// Caught signals as text: `USR2(on_usr2) INT RTMAX-3(pip-core kill)`.
    pub fn caught_text(&self) -> String {
        let v: Vec<String> = self
            .caught
            .iter()
            .map(|c| match (&c.handler, c.note) {
                (Some(h), _) => format!("{}({h})", signal_name(c.signal)),
                (None, Some(_)) => format!("{}(pip-core kill)", signal_name(c.signal)),
                (None, None) => signal_name(c.signal),
            })
            .collect();
        join_or_dash(&v)
    }
}

/// Signal names joined by spaces, or `-`.
pub fn names_text(v: &[i32]) -> String {
    join_or_dash(&v.iter().map(|&s| signal_name(s)).collect::<Vec<_>>())
}

fn join_or_dash(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(" ")
    }
}

/// The handlers of this process's caught signals, named with [`symbolize`].
pub fn handlers_of_this_process() -> Vec<Caught> {
    let mut out = Vec::new();
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: a zeroed sigaction is valid output space; a null new action only reads.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above; the signal number is in range.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
            continue;
        }
        let h = old.sa_sigaction;
        if h == libc::SIG_DFL || h == libc::SIG_IGN {
            continue;
        }
        out.push(Caught {
            signal: sig,
            handler: symbolize(h),
            address: Some(h),
            flags: Some(old.sa_flags as u64),
            note: None,
        });
    }
    out
}

/// Names the code at `addr` in this process: finds the file mapped there (`/proc/self/maps`),
/// turns the address into one of the file's virtual addresses, and looks it up in the file's
/// symbol tables (`.symtab`, else `.dynsym`). Rust names are shown as mangled (`_ZN...E` or
/// `_R...`) only when they cannot be read back; v0 and legacy mangling are shortened to their
/// path. `None` for anonymous memory or stripped files.
pub fn symbolize(addr: usize) -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 {
            continue;
        }
        let (lo, hi) = f[0].split_once('-')?;
        let (lo, hi) = (
            usize::from_str_radix(lo, 16).ok()?,
            usize::from_str_radix(hi, 16).ok()?,
        );
        if addr < lo || addr >= hi {
            continue;
        }
        let off = usize::from_str_radix(f[2], 16).ok()?;
        let path = f[5..].join(" ");
        let file_off = addr - lo + off;
        return symbol_at_file_offset(&path, file_off);
    }
    None
}

fn symbol_at_file_offset(path: &str, file_off: usize) -> Option<String> {
    use object::{Object, ObjectSegment, ObjectSymbol};
    let data = std::fs::read(path.trim_end_matches(" (deleted)")).ok()?;
    let obj = object::File::parse(&*data).ok()?;
    // File offset -> virtual address through the segment that holds it.
    let vaddr = obj.segments().find_map(|s| {
        let (o, sz) = s.file_range();
        (file_off as u64 >= o && (file_off as u64) < o + sz)
            .then(|| s.address() + (file_off as u64 - o))
    })?;
    let best = obj
        .symbols()
        .chain(obj.dynamic_symbols())
        .filter(|s| s.is_definition() && s.address() <= vaddr)
        .filter(|s| vaddr < s.address() + s.size().max(1))
        .max_by_key(|s| s.address())?;
    let name = best.name().ok()?;
    Some(demangle_short(name))
}

/// Shortens a legacy-mangled Rust name (`_ZN4core3fmt5write17h0123456789abcdefE`) to its path
/// (`core::fmt::write`); other names are returned as they are.
pub fn demangle_short(name: &str) -> String {
    let Some(mut rest) = name.strip_prefix("_ZN") else {
        return name.to_string();
    };
    let mut parts = Vec::new();
    while let Some(i) = rest.find(|c: char| !c.is_ascii_digit()) {
        if i == 0 {
            break;
        }
        let Ok(n) = rest[..i].parse::<usize>() else {
            break;
        };
        if rest.len() < i + n {
            break;
        }
        let part = &rest[i..i + n];
        rest = &rest[i + n..];
        if !(part.len() == 17 && part.starts_with('h')) {
            parts.push(
                part.replace("$LT$", "<")
                    .replace("$GT$", ">")
                    .replace("..", "::"),
            );
        }
    }
    if parts.is_empty() {
        name.to_string()
    } else {
        parts.join("::")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in 1..=libc::SIGRTMAX() {
            if s == 32 || s == 33 {
                continue;
            }
            let n = signal_name(s);
            assert_eq!(parse_signal(&n), Some(s), "{s} {n}");
        }
        assert_eq!(parse_signal("sigterm"), Some(libc::SIGTERM));
        assert_eq!(signal_name(libc::SIGRTMAX() - 3), "RTMAX-3");
        assert_eq!(decode_mask("0000000000004200"), vec![10, 15]);
    }

    #[test]
    fn demangles_legacy_names() {
        assert_eq!(
            demangle_short("_ZN9pip_tools4pips7signals3foo17h0123456789abcdefE"),
            "pip_tools::pips::signals::foo"
        );
        assert_eq!(demangle_short("on_usr1"), "on_usr1");
    }
}
