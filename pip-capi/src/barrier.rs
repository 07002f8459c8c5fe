//! `pip_barrier_t` and `pip_yield`.
//!
//! The barrier is PiP v2.0's three words in user memory, `{count_init, count, gsense}`, so that
//! `PIP_BARRIER_INIT(n)` initialises it statically.
//!
//! # Protocol
//!
//! A sense-reversing counter:
//!
//! 1. A party reads the sense `s` (the low bit of `gsense`), then decrements `count`.
//! 2. The party that brings `count` to 0 resets it to `count_init`, then flips the sense by
//!    swapping `gsense` to `!s` (SeqCst, which publishes the reset and every party's writes
//!    before the barrier). If the old value had `SLEEPERS` set, it wakes every sleeper.
//! 3. The others poll the sense while it is `s`, stepping through pip-core's wait policy
//!    (`pip_core::sync::backoff`: spin, yield; once past spinning they publish the wait on the
//!    job's wait board), and at the sleep step they set `SLEEPERS` in `gsense` (SeqCst
//!    `fetch_or`) and `futex_wait(gsense, s | SLEEPERS)`.
//!
//! No wake-up is lost: the sleeper's `fetch_or` and the last party's swap are atomic operations
//! on the same word, so either the swap sees the flag (and wakes), or the `fetch_or` returns the
//! flipped sense (and the party does not sleep); `futex_wait` itself re-checks the word in the
//! kernel, which covers the gap between the `fetch_or` and the sleep.

use pip_core::sync::backoff::{Backoff, Step, WaitPolicy};
use pip_core::waits::Published;
use std::ffi::c_int;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

/// Set in `gsense` while parties sleep on it.
const SLEEPERS: i32 = 1 << 30;

/// `pip_barrier_t` (PiP v2.0).
#[repr(C)]
pub struct PipBarrier {
    /// The number of parties.
    pub count_init: c_int,
    /// Parties still to arrive in this round.
    pub count: AtomicU32,
    /// The sense of the current round (low bit) and the sleepers flag.
    pub gsense: AtomicI32,
}

/// Initialises a barrier for `n` parties. `EINVAL` for a `NULL` barrier or `n <= 0`.
///
/// # Safety
///
/// `barrp` is null or valid, and no party is waiting on it.
#[no_mangle]
pub unsafe extern "C" fn pip_barrier_init(barrp: *mut PipBarrier, n: c_int) -> c_int {
    if barrp.is_null() || n <= 0 {
        return libc::EINVAL;
    }
    // SAFETY: the caller passes a valid barrier that nobody uses yet.
    unsafe {
        (*barrp).count_init = n;
        // SYNC(barrier#protocol): step 1/2: the AcqRel decrement releases this party's writes to the last one; the reset is ordered by the SeqCst sense flip
        (*barrp).count.store(n as u32, Ordering::Relaxed);
        // SYNC(barrier#protocol): steps 2/3: the sense flip (SeqCst swap) against the sleepers' SeqCst fetch_or on the same word; Acquire loads see the flip
        (*barrp).gsense.store(0, Ordering::Release);
    }
    0
}

/// Waits until `count_init` parties have called it for this round. `EINVAL` for `NULL`.
///
/// # Safety
///
/// `barrp` is null or points to an initialised barrier.
#[no_mangle]
pub unsafe extern "C" fn pip_barrier_wait(barrp: *mut PipBarrier) -> c_int {
    // SAFETY: the caller passes null or a valid barrier.
    let Some(b) = (unsafe { barrp.as_ref() }) else {
        return libc::EINVAL;
    };
    // SYNC(barrier#protocol): steps 2/3: the sense flip (SeqCst swap) against the sleepers' SeqCst fetch_or on the same word; Acquire loads see the flip
    let sense = b.gsense.load(Ordering::Acquire) & 1;
    // SYNC(barrier#protocol): step 1/2: the AcqRel decrement releases this party's writes to the last one; the reset is ordered by the SeqCst sense flip
    if b.count.fetch_sub(1, Ordering::AcqRel) == 1 {
        // SYNC(barrier#protocol): step 1/2: the AcqRel decrement releases this party's writes to the last one; the reset is ordered by the SeqCst sense flip
        b.count.store(b.count_init as u32, Ordering::Relaxed);
        // SYNC(barrier#protocol): steps 2/3: the sense flip (SeqCst swap) against the sleepers' SeqCst fetch_or on the same word; Acquire loads see the flip
        let old = b.gsense.swap(sense ^ 1, Ordering::SeqCst);
        if old & SLEEPERS != 0 {
            futex_wake(&b.gsense);
        }
        return 0;
    }
    let flipped = |v: i32| v & 1 != sense;
    let mut backoff = Backoff::new(WaitPolicy::for_parties(b.count_init as usize));
    let mut published: Option<Published> = None;
    loop {
        // SYNC(barrier#protocol): steps 2/3: the sense flip (SeqCst swap) against the sleepers' SeqCst fetch_or on the same word; Acquire loads see the flip
        if flipped(b.gsense.load(Ordering::Acquire)) {
            return 0;
        }
        let step = backoff.snooze();
        if published.is_none() && backoff.is_past_spinning() {
            // Past the spinning phase: say so on the job's wait board (cleared on return).
            published = Some(publish_barrier_wait(barrp as u64, b.count_init as u32));
        }
        if step == Step::Sleep {
            // SYNC(barrier#protocol): steps 2/3: the sense flip (SeqCst swap) against the sleepers' SeqCst fetch_or on the same word; Acquire loads see the flip
            let v = b.gsense.fetch_or(SLEEPERS, Ordering::SeqCst);
            if flipped(v) {
                return 0;
            }
            futex_wait(&b.gsense, sense | SLEEPERS);
        }
    }
}

/// Ends the use of a barrier: `EBUSY` while a round is in progress, `EINVAL` for `NULL`.
///
/// # Safety
///
/// `barrp` is null or points to an initialised barrier.
#[no_mangle]
pub unsafe extern "C" fn pip_barrier_fin(barrp: *mut PipBarrier) -> c_int {
    // SAFETY: the caller passes null or a valid barrier.
    let Some(b) = (unsafe { barrp.as_ref() }) else {
        return libc::EINVAL;
    };
    // SYNC(barrier#protocol): step 1/2: the AcqRel decrement releases this party's writes to the last one; the reset is ordered by the SeqCst sense flip
    if b.count.load(Ordering::Acquire) != b.count_init as u32 {
        return libc::EBUSY;
    }
    0
}

/// Gives up the CPU (`sched_yield`). `EINVAL` for an unknown flag.
#[no_mangle]
pub extern "C" fn pip_yield(flag: c_int) -> c_int {
    use crate::consts::*;
    if !matches!(flag, PIP_YIELD_DEFAULT | PIP_YIELD_USER | PIP_YIELD_SYSTEM) {
        return libc::EINVAL;
    }
    // SAFETY: no preconditions.
    unsafe { libc::sched_yield() };
    0
}

/// The barrier's word as pip-core's futex calls take it.
fn as_u32(word: &AtomicI32) -> &AtomicU32 {
    // SAFETY: AtomicI32 and AtomicU32 have the same size, alignment and bit validity; the
    // futex calls only pass the word's address to the kernel.
    unsafe { &*(word as *const AtomicI32 as *const AtomicU32) }
}

fn futex_wait(word: &AtomicI32, expected: i32) {
    pip_core::futex::wait(as_u32(word), expected as u32);
}

fn futex_wake(word: &AtomicI32) {
    pip_core::futex::wake(as_u32(word), i32::MAX);
}

/// Publishes that the caller waits in the barrier at `addr` (see `pip_core::waits`).
fn publish_barrier_wait(addr: u64, parties: u32) -> pip_core::waits::Published {
    use pip_core::waits::{publish_for, Published, WaitInfo, WaitKind};
    let who = crate::whoami::who();
    let (Some(abi), Some(id)) = (who.abi(), who.core_id()) else {
        return Published::nothing();
    };
    let mut w = WaitInfo::new(WaitKind::Barrier);
    w.object = addr;
    w.parties = parties;
    // SAFETY: `who` hands out the live root's ABI block, from pip-core's bridge.
    unsafe { publish_for(abi, id, &w) }
}
