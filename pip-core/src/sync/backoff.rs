//! How a thread of pip-rs waits for a condition another thread will make true: it polls for a
//! while (spin), then gives up the CPU between polls (yield), then sleeps on a futex until
//! woken. One policy with one set of tunables serves every waiting loop (pip-core's barrier,
//! libpip's `pip_barrier_wait`, pip-comm's waits).
//!
//! # Phases
//!
//! 1. **Spin**: [`WaitPolicy::spins`] polls, each after a CPU spin hint. Cheapest when the
//!    condition comes within microseconds and the waiter has a CPU of its own.
//! 2. **Yield**: [`WaitPolicy::yields`] polls, each after `sched_yield`, which lets a thread
//!    that shares the CPU (the one being waited for, when threads outnumber CPUs) run.
//! 3. **Sleep**: the waiter announces itself (each protocol has its own way: a sleeper count,
//!    a flag bit) and sleeps on a futex word; the thread that makes the condition true wakes
//!    it. This is where a protocol must not lose a wake-up; see its own module.
//!
//! A waiting loop asks a [`Backoff`] what to do next and gets a [`Step`]; it polls its
//! condition between steps and, at [`Step::Sleep`], runs its own sleep protocol.
//!
//! # Tunables
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PIP_WAIT_SPIN` (or `PIP_COMM_SPIN`) | 20000, or 0 with more parties than CPUs | polls before a waiting thread starts to yield |
//! | `PIP_WAIT_YIELD` (or `PIP_COMM_YIELD`) | 50, or 10 with more parties than CPUs | `sched_yield` calls before it sleeps on a futex |
//!
//! `PIP_COMM_SPIN` and `PIP_COMM_YIELD` are the older names (from when only pip-comm read
//! them); they still work, and `PIP_WAIT_*` wins when both are set. The values are counts
//! ([`settings::size`](crate::settings::size) rules: `20k` is 20480), at most 4294967295.
//! [`WaitPolicy::for_parties`] reads them once per process (per task, in a PiP job: from the
//! task's own environment) and ignores a bad value; [`WaitPolicy::from_env`] reads them now and
//! reports a bad value, for the places that check their settings up front.

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// How long a waiting thread spins and yields before it sleeps.
///
/// ```
/// use pip_core::sync::backoff::WaitPolicy;
/// let p = WaitPolicy::for_parties(2);
/// println!("spin {} times, then yield {} times", p.spins, p.yields);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Polls (with a CPU spin hint between them) before yielding.
    pub spins: u32,
    /// `sched_yield` calls (each followed by a poll) before sleeping.
    pub yields: u32,
}

/// The variables, newer name first.
const SPIN_VARS: [&str; 2] = ["PIP_WAIT_SPIN", "PIP_COMM_SPIN"];
const YIELD_VARS: [&str; 2] = ["PIP_WAIT_YIELD", "PIP_COMM_YIELD"];

/// What the environment says, read once.
#[derive(Debug, Clone, Copy)]
struct Overrides {
    spins: Option<u32>,
    yields: Option<u32>,
    cpus: usize,
}

impl WaitPolicy {
    /// A policy with these counts.
    pub const fn new(spins: u32, yields: u32) -> WaitPolicy {
        WaitPolicy { spins, yields }
    }

    /// The defaults for `parties` threads that wait for each other on `cpus` CPUs: spin long
    /// when every party can have a CPU of its own, briefly when parties outnumber CPUs (a
    /// spinning party then holds up the one it waits for).
    ///
    /// ```
    /// use pip_core::sync::backoff::WaitPolicy;
    /// assert_eq!(WaitPolicy::defaults(4, 8), WaitPolicy::new(20_000, 50));
    /// assert_eq!(WaitPolicy::defaults(16, 8), WaitPolicy::new(0, 10));
    /// ```
    pub const fn defaults(parties: usize, cpus: usize) -> WaitPolicy {
        if parties > cpus {
            WaitPolicy::new(0, 10)
        } else {
            WaitPolicy::new(20_000, 50)
        }
    }

    /// The policy for `parties` parties: the defaults, overridden by the variables (read once;
    /// a bad value is ignored here and reported by [`WaitPolicy::from_env`]).
    pub fn for_parties(parties: usize) -> WaitPolicy {
        static ONCE: OnceLock<Overrides> = OnceLock::new();
        let o = ONCE.get_or_init(|| Overrides {
            spins: count(&SPIN_VARS).ok().flatten(),
            yields: count(&YIELD_VARS).ok().flatten(),
            cpus: cpus(),
        });
        let d = WaitPolicy::defaults(parties, o.cpus);
        WaitPolicy::new(o.spins.unwrap_or(d.spins), o.yields.unwrap_or(d.yields))
    }

    /// Like [`WaitPolicy::for_parties`], but reads the variables now and returns an error for
    /// a value that is not a count.
    pub fn from_env(parties: usize) -> Result<WaitPolicy> {
        let d = WaitPolicy::defaults(parties, cpus());
        Ok(WaitPolicy::new(
            count(&SPIN_VARS)?.unwrap_or(d.spins),
            count(&YIELD_VARS)?.unwrap_or(d.yields),
        ))
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The first of `names` that is set, as a count.
fn count(names: &[&str]) -> Result<Option<u32>> {
    for name in names {
        let Some(v) = crate::settings::size(name, crate::settings::Plain::Bytes)? else {
            continue;
        };
        return u32::try_from(v).map(Some).map_err(|_| {
            Error::InvalidArgument(format!(
                "{name}={v} is out of range: it must be at most {}",
                u32::MAX
            ))
        });
    }
    Ok(None)
}

/// What a waiting loop does next (see [Phases](self#phases)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Poll again after a CPU spin hint.
    Spin,
    /// Poll again after giving up the CPU.
    Yield,
    /// Run the sleep protocol: announce, re-check, futex wait.
    Sleep,
}

/// Steps through a [`WaitPolicy`]: `spins` times [`Step::Spin`], `yields` times
/// [`Step::Yield`], then [`Step::Sleep`] for ever.
///
/// ```
/// use pip_core::sync::backoff::{Backoff, Step, WaitPolicy};
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let done = AtomicBool::new(false);
/// let mut backoff = Backoff::new(WaitPolicy::new(2, 1));
/// let mut steps = Vec::new();
/// while !done.load(Ordering::Acquire) {
///     match backoff.snooze() {
///         Step::Sleep => done.store(true, Ordering::Release), // a real loop sleeps on a futex
///         step => steps.push(step),
///     }
/// }
/// assert_eq!(steps, [Step::Spin, Step::Spin, Step::Yield]);
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: WaitPolicy,
    taken: u64,
}

impl Backoff {
    /// A stepper at the start of `policy`.
    pub const fn new(policy: WaitPolicy) -> Backoff {
        Backoff { policy, taken: 0 }
    }

    /// The policy it steps through.
    pub fn policy(&self) -> WaitPolicy {
        self.policy
    }

    /// The next step, without doing it.
    pub fn next_step(&mut self) -> Step {
        let spins = u64::from(self.policy.spins);
        let step = if self.taken < spins {
            Step::Spin
        } else if self.taken < spins + u64::from(self.policy.yields) {
            Step::Yield
        } else {
            return Step::Sleep;
        };
        self.taken += 1;
        step
    }

    /// The next step, done: a spin hint for [`Step::Spin`], `sched_yield` for
    /// [`Step::Yield`]; [`Step::Sleep`] is left to the caller.
    pub fn snooze(&mut self) -> Step {
        let step = self.next_step();
        match step {
            Step::Spin => spin(),
            Step::Yield => yield_now(),
            Step::Sleep => {}
        }
        step
    }

    /// True once the spinning phase is over (the next step yields or sleeps).
    pub fn is_past_spinning(&self) -> bool {
        self.taken >= u64::from(self.policy.spins)
    }

    /// Back to the start of the policy (after progress, say).
    pub fn reset(&mut self) {
        self.taken = 0;
    }
}

#[cfg(not(loom))]
fn spin() {
    std::hint::spin_loop();
}

#[cfg(not(loom))]
fn yield_now() {
    std::thread::yield_now();
}

#[cfg(loom)]
fn spin() {
    loom::hint::spin_loop();
}

#[cfg(loom)]
fn yield_now() {
    loom::thread::yield_now();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_policy() {
        let mut b = Backoff::new(WaitPolicy::new(3, 2));
        let steps: Vec<Step> = (0..7).map(|_| b.next_step()).collect();
        use Step::*;
        assert_eq!(steps, [Spin, Spin, Spin, Yield, Yield, Sleep, Sleep]);
        b.reset();
        assert_eq!(b.next_step(), Spin);
    }

    #[test]
    fn zero_counts_sleep_at_once() {
        let mut b = Backoff::new(WaitPolicy::new(0, 0));
        assert!(b.is_past_spinning());
        assert_eq!(b.snooze(), Step::Sleep);
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let mut b = Backoff::new(WaitPolicy::new(u32::MAX, u32::MAX));
        b.taken = u64::from(u32::MAX) * 2;
        assert_eq!(b.next_step(), Step::Sleep);
    }

    #[test]
    fn defaults_depend_on_oversubscription() {
        assert_eq!(WaitPolicy::defaults(1, 1).spins, 20_000);
        assert_eq!(WaitPolicy::defaults(2, 1).spins, 0);
        let p = WaitPolicy::for_parties(1);
        assert_eq!(p, WaitPolicy::for_parties(1), "read once, stable");
    }
}
