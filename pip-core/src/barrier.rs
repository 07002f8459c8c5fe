//! A barrier that the root and tasks share through an exported address.
//!
//! # Protocol
//!
//! The barrier lives in ordinary memory of whoever created it (usually the root, which exports
//! its address). Because root and tasks may be different builds, its layout is `#[repr(C)]`
//! and the protocol below is part of the root/task ABI.
//!
//! Words: `arrived` (how many parties reached the current round), `generation` (the round
//! number, the word sleepers wait on) and `sleepers` (how many parties are, or are about to be,
//! asleep on `generation`).
//!
//! 1. **Arrive.** A party reads `generation` (G), then increments `arrived` (AcqRel).
//! 2. **Last arrival.** The party that brings `arrived` to `n` resets `arrived` to 0 (Relaxed:
//!    nobody can arrive for the next round before seeing step 3), then increments
//!    `generation` (SeqCst: publishes every party's writes before the barrier, since they were
//!    released by their `arrived` increments and acquired by ours), then reads `sleepers`
//!    (SeqCst) and, only if it is non-zero, wakes all sleepers on `generation`.
//! 3. **Waiting.** Every other party polls `generation` (Acquire) until it is no longer G,
//!    stepping through the [wait policy](crate::sync::backoff) (spin, yield; once past
//!    spinning it publishes the wait on the job's wait board), and at the sleep step: it
//!    increments `sleepers` (SeqCst), re-checks `generation` (SeqCst) and calls
//!    `futex_wait(generation, G)`, which sleeps only if the value is still G; on waking it
//!    decrements `sleepers` and loops.
//!
//! The race to avoid is the lost wake-up: "a waiter decides to sleep; the last party bumps
//! `generation`, sees no sleepers and skips the wake; the waiter sleeps forever". Both sides
//! use SeqCst for their write-then-read pair (waiter: `sleepers` then `generation`; last
//! party: `generation` then `sleepers`), so at least one sees the other's write: either the
//! last party sees the sleeper and wakes it, or the waiter sees the new generation and does not
//! sleep. `futex_wait` itself re-checks the value atomically in the kernel, which closes the gap
//! between the re-check and the sleep.

use crate::sync::backoff::{Backoff, Step, WaitPolicy};
use crate::sys::{futex_wait, futex_wake};
use crate::waits::{publish, Published, WaitInfo, WaitKind};
use std::sync::atomic::{AtomicU32, Ordering};

/// `"PIPB"`: marks an initialised barrier, so that a wrong pointer is caught.
const BARRIER_MAGIC: u32 = u32::from_le_bytes(*b"PIPB");

/// A generation-counting barrier for `n` parties (root and/or tasks), shared by address.
///
/// ```
/// use pip_core::Barrier;
/// use std::sync::Arc;
///
/// let b = Arc::new(Barrier::new(2));
/// let b2 = b.clone();
/// let t = std::thread::spawn(move || b2.wait());
/// b.wait();
/// t.join().unwrap();
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct Barrier {
    magic: u32,
    parties: u32,
    arrived: AtomicU32,
    generation: AtomicU32,
    sleepers: AtomicU32,
}

impl Barrier {
    /// A barrier for `parties` parties.
    ///
    /// # Panics
    ///
    /// If `parties` is 0.
    pub const fn new(parties: u32) -> Barrier {
        assert!(parties > 0, "a barrier needs at least one party");
        Barrier {
            magic: BARRIER_MAGIC,
            parties,
            arrived: AtomicU32::new(0),
            generation: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
        }
    }

    /// The number of parties.
    pub fn parties(&self) -> u32 {
        self.parties
    }

    /// Waits until all parties have called `wait` for this round. Returns true in exactly one
    /// party per round (the last to arrive), as `std::sync::BarrierWaitResult::is_leader` does.
    ///
    /// # Panics
    ///
    /// If `self` does not point to an initialised barrier (a wrong exported address).
    pub fn wait(&self) -> bool {
        assert_eq!(
            self.magic, BARRIER_MAGIC,
            "pip_core::Barrier::wait on memory that is not a barrier"
        );
        // SYNC(barrier#protocol): the round number; pairs with the last arrival's SeqCst increment (step 2 / step 3)
        let gen = self.generation.load(Ordering::Acquire);
        // SYNC(barrier#protocol): step 1/2: the AcqRel count releases this party's writes to the last arrival
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            // SYNC(barrier#protocol): step 1/2: the AcqRel count releases this party's writes to the last arrival
            self.arrived.store(0, Ordering::Relaxed);
            // SYNC(barrier#protocol): the round number; pairs with the last arrival's SeqCst increment (step 2 / step 3)
            self.generation.fetch_add(1, Ordering::SeqCst);
            // SYNC(barrier#protocol): step 3 against step 2: the SeqCst write-then-read pair that loses no wake-up
            if self.sleepers.load(Ordering::SeqCst) != 0 {
                futex_wake(&self.generation, i32::MAX);
            }
            return true;
        }
        let mut backoff = Backoff::new(WaitPolicy::for_parties(self.parties as usize));
        let mut published: Option<Published> = None;
        loop {
            // SYNC(barrier#protocol): the round number; pairs with the last arrival's SeqCst increment (step 2 / step 3)
            if self.generation.load(Ordering::Acquire) != gen {
                return false;
            }
            let step = backoff.snooze();
            if published.is_none() && backoff.is_past_spinning() {
                // Past the spinning phase: say so on the job's wait board (cleared on return).
                let mut w = WaitInfo::new(WaitKind::Barrier);
                w.parties = self.parties;
                w.object = self as *const Barrier as u64;
                published = Some(publish(&w));
            }
            if step == Step::Sleep {
                // SYNC(barrier#protocol): step 3 against step 2: the SeqCst write-then-read pair that loses no wake-up
                self.sleepers.fetch_add(1, Ordering::SeqCst);
                // SYNC(barrier#protocol): the round number; pairs with the last arrival's SeqCst increment (step 2 / step 3)
                if self.generation.load(Ordering::SeqCst) != gen {
                    // SYNC(barrier#protocol): step 3 against step 2: the SeqCst write-then-read pair that loses no wake-up
                    self.sleepers.fetch_sub(1, Ordering::Relaxed);
                    return false;
                }
                futex_wait(&self.generation, gen);
                // SYNC(barrier#protocol): step 3 against step 2: the SeqCst write-then-read pair that loses no wake-up
                self.sleepers.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn one_party_never_waits() {
        let b = Barrier::new(1);
        for _ in 0..10 {
            assert!(b.wait());
        }
    }

    #[test]
    fn rounds_stay_in_lock_step_oversubscribed() {
        // 6 threads on a 2-core machine: exercises the yield and futex paths.
        const N: usize = 6;
        const ROUNDS: usize = 300;
        let b = Arc::new(Barrier::new(N as u32));
        let counter = Arc::new(AtomicUsize::new(0));
        let leaders = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..N)
            .map(|_| {
                let (b, c, l) = (b.clone(), counter.clone(), leaders.clone());
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        c.fetch_add(1, Ordering::SeqCst);
                        if b.wait() {
                            l.fetch_add(1, Ordering::SeqCst);
                        }
                        // Everyone has incremented for this round, nobody for the next.
                        assert_eq!(c.load(Ordering::SeqCst), (round + 1) * N);
                        b.wait();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(leaders.load(Ordering::SeqCst), ROUNDS);
    }
}
