//! The one table of signal names, and the one parser, that pip-core, libpip and the tools use
//! (`pip_core::signal_name`, `pip_core::parse_signal`, `pip_core::signal_short_name`).
//!
//! Names are Linux's: `SIGHUP` to `SIGSYS` for 1 to 31, then the real-time signals, named from
//! the nearer end of their range as `SIGRTMIN+n` or `SIGRTMAX-n` (glibc keeps 32 and 33 for
//! itself, so `SIGRTMIN` is 34 in a glibc program). Parsing accepts what the names print, with
//! or without `SIG`, in any case, and numbers from 0 (no signal: `kill(2)`'s existence check)
//! to `SIGRTMAX`.

/// The names of signals 1 to 31, without `SIG` (index `n - 1`).
const STANDARD: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// The name of a standard signal (1 to 31), such as `SIGSEGV`; async-signal-safe (no
/// allocation).
pub(crate) fn signal_str(sig: i32) -> Option<&'static str> {
    // One string per signal, with the prefix, so that the result is a `&'static str`.
    const WITH_SIG: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    usize::try_from(sig)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| WITH_SIG.get(i).copied())
}

/// The name of `sig` without `SIG`: `TERM`, `USR1`, `RTMIN+2`, `RTMAX-3`; the number for a
/// signal without a name (32 and 33, glibc's own).
///
/// ```
/// assert_eq!(pip_core::signal_short_name(libc::SIGTERM), "TERM");
/// assert_eq!(pip_core::signal_short_name(libc::SIGRTMAX() - 3), "RTMAX-3");
/// ```
pub fn signal_short_name(sig: i32) -> String {
    if let Some(name) = signal_str(sig) {
        return name[3..].to_string();
    }
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    if (min..=max).contains(&sig) {
        return match (sig - min, max - sig) {
            (0, _) => "RTMIN".into(),
            (_, 0) => "RTMAX".into(),
            (up, down) if up <= down => format!("RTMIN+{up}"),
            (_, down) => format!("RTMAX-{down}"),
        };
    }
    sig.to_string()
}

/// The name of a signal, such as `SIGSEGV` or `SIGRTMAX-3`, or `signal N` for one without a
/// name.
///
/// ```
/// assert_eq!(pip_core::signal_name(libc::SIGSEGV), "SIGSEGV");
/// assert_eq!(pip_core::signal_name(libc::SIGRTMIN() + 1), "SIGRTMIN+1");
/// assert_eq!(pip_core::signal_name(32), "signal 32");
/// ```
pub fn signal_name(sig: i32) -> String {
    let short = signal_short_name(sig);
    if short.parse::<i32>().is_ok() {
        format!("signal {sig}")
    } else {
        format!("SIG{short}")
    }
}

/// Parses a signal: a number (0 to `SIGRTMAX`), or a name with or without `SIG`, in any case
/// (`term`, `SIGKILL`, `RTMIN+2`, `SIGRTMAX-3`).
///
/// ```
/// assert_eq!(pip_core::parse_signal("term"), Some(libc::SIGTERM));
/// assert_eq!(pip_core::parse_signal("SIGRTMAX-3"), Some(libc::SIGRTMAX() - 3));
/// assert_eq!(pip_core::parse_signal("9"), Some(9));
/// assert_eq!(pip_core::parse_signal("SIGNOPE"), None);
/// ```
pub fn parse_signal(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return (0..=libc::SIGRTMAX()).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some(i) = STANDARD.iter().position(|&n| n == name) {
        return Some(i as i32 + 1);
    }
    (libc::SIGRTMIN()..=libc::SIGRTMAX()).find(|&n| signal_short_name(n) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_round_trips() {
        for s in 1..=libc::SIGRTMAX() {
            let short = signal_short_name(s);
            if s == 32 || s == 33 {
                assert_eq!(signal_name(s), format!("signal {s}"));
                continue;
            }
            assert_eq!(parse_signal(&short), Some(s), "{s} {short}");
            assert_eq!(parse_signal(&signal_name(s)), Some(s), "{s}");
            assert_eq!(STANDARD.len(), 31);
        }
        assert_eq!(signal_str(libc::SIGWINCH), Some("SIGWINCH"));
        assert_eq!(signal_str(0), None);
        assert_eq!(signal_str(32), None);
        assert_eq!(parse_signal("0"), Some(0));
        assert_eq!(parse_signal("65"), None);
        assert_eq!(parse_signal(" sigusr1 "), Some(libc::SIGUSR1));
    }

    #[test]
    fn the_table_matches_libc() {
        let pairs = [
            (libc::SIGHUP, "HUP"),
            (libc::SIGBUS, "BUS"),
            (libc::SIGUSR1, "USR1"),
            (libc::SIGSTKFLT, "STKFLT"),
            (libc::SIGCHLD, "CHLD"),
            (libc::SIGURG, "URG"),
            (libc::SIGIO, "IO"),
            (libc::SIGPWR, "PWR"),
            (libc::SIGSYS, "SYS"),
        ];
        for (sig, name) in pairs {
            assert_eq!(signal_short_name(sig), name);
        }
    }
}
