//! Tunables, read from environment variables.
//!
//! Two kinds:
//!
//! * [`Params`] shape the shared world state (slot sizes, thresholds). Every rank must use the
//!   same values, so the rank that creates the world reads them and stores them in the shared
//!   state; the others use what they find there.
//! * [`WaitPolicy`] is private to each rank: how long it spins and yields before it sleeps.
//!   It is pip-core's one wait policy (`pip_core::sync::backoff`), which reads
//!   `PIP_COMM_SPIN`/`PIP_COMM_YIELD` (or their newer names `PIP_WAIT_SPIN`/`PIP_WAIT_YIELD`,
//!   which win when both are set).
//!
//! In a PiP task the variables are read from the task's own environment (what pip-exec gave
//! it), elsewhere from the process's.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PIP_COMM_EAGER_MAX` | 512 | largest message sent eagerly (copied through a slot); larger ones use the single-copy rendezvous |
//! | `PIP_COMM_RING_SLOTS` | 16 | slots in each sender-to-receiver ring (rounded up to a power of two) |
//! | `PIP_COMM_PAR_COPY_MIN` | 64k | from this size on, the blocked sender helps the receiver copy, chunk by chunk |
//! | `PIP_COMM_CHUNK` | 256k | largest chunk of that shared copy (a chunk is a quarter of the message, at least 32k) |
//! | `PIP_COMM_SPIN` | 20000, or 0 with more ranks than CPUs | polls before a waiting rank starts to yield |
//! | `PIP_COMM_YIELD` | 50, or 10 with more ranks than CPUs | `sched_yield` calls before it sleeps on a futex |
//!
//! | `PIP_COMM_STEAL` | on | `0`/`no`/`false`/`off`: a blocked rank does not help others with their copies |
//!
//! Sizes are parsed by [`pip_core::settings::parse_bytes`], pip-core's one size rule: a number
//! with an optional `k`, `m` or `g` suffix (powers of 1024; a plain number is bytes), on/off values as `1`/`yes`/`true`/`on` or
//! `0`/`no`/`false`/`off`. A value that does not parse, or is out of range (`PIP_COMM_EAGER_MAX`
//! at most 1m, `PIP_COMM_RING_SLOTS` 2 to 4096, `PIP_COMM_CHUNK` at least 4k, the counts at
//! most 4294967295), is an error when the world is created ([`check_env`]); the ring slot
//! count is rounded up to a power of two. The same holds for the watchdog's
//! `PIP_COMM_WATCHDOG` (seconds, or `0`/`no`/`false`/`off`; default [`WATCHDOG_DEFAULT_SECS`])
//! and `PIP_COMM_DEADLOCK` (`report` or `abort`), read here ([`WatchdogSettings`]) for the
//! deadlock watchdog (the `watchdog` module describes what they do).

use crate::error::{Error, Result};
use pip_core::settings::{self, Plain};
pub(crate) use pip_core::sync::backoff::WaitPolicy;
use std::time::Duration;

/// The largest eager limit accepted.
pub(crate) const EAGER_MAX_LIMIT: usize = 1 << 20;

/// Shape of the shared world state; chosen once by the world's creator.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    /// Messages of at most this many bytes go eagerly through a ring slot.
    pub(crate) eager_max: u64,
    /// Slots per ring, a power of two.
    pub(crate) ring_slots: u64,
    /// From this size on, the sender helps copy a rendezvous message.
    pub(crate) par_copy_min: u64,
    /// The largest chunk of a shared copy.
    pub(crate) chunk: u64,
}

impl Params {
    /// The defaults, overridden by the environment; an error for a bad value.
    pub(crate) fn from_env() -> Result<Params> {
        let eager_max = env_size("PIP_COMM_EAGER_MAX", 512, 0, EAGER_MAX_LIMIT)?;
        let ring_slots = env_size("PIP_COMM_RING_SLOTS", 16, 2, 1 << 12)?.next_power_of_two();
        let par_copy_min = env_size("PIP_COMM_PAR_COPY_MIN", 64 << 10, 0, usize::MAX)?;
        let chunk = env_size("PIP_COMM_CHUNK", 256 << 10, 4096, usize::MAX)?;
        Ok(Params {
            eager_max: eager_max as u64,
            ring_slots: ring_slots as u64,
            par_copy_min: par_copy_min as u64,
            chunk: chunk as u64,
        })
    }
}

/// `PIP_COMM_STEAL` (default on).
pub(crate) fn steal_from_env() -> Result<bool> {
    Ok(settings::flag("PIP_COMM_STEAL")?.unwrap_or(true))
}

/// Checks every variable of the table above, so that a bad value stops the world's creation
/// with a message instead of being ignored.
pub(crate) fn check_env(nranks: usize) -> Result<()> {
    Params::from_env()?;
    WaitPolicy::from_env(nranks)?;
    steal_from_env()?;
    check_watchdog_env()?;
    Ok(())
}

/// The watchdog's period when `PIP_COMM_WATCHDOG` does not set one, in seconds.
pub(crate) const WATCHDOG_DEFAULT_SECS: f64 = 10.0;

/// What `PIP_COMM_DEADLOCK` asks for once a deadlock is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDeadlock {
    /// Print only (the default).
    Report,
    /// Print, then end the job with [`crate::DEADLOCK_EXIT_CODE`].
    Abort,
}

/// The deadlock watchdog's settings: its period and what to do on a deadlock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WatchdogSettings {
    /// How long every rank must have waited with no progress.
    pub(crate) limit: Duration,
    pub(crate) on_deadlock: OnDeadlock,
}

impl WatchdogSettings {
    /// The settings the environment asks for (`PIP_COMM_WATCHDOG`, `PIP_COMM_DEADLOCK`), `None`
    /// when the watchdog is off; on by default. A value that does not parse was refused when
    /// the world was created ([`check_env`]); should one get here anyway, it is named on stderr
    /// and the default used.
    pub(crate) fn from_env() -> Option<WatchdogSettings> {
        let secs = match pip_core::env_var("PIP_COMM_WATCHDOG") {
            None => WATCHDOG_DEFAULT_SECS,
            Some(v) => match parse_limit(&v) {
                Some(s) => s,
                None => {
                    warn_once(format!(
                        "pip-comm: PIP_COMM_WATCHDOG={v:?} is not a number of seconds (or 0/off); using {WATCHDOG_DEFAULT_SECS}"
                    ));
                    WATCHDOG_DEFAULT_SECS
                }
            },
        };
        if secs == 0.0 {
            return None;
        }
        let on_deadlock = match pip_core::env_var("PIP_COMM_DEADLOCK")
            .as_deref()
            .map(str::trim)
        {
            None | Some("" | "report") => OnDeadlock::Report,
            Some("abort") => OnDeadlock::Abort,
            Some(v) => {
                warn_once(format!(
                    "pip-comm: PIP_COMM_DEADLOCK={v:?} is neither `report` nor `abort`; using `report`"
                ));
                OnDeadlock::Report
            }
        };
        Some(WatchdogSettings {
            limit: Duration::from_secs_f64(secs),
            on_deadlock,
        })
    }
}

/// Refuses a `PIP_COMM_WATCHDOG` or `PIP_COMM_DEADLOCK` value that does not parse, when the
/// world is created, as for every other `PIP_COMM_*` variable.
fn check_watchdog_env() -> Result<()> {
    let bad = |text: String| Err(Error::Pip(pip_core::Error::InvalidArgument(text)));
    if let Some(v) = pip_core::env_var("PIP_COMM_WATCHDOG") {
        if parse_limit(&v).is_none() {
            return bad(format!(
                "PIP_COMM_WATCHDOG={v}: not a number of seconds (0, no, false or off turn the watchdog off)"
            ));
        }
    }
    if let Some(v) = pip_core::env_var("PIP_COMM_DEADLOCK") {
        if !matches!(v.trim(), "" | "report" | "abort") {
            return bad(format!(
                "PIP_COMM_DEADLOCK={v}: neither `report` nor `abort`"
            ));
        }
    }
    Ok(())
}

/// Prints a warning about the environment once per program (each rank reads it).
fn warn_once(message: String) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| eprintln!("{message}"));
}

/// `PIP_COMM_WATCHDOG`'s value in seconds (0 for off), if it is one.
fn parse_limit(v: &str) -> Option<f64> {
    let v = v.trim().to_ascii_lowercase();
    if matches!(v.as_str(), "0" | "off" | "no" | "false") {
        return Some(0.0);
    }
    let secs: f64 = v.parse().ok()?;
    (secs >= 0.0 && secs.is_finite() && secs < 1e9).then_some(secs)
}

/// Reads a size variable (`default` when unset) and checks that it is in `min..=max`.
fn env_size(name: &str, default: usize, min: usize, max: usize) -> Result<usize> {
    let Some(v) = settings::size(name, Plain::Bytes)? else {
        return Ok(default);
    };
    if (min..=max).contains(&v) {
        return Ok(v);
    }
    let text = settings::text(name)?.unwrap_or_default();
    let range = match (min, max) {
        (0, _) => format!("at most {max}"),
        (_, usize::MAX) => format!("at least {min}"),
        _ => format!("between {min} and {max}"),
    };
    Err(Error::Pip(pip_core::Error::InvalidArgument(format!(
        "{name}={text} is out of range: it must be {range}"
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pip_core::settings::parse_bytes as parse_size;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("16k"), Some(16384));
        assert_eq!(parse_size(" 2M "), Some(2 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("k"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn the_watchdog_period_parses() {
        assert_eq!(parse_limit("0"), Some(0.0));
        assert_eq!(parse_limit("off"), Some(0.0));
        assert_eq!(parse_limit(" 1.5 "), Some(1.5));
        assert_eq!(parse_limit("soon"), None);
        assert_eq!(parse_limit("-1"), None);
    }

    #[test]
    fn defaults_are_sane() {
        let p = Params::from_env().unwrap();
        assert!(p.ring_slots.is_power_of_two() && p.ring_slots >= 2);
        assert!(p.chunk >= 4096);
    }
}
