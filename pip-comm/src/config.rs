//! Tunables, read from environment variables.
//!
//! Two kinds:
//!
//! * [`Params`] shape the shared world state (slot sizes, thresholds). Every rank must use the
//!   same values, so the rank that creates the world reads them and stores them in the shared
//!   state; the others use what they find there.
//! * [`WaitPolicy`] is private to each rank: how long it spins and yields before it sleeps.
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
//! Sizes take an optional `k`, `m` or `g` suffix (powers of 1024).

/// The largest eager limit accepted (bigger values are clamped to it).
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
    /// The defaults, overridden by the environment.
    pub(crate) fn from_env() -> Params {
        let eager_max = env_size("PIP_COMM_EAGER_MAX")
            .unwrap_or(512)
            .min(EAGER_MAX_LIMIT);
        let ring_slots = env_size("PIP_COMM_RING_SLOTS")
            .unwrap_or(16)
            .clamp(2, 1 << 12)
            .next_power_of_two();
        let par_copy_min = env_size("PIP_COMM_PAR_COPY_MIN").unwrap_or(64 << 10);
        let chunk = env_size("PIP_COMM_CHUNK").unwrap_or(256 << 10).max(4096);
        Params {
            eager_max: eager_max as u64,
            ring_slots: ring_slots as u64,
            par_copy_min: par_copy_min as u64,
            chunk: chunk as u64,
        }
    }
}

/// How a rank waits: spin, then yield, then sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaitPolicy {
    /// Polls (with a CPU spin hint between them) before yielding.
    pub(crate) spins: u32,
    /// `sched_yield` calls (each followed by a poll) before sleeping.
    pub(crate) yields: u32,
}

impl WaitPolicy {
    /// The policy for a world of `nranks` ranks: spin long when every rank can have a CPU of
    /// its own, briefly when ranks outnumber CPUs (a spinning rank then holds up the rank it
    /// waits for). Overridden by the environment.
    pub(crate) fn from_env(nranks: usize) -> WaitPolicy {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let oversubscribed = nranks > cpus;
        let spins = env_size("PIP_COMM_SPIN").unwrap_or(if oversubscribed { 0 } else { 20_000 });
        let yields = env_size("PIP_COMM_YIELD").unwrap_or(if oversubscribed { 10 } else { 50 });
        WaitPolicy {
            spins: spins.min(u32::MAX as usize) as u32,
            yields: yields.min(u32::MAX as usize) as u32,
        }
    }
}

/// Reads a size variable; `None` when unset or unparsable.
fn env_size(name: &str) -> Option<usize> {
    parse_size(&pip_core::env_var(name)?)
}

/// Parses `123`, `16k`, `4m` or `1g` (powers of 1024).
pub(crate) fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    digits.parse::<usize>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn defaults_are_sane() {
        let p = Params::from_env();
        assert!(p.ring_slots.is_power_of_two() && p.ring_slots >= 2);
        assert!(p.chunk >= 4096);
    }
}
