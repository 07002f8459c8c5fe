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
//! 4. **Drain** while yielding or sleeping: move every message that arrived to a posted
//!    receive or the unexpected queue, so that no sender stays blocked on a full ring while
//!    this rank waits for something else.
//! 5. **Sleep** only while neither the caller's `ready()`, nor an incoming message, nor (when
//!    the wait is abortable) an abort says to look again; the watchdog bounds the sleep.
//!
//! A *plain* wait ([`Waiter::plain`]) is for a condition that other ranks make true without
//! waiting for this one (a copy in progress): it helps and backs off, but neither drains nor
//! gives up on abort.

use crate::config::WaitPolicy;
use crate::error::{Error, Result};
use crate::rank::Rank;
use crate::shared::Shared;
use crate::wait;
use crate::watchdog::{Watch, Watching, What};
use pip_core::sync::backoff::{Backoff, Step};
use pip_core::waits::{Published, WaitInfo};

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
                Step::Spin => std::hint::spin_loop(),
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
