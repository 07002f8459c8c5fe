//! The futex calls that pip-rs waits with: wait and wake on one 32-bit word, optionally
//! filtered by a bit set. Public so that the layers above (pip-comm, the C API) share one
//! implementation.
//!
//! All tasks share one address space (threads of the root's process, or process-mode tasks
//! cloned with `CLONE_VM`), so process-private futexes (`FUTEX_PRIVATE_FLAG`) are enough: the
//! kernel keys them by address space and address, which every task agrees on.
//!
//! The bit-set variants let many waiters sleep on **one** word yet be woken one at a time: a
//! waiter sleeps with its own bit, and a wake names the bits it is for. Errors are not
//! reported: a wait returns early on EAGAIN (the word already changed), EINTR or ETIMEDOUT, and
//! callers re-check their condition in a loop; a wake cannot fail on a valid address.
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
    // SAFETY: FUTEX_WAKE_BITSET only uses the address to find the wait queue.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE_BITSET | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            bits,
        );
    }
}
