//! The wait loop: how a rank waits for anything (a message, a free slot, a copy, a barrier, a
//! collective step) while keeping the world moving.
//!
//! A [`Waiter`] polls the caller's condition and, between polls, does what a waiting rank owes
//! the others, through the small [`Progress`] trait its engine implements:
//!
//! 1. **Poll** the condition; return its value once there is one.
//! 2. **Help**: copy one chunk of another rank's offered copy (work stealing, see
//!    `crate::stealing`); after a chunk, start the backoff again.
//! 3. **Back off** by the rank's [`WaitPolicy`]: spin, then yield, then sleep on the bell (the
//!    protocol is in `crate::wait`). Once it stops spinning, the wait is put on the job's wait
//!    board and, when the watchdog is on, watched (see `crate::watchdog`); both are cleared
//!    when it ends.
//! 4. **Drain**: move every message that arrived to a posted receive or the unexpected
//!    queue, so that no sender stays blocked on a full ring while this rank waits for
//!    something else. A waiter drains after every [`DRAIN_EVERY_SPINS`] spin steps, and at
//!    every yield and every sleep step.
//! 5. **Sleep** only while neither the caller's `ready()`, nor an incoming message, nor (when
//!    the wait is abortable) an abort says to look again; the watchdog bounds the sleep.
//!
//! A *plain* wait ([`Waiter::plain`]) is for a condition that other ranks make true without
//! waiting for this one (a copy in progress): it helps and backs off, but neither drains nor
//! gives up on abort.
//!
//! # Progress while spinning
//!
//! Draining is what a sender blocked on a full ring waits for, and the receiver may itself be
//! waiting for that sender: two ranks that each start a window of immediate sends to the other
//! fill both rings, and each then waits in its sender's wait (`SlotTo`) for a slot that only
//! the other's drain frees. So a waiter must drain while it spins too, not only once it stops
//! spinning. (It did not: each such wait then lasted the whole spin phase, 20000 polls,
//! some 0.5 to 2 ms, three times per window of 64 messages: `osu_bibw` at 2% of MPI's.)
//!
//! The rule, for the ring from rank `s` to rank `r`:
//!
//! * `s` (the producer) waits for its next slot to be `EMPTY`, polling the slot's state with
//!   acquire loads (the `eager` module's protocol); it writes nothing while it waits.
//! * `r` (the consumer), whatever it waits for in [`Waiter::until`], drains all its rings at
//!   least once every [`DRAIN_EVERY_SPINS`] polls while it spins, and at every poll once it
//!   yields or sleeps (before it sleeps, and `has_incoming` makes it look again rather than
//!   sleep when a message is in a ring). Draining takes each message out of its slot and
//!   swaps the slot to `EMPTY` with `SeqCst`, then reads `s`'s `sleeping` flag (`SeqCst`) and
//!   rings the bell if it is set (the handshake of the `wait` module).
//!
//! Hence a sender's wait for a slot lasts at most until the receiver's next drain, which comes
//! within [`DRAIN_EVERY_SPINS`] polls of any wait of the receiver; only a receiver that
//! computes, helps copy (each chunk is finite work), or waits in a plain wait (which ends
//! without any other rank's help) holds it longer. A cycle of ranks, each waiting for a slot
//! in the next one's ring, therefore ends within a drain period: each of them drains. The
//! drain adds no ordering of its own: it is the consumer's step of the ring protocol and the
//! waker's step of the bell, both as those modules describe them.
//!
//! Draining at every spin would cost a load per ring per poll (a world of many ranks would
//! spin many times slower); draining every [`DRAIN_EVERY_SPINS`] polls keeps a blocked peer's
//! delay to a few hundred nanoseconds. The first drain comes only after that many polls, so a
//! short wait (most receives of a stream of messages) never drains, and a blocking receive,
//! whose own poll reads the ring it waits on, rarely finds its message moved to the unexpected
//! queue (a heap copy) by a drain.

use crate::config::WaitPolicy;
use crate::error::{Error, Result};
use crate::rank::Rank;
use crate::shared::Shared;
use crate::wait;
use crate::watchdog::{Watch, Watching, What};
use pip_core::sync::backoff::{Backoff, Step};
use pip_core::waits::{Published, WaitInfo};

/// A waiter drains its rings after every this many spin steps (see
/// [Progress while spinning](self#progress-while-spinning)).
pub(crate) const DRAIN_EVERY_SPINS: u32 = 16;

/// What a waiting rank does for the others each round, besides polling its own condition.
pub(crate) trait Progress {
    /// Moves every message that arrived to a posted receive or the unexpected queue; true if
    /// any came.
    fn drain(&self) -> bool;

    /// True if a message waits to be drained (checked with `SeqCst` before sleeping).
    fn has_incoming(&self) -> bool;

    /// Copies one chunk of another rank's offered work, if any; true if it did.
    fn help(&self) -> bool;

    /// `what` as the job's wait board (and the watchdog) show it. Only called once a wait has
    /// stopped spinning.
    fn wait_info(&self, what: What) -> WaitInfo;

    /// What only this rank knows of its pending operations, for a deadlock report.
    fn details(&self) -> String;
}

/// One rank's way of waiting: its world, its policy, its watchdog, and its progress duties.
pub(crate) struct Waiter<'a, P: Progress> {
    pub(crate) shared: &'a Shared,
    /// The rank's world rank.
    pub(crate) me: u32,
    pub(crate) policy: WaitPolicy,
    pub(crate) watch: Option<Watch>,
    pub(crate) progress: &'a P,
}

impl<P: Progress> Waiter<'_, P> {
    /// Polls until `poll` gives a value (see the module documentation). `what` names the wait
    /// for the watchdog and the wait board.
    ///
    /// Returns [`Error::Aborted`] when `abortable` and a rank of the world panicked.
    pub(crate) fn until<T>(
        &self,
        what: What,
        abortable: bool,
        poll: impl FnMut() -> Option<T>,
        ready: impl Fn() -> bool,
    ) -> Result<T> {
        // Published on the job's wait board, and watched, once the wait stops spinning;
        // cleared on return.
        let mut published: Option<Published> = None;
        let mut watching: Option<Watching> = None;
        let r = self.run(what, abortable, poll, ready, &mut published, &mut watching);
        if let Some(g) = watching {
            g.end(self.shared, self.me);
        }
        r
    }

    fn run<T>(
        &self,
        what: What,
        abortable: bool,
        mut poll: impl FnMut() -> Option<T>,
        ready: impl Fn() -> bool,
        published: &mut Option<Published>,
        watching: &mut Option<Watching>,
    ) -> Result<T> {
        let mut backoff = Backoff::new(self.policy);
        // Spin steps taken so far, for the drain every `DRAIN_EVERY_SPINS` of them.
        let mut spins: u32 = 0;
        loop {
            if let Some(v) = poll() {
                return Ok(v);
            }
            if self.progress.help() {
                // Did a chunk of another rank's copy (see crate::stealing).
                if let Some(p) = published {
                    p.progress();
                }
                backoff.reset();
                continue;
            }
            let step = backoff.next_step();
            if step != Step::Spin && published.is_none() {
                let info = self.progress.wait_info(what);
                *published = Some(pip_core::waits::publish(&info));
                *watching = self
                    .watch
                    .as_ref()
                    .map(|w| w.begin(self.shared, self.me, &info));
            }
            match step {
                Step::Spin => {
                    spins = spins.wrapping_add(1);
                    if spins % DRAIN_EVERY_SPINS == 0 {
                        // A peer may be waiting for this rank to free a slot of one of its
                        // rings, perhaps while this rank waits for it (see `Progress while
                        // spinning` in the module documentation).
                        self.drain(published.as_ref());
                    }
                    std::hint::spin_loop();
                }
                Step::Yield => {
                    if abortable {
                        self.check_aborted()?;
                    }
                    self.drain(published.as_ref());
                    pip_core::yield_now();
                }
                Step::Sleep => {
                    if abortable {
                        self.check_aborted()?;
                    }
                    self.drain(published.as_ref());
                    if let Some(v) = poll() {
                        return Ok(v);
                    }
                    let timeout = watching
                        .as_ref()
                        .map(|g| g.check(self.shared, || self.progress.details()));
                    wait::sleep_unless(
                        self.shared,
                        self.me,
                        || ready() || self.progress.has_incoming(),
                        timeout,
                    );
                }
            }
        }
    }

    /// Waits until `done()`, for a condition that other ranks make true without waiting for
    /// this one (a copy in progress): no draining, no abort. Sleeps only while `ready()` is
    /// false.
    pub(crate) fn plain(&self, mut done: impl FnMut() -> bool, ready: impl Fn() -> bool) {
        let mut backoff = Backoff::new(self.policy);
        while !done() {
            if self.progress.help() {
                continue;
            }
            match backoff.next_step() {
                Step::Spin => std::hint::spin_loop(),
                Step::Yield => pip_core::yield_now(),
                Step::Sleep => wait::sleep_unless(self.shared, self.me, &ready, None),
            }
        }
    }

    /// Fails with [`Error::Aborted`] if a rank of the world panicked.
    fn check_aborted(&self) -> Result<()> {
        match self.shared.aborted_by() {
            None => Ok(()),
            Some(r) => Err(Error::Aborted { rank: r as Rank }),
        }
    }

    /// Moves incoming messages in, counting it as progress on the wait board when any came.
    fn drain(&self, published: Option<&Published>) {
        if self.progress.drain() {
            if let Some(p) = published {
                p.progress();
            }
        }
    }
}
