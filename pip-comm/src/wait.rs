//! Waiting: spin, then yield, then sleep on a futex; and the matching wake.
//!
//! # Policy
//!
//! A rank that waits (for a message, a free slot, a copy, a barrier) first polls its condition
//! with a CPU spin hint in between (`Step::Spin`): with a core of its own this answers in
//! tens of nanoseconds. After `spins` polls it calls `sched_yield` between polls
//! (`Step::Yield`), which lets another rank of an oversubscribed node run. After `yields` of
//! those it sleeps on a futex (`Step::Sleep`) until someone wakes it. The steps and counts are
//! pip-core's one `Backoff` and `WaitPolicy` (`pip_core::sync::backoff`; environment variables
//! `PIP_COMM_SPIN` and `PIP_COMM_YIELD`); the loop that takes them is the rank's `Waiter`
//! (the `waiter` module). This module is the sleep itself: the bell.
//!
//! # The bell
//!
//! Every rank of a world sleeps on the same futex word, the *bell*, with its own bit
//! (`1 << rank % 32`) in the futex bit set, so a waker can wake one rank (its bit) or all
//! (every bit) with one system call. Each rank also has a `sleeping` flag in its own cache
//! lines, and the world counts its sleepers.
//!
//! **Sleeper** (rank `r`, in [`sleep_unless`]):
//!
//! 1. read the bell word: `v` (acquire);
//! 2. add 1 to the sleeper count, store `sleeping[r] = 1` (both `SeqCst`);
//! 3. re-check the condition, and the abort flag, with `SeqCst` loads; if either holds, go
//!    to 5;
//! 4. `futex_wait(bell, v, bit(r))`: sleeps only if the bell still holds `v`;
//! 5. store `sleeping[r] = 0`, subtract 1 from the sleeper count.
//!
//! **Waker** (in [`wake_rank`] or [`wake_all`]), after making the condition true with a
//! `SeqCst` store or read-modify-write: load `sleeping[r]` (or the sleeper count) with
//! `SeqCst`; if set, add 1 to the bell word (release) and `futex_wake` the bit set.
//!
//! The race to avoid is the lost wake-up: the sleeper checks the condition, the waker makes it
//! true and sees no sleeper, the sleeper sleeps for ever. Both sides do "store, then load" with
//! `SeqCst` on the opposite pair of locations (sleeper: flag then condition; waker: condition
//! then flag), so in the single total order of `SeqCst` operations one of the two loads comes
//! after the other side's store: either the sleeper sees the condition and does not sleep, or
//! the waker sees the flag and rings. When it rings, the sleeper's read of `v` (step 1) happens
//! before the waker's increment (the waker's `SeqCst` load of the flag synchronises with the
//! sleeper's `SeqCst` store, which follows step 1), so the kernel, which compares the word
//! atomically with queueing the sleeper, either finds it changed and returns at once or queues
//! the sleeper before the wake. Wakes for a bit shared by ranks `r` and `r + 32` wake both:
//! harmless, every sleeper re-checks its condition in a loop.

use crate::shared::Shared;
use crate::sync::atomic::Ordering;
use crate::sync::futex::{futex, futex_word, Futex, ALL_BITS};

/// The futex bit of `rank`.
fn bit(rank: u32) -> u32 {
    1 << (rank % 32)
}

/// The sleeper's side: sleeps on the bell unless `ready()` holds or the world is aborted, at
/// most `timeout` when given (the watchdog looks around periodically). May return spuriously;
/// the caller loops.
pub(crate) fn sleep_unless(
    shared: &Shared,
    me: u32,
    ready: impl FnOnce() -> bool,
    timeout: Option<std::time::Duration>,
) {
    let bell = &shared.bell;
    // SYNC(wait#the-bell): sleeper step 1: read the bell word before announcing the sleep.
    let v = bell.word.load(Ordering::Acquire);
    let flag = &shared.rank(me).sleeping;
    bell.sleepers.fetch_add(1, Ordering::SeqCst);
    // SYNC(wait#the-bell): pairs with the SeqCst load in `wake_rank` (see the module
    // documentation).
    flag.store(1, Ordering::SeqCst);
    if !ready() && shared.aborted_by().is_none() {
        futex().wait(futex_word(&bell.word), v, bit(me), timeout);
    }
    flag.store(0, Ordering::Relaxed);
    bell.sleepers.fetch_sub(1, Ordering::Relaxed);
}

/// The waker's side for one rank: call right after a `SeqCst` write that may satisfy what
/// `rank` waits for.
#[inline]
pub(crate) fn wake_rank(shared: &Shared, rank: u32) {
    // SYNC(wait#the-bell): pairs with the SeqCst store in `sleep_unless`.
    if shared.rank(rank).sleeping.load(Ordering::SeqCst) != 0 {
        ring(shared, bit(rank));
    }
}

/// The waker's side for every rank (barrier release): wakes all sleepers, if any.
pub(crate) fn wake_all(shared: &Shared) {
    // SYNC(wait#the-bell): pairs with the SeqCst increment in `sleep_unless`.
    if shared.bell.sleepers.load(Ordering::SeqCst) != 0 {
        ring(shared, ALL_BITS);
    }
}

/// Wakes every sleeper whatever the counts say (used when aborting).
pub(crate) fn wake_all_unconditionally(shared: &Shared) {
    ring(shared, ALL_BITS);
}

#[cold]
fn ring(shared: &Shared, bits: u32) {
    // SYNC(wait#the-bell): waker: the bump that makes a sleeper's futex compare fail; after the
    // SeqCst load of the flag or count.
    shared.bell.word.fetch_add(1, Ordering::Release);
    futex().wake(futex_word(&shared.bell.word), bits, i32::MAX);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Params;
    use crate::shared::OwnedShared;
    use std::sync::atomic::AtomicU32;
    use std::sync::Arc;

    #[test]
    fn no_wake_is_lost() {
        // One rank sleeps until a flag is set; the other sets it and wakes it, many times over,
        // with no spinning on either side.
        let owned = Arc::new(OwnedShared::new(2, Params::from_env().unwrap()));
        let flag = Arc::new(AtomicU32::new(0));
        const ROUNDS: u32 = 2000;
        let sleeper = {
            let (owned, flag) = (owned.clone(), flag.clone());
            std::thread::spawn(move || {
                for round in 1..=ROUNDS {
                    while flag.load(Ordering::SeqCst) < round {
                        sleep_unless(
                            owned.get(),
                            1,
                            || flag.load(Ordering::SeqCst) >= round,
                            None,
                        );
                    }
                }
            })
        };
        for round in 1..=ROUNDS {
            flag.store(round, Ordering::SeqCst);
            wake_rank(owned.get(), 1);
            if round % 64 == 0 {
                std::thread::yield_now();
            }
        }
        sleeper.join().unwrap();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::config::Params;
    use crate::shared::OwnedShared;
    use crate::sync::atomic::AtomicU32;
    use loom::sync::Arc;

    fn world(n: u32) -> Arc<OwnedShared> {
        let params = Params {
            eager_max: 8,
            ring_slots: 2,
            par_copy_min: 1 << 20,
            chunk: 1 << 16,
        };
        Arc::new(OwnedShared::new(n, params))
    }

    /// One sleeper (rank 1) waits for a flag with `sleep_unless`; a waker sets the flag and
    /// calls `wake`. In no interleaving may the sleeper sleep for ever (the futex model has no
    /// spurious wake-ups, so a lost wake-up shows as a deadlock).
    fn sleeper_is_woken_by(wake: fn(&Shared)) {
        loom::model(move || {
            let owned = world(2);
            let flag = Arc::new(AtomicU32::new(0));
            let sleeper = {
                let (owned, flag) = (owned.clone(), flag.clone());
                loom::thread::spawn(move || {
                    while flag.load(Ordering::SeqCst) == 0 {
                        sleep_unless(owned.get(), 1, || flag.load(Ordering::SeqCst) != 0, None);
                    }
                })
            };
            flag.store(1, Ordering::SeqCst);
            wake(owned.get());
            sleeper.join().unwrap();
        });
    }

    /// The waker rings the sleeper's own bit (`wake_rank`, after a message or a freed slot).
    #[test]
    fn loom_bell_loses_no_wake_up() {
        sleeper_is_woken_by(|shared| wake_rank(shared, 1));
    }

    /// The same through the sleeper count (the barrier's release): `wake_all`.
    #[test]
    fn loom_bell_wake_all_reaches_the_sleeper() {
        sleeper_is_woken_by(wake_all);
    }

    /// The handshake as a receiver uses it: rank 1 sleeps until a message from rank 0 is in
    /// its ring (which does not exist yet when it first looks); rank 0 creates the ring,
    /// publishes the message (the slot's `SeqCst` swap) and wakes rank 1 if it sleeps.
    #[test]
    fn loom_bell_wakes_the_receiver_of_an_eager_message() {
        use crate::eager::{Slot, EAGER};
        loom::model(|| {
            let owned = world(2);
            let receiver = {
                let owned = owned.clone();
                loom::thread::spawn(move || {
                    let s = owned.get();
                    let arrived = || {
                        s.ring(0, 1).is_some_and(|ring| {
                            // SAFETY: a ring of this world, made for its parameters.
                            unsafe { Slot::at(ring, 0, &s.params) }.is_full_seqcst()
                        })
                    };
                    while !arrived() {
                        sleep_unless(s, 1, arrived, None);
                    }
                })
            };
            let s = owned.get();
            let ring = s.ring_or_create(0, 1);
            // SAFETY: the ring's only producer, on its first (empty) slot; 1 <= eager_max.
            unsafe { Slot::at(ring, 0, &s.params).publish(EAGER, 0, 3, 1, &[7]) };
            wake_rank(s, 1);
            receiver.join().unwrap();
        });
    }

    /// Both ranks fill the ring to the other and wait for a slot, each going straight to the
    /// bell as the sleeping policy does (drain, then sleep unless the slot is free or a
    /// message has come): the drain's release and `wake_rank` must reach a peer asleep
    /// waiting for that slot, in every interleaving, while that peer's own drain does the same
    /// for this rank (see the `waiter` module's "Progress while spinning").
    #[test]
    fn loom_bell_both_ways_full_rings_drain_and_wake() {
        use crate::eager::{Slot, EAGER};
        /// One rank: three messages to `peer` through a ring of two slots, then the peer's
        /// three.
        fn rank(s: &Shared, me: u32) {
            let peer = 1 - me;
            let params = s.params;
            let out = s.ring_or_create(me, peer);
            let next = std::cell::Cell::new(0u32);
            let head = || {
                s.ring(peer, me).map(|r| {
                    // SAFETY: the peer's ring, made for this world's parameters.
                    unsafe { Slot::at(r, next.get(), &params) }
                })
            };
            let incoming = || head().is_some_and(|slot| slot.is_full_seqcst());
            let drain = || {
                while let Some(env) = head().and_then(|slot| slot.peek()) {
                    assert_eq!((env.kind, env.tag), (EAGER, next.get() as i32));
                    head().unwrap().release();
                    wake_rank(s, peer);
                    next.set(next.get() + 1);
                }
            };
            for i in 0..3u32 {
                // SAFETY: our ring to the peer, made for this world's parameters.
                let slot = unsafe { Slot::at(out, i, &params) };
                while slot.is_full() {
                    drain();
                    sleep_unless(s, me, || !slot.is_full_seqcst() || incoming(), None);
                }
                // SAFETY: the ring's only producer, on a slot it saw empty; 1 <= eager_max.
                unsafe { slot.publish(EAGER, 0, i as i32, 1, &[i as u8]) };
                wake_rank(s, peer);
            }
            while next.get() < 3 {
                drain();
                if next.get() < 3 {
                    sleep_unless(s, me, incoming, None);
                }
            }
        }
        // Every interleaving with up to three preemptions (unbounded, it runs for more than ten
        // minutes).
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(3);
        model.check(|| {
            let owned = world(2);
            let one = {
                let owned = owned.clone();
                loom::thread::spawn(move || rank(owned.get(), 1))
            };
            rank(owned.get(), 0);
            one.join().unwrap();
        });
    }
}
