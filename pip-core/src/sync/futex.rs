//! The futex calls that pip-rs waits with: wait and wake on one 32-bit word, optionally
//! filtered by a bit set. The free functions are the system calls (also at
//! `pip_core::futex`); protocol code that loom should check calls them through the [`Futex`]
//! trait instead, whose [`Linux`] implementation is those calls and whose `Model`
//! implementation (under `--cfg loom`) is a loop that loom can explore.
//!
//! # Semantics
//!
//! All tasks share one address space (threads of the root's process, or process-mode tasks
//! cloned with `CLONE_VM`), so process-private futexes (`FUTEX_PRIVATE_FLAG`) are enough: the
//! kernel keys them by address space and address, which every task agrees on.
//!
//! A wait sleeps only while the word still holds the value the caller expects: the kernel
//! compares and sleeps as one step, which closes the gap between a waiter's last check and its
//! sleep. The bit-set variants let many waiters sleep on **one** word yet be woken one at a
//! time: a waiter sleeps with its own bit, and a wake names the bits it is for. Errors are not
//! reported: a wait returns early on EAGAIN (the word already changed), EINTR or ETIMEDOUT, and
//! callers re-check their condition in a loop; a wake cannot fail on a valid address. A caller
//! that may return spuriously is the one rule every protocol above keeps.
//!
//! ```
//! use pip_core::futex;
//! use std::sync::atomic::{AtomicU32, Ordering};
//!
//! let word = AtomicU32::new(1);
//! futex::wait(&word, 0); // returns at once: the word is not 0
//! word.store(2, Ordering::Release);
//! futex::wake(&word, i32::MAX);
//! ```

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `*word == expected` (or until a wake-up, a signal, or a spurious return).
/// Callers re-check their condition in a loop.
pub fn wait(word: &AtomicU32, expected: u32) {
    plain_wait(word, expected, None);
}

/// Like [`wait`] but gives up after `timeout`.
pub fn wait_timeout(word: &AtomicU32, expected: u32, timeout: Duration) {
    plain_wait(word, expected, Some(timeout));
}

fn plain_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; the timeout is null
    // ("no timeout") or a relative timespec that outlives the call. Errors (EAGAIN when the
    // value already changed, EINTR, ETIMEDOUT) are returns that the caller's loop handles.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            ts_ptr,
        );
    }
}

/// Wakes up to `n` threads sleeping on `word`. Async-signal-safe.
pub fn wake(word: &AtomicU32, n: i32) {
    // SAFETY: FUTEX_WAKE only reads the address to find the wait queue.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            n,
        );
    }
}

/// The bit set that matches every sleeper.
pub const ALL_BITS: u32 = u32::MAX;

/// Sleeps while `*word == expected`, until woken with a bit set that shares a bit with `bits`,
/// or until `timeout` has passed (when given).
pub fn wait_bitset(word: &AtomicU32, expected: u32, bits: u32, timeout: Option<Duration>) {
    debug_assert!(bits != 0);
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline.
    let deadline = timeout.map(|d| {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write; CLOCK_MONOTONIC always exists.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        let nanos = now.tv_nsec as u64 + u64::from(d.subsec_nanos());
        libc::timespec {
            tv_sec: now.tv_sec
                + d.as_secs() as libc::time_t
                + (nanos / 1_000_000_000) as libc::time_t,
            tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
        }
    });
    let deadline_ptr = deadline
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; the deadline is
    // null ("no timeout") or a valid timespec that outlives the call; the second address is
    // unused by FUTEX_WAIT_BITSET.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
            expected,
            deadline_ptr,
            std::ptr::null::<u32>(),
            bits,
        )
    };
    if r != 0 {
        let errno = std::io::Error::last_os_error().raw_os_error();
        debug_assert!(
            matches!(errno, Some(libc::EAGAIN | libc::EINTR | libc::ETIMEDOUT)),
            "futex wait: {errno:?}"
        );
    }
}

/// Wakes every thread sleeping on `word` whose bit set shares a bit with `bits`.
pub fn wake_bitset(word: &AtomicU32, bits: u32) {
    wake_bitset_n(word, bits, i32::MAX);
}

/// Wakes up to `n` threads sleeping on `word` whose bit set shares a bit with `bits`.
fn wake_bitset_n(word: &AtomicU32, bits: u32, n: i32) {
    // SAFETY: FUTEX_WAKE_BITSET only uses the address to find the wait queue.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE_BITSET | libc::FUTEX_PRIVATE_FLAG,
            n,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            bits,
        );
    }
}

/// Wait and wake on a word, as protocol code sees them: [`Linux`] in a build, `Model` under
/// loom. Both may return from `wait` spuriously; callers re-check their condition in a loop
/// (see [Semantics](self#semantics)).
///
/// ```
/// use pip_core::sync::atomic::{AtomicU32, Ordering};
/// use pip_core::sync::futex::{Futex, Linux, ALL_BITS};
///
/// fn wait_until_set<F: Futex>(f: &F, flag: &AtomicU32) {
///     while flag.load(Ordering::Acquire) == 0 {
///         f.wait(flag, 0, ALL_BITS, None);
///     }
/// }
/// let flag = AtomicU32::new(1);
/// wait_until_set(&Linux, &flag);
/// Linux.wake(&flag, ALL_BITS, i32::MAX);
/// ```
pub trait Futex {
    /// Sleeps while `*word == expected`, until a wake whose bits share one with `bits`, or
    /// until `timeout` (when given) has passed; or returns spuriously.
    fn wait(
        &self,
        word: &super::atomic::AtomicU32,
        expected: u32,
        bits: u32,
        timeout: Option<Duration>,
    );
    /// Wakes up to `n` sleepers on `word` whose bits share one with `bits`.
    fn wake(&self, word: &super::atomic::AtomicU32, bits: u32, n: i32);
}

/// The Linux futex system calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct Linux;

#[cfg(not(loom))]
impl Futex for Linux {
    fn wait(&self, word: &AtomicU32, expected: u32, bits: u32, timeout: Option<Duration>) {
        if bits == ALL_BITS {
            plain_wait(word, expected, timeout);
        } else {
            wait_bitset(word, expected, bits, timeout);
        }
    }

    fn wake(&self, word: &AtomicU32, bits: u32, n: i32) {
        if bits == ALL_BITS {
            wake(word, n);
        } else {
            wake_bitset_n(word, bits, n);
        }
    }
}

/// The futex as loom models it: a wait compares the word and, if it still holds `expected`,
/// blocks until a later wake on the same `Model` (any word, any bits: a wake for someone else
/// is a spurious wake-up, which callers tolerate); the compare and the block happen under one
/// lock that wakes also take, as the kernel's hash-bucket lock makes them one step. A timed
/// wait returns after the compare (loom has no clock: a timeout may always happen). A lost
/// wake-up leaves a waiter blocked for ever, which loom reports as a deadlock.
#[cfg(loom)]
#[derive(Debug, Default)]
pub struct Model {
    wakes: loom::sync::Mutex<u64>,
    woken: loom::sync::Condvar,
}

#[cfg(loom)]
impl Model {
    /// A futex model with no waiter.
    pub fn new() -> Model {
        Model::default()
    }
}

#[cfg(loom)]
impl Futex for Model {
    fn wait(
        &self,
        word: &super::atomic::AtomicU32,
        expected: u32,
        _bits: u32,
        timeout: Option<Duration>,
    ) {
        use super::atomic::Ordering;
        let mut wakes = self.wakes.lock().unwrap();
        // SYNC(sync::futex#semantics): the kernel's compare before sleeping.
        if word.load(Ordering::SeqCst) != expected || timeout.is_some() {
            return;
        }
        let seen = *wakes;
        while *wakes == seen {
            wakes = self.woken.wait(wakes).unwrap();
        }
    }

    fn wake(&self, _word: &super::atomic::AtomicU32, _bits: u32, _n: i32) {
        *self.wakes.lock().unwrap() += 1;
        self.woken.notify_all();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::atomic::{fence, AtomicU32, Ordering};
    use loom::sync::Arc;

    /// The sleep protocol of pip-core's barrier (a flag, a sleeper count, a store-then-load on
    /// each side that must not be reordered): the waiter never sleeps through the setter's
    /// wake. loom treats SeqCst loads and stores as AcqRel (too weak for a store-then-load
    /// pair, so it would report a false deadlock), so the model states the same ordering with
    /// SeqCst fences between the store and the load.
    #[test]
    fn loom_futex_sleepers_protocol_loses_no_wake_up() {
        loom::model(|| {
            let futex = Arc::new(Model::new());
            let flag = Arc::new(AtomicU32::new(0));
            let sleepers = Arc::new(AtomicU32::new(0));
            let setter = {
                let (futex, flag, sleepers) = (futex.clone(), flag.clone(), sleepers.clone());
                loom::thread::spawn(move || {
                    flag.store(1, Ordering::Release);
                    fence(Ordering::SeqCst);
                    if sleepers.load(Ordering::Relaxed) != 0 {
                        futex.wake(&flag, ALL_BITS, i32::MAX);
                    }
                })
            };
            while flag.load(Ordering::Acquire) == 0 {
                sleepers.fetch_add(1, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                if flag.load(Ordering::Relaxed) == 0 {
                    futex.wait(&flag, 0, ALL_BITS, None);
                }
                sleepers.fetch_sub(1, Ordering::Relaxed);
            }
            setter.join().unwrap();
        });
    }
}
