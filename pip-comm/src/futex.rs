//! The futex calls that waiting needs: wait and wake on one word, filtered by a bit set.
//!
//! All ranks share one address space (threads of one program, or PiP tasks, which are threads
//! of the root's process), so process-private futexes (`FUTEX_PRIVATE_FLAG`) are enough: the
//! kernel keys them by address space and address, which every rank agrees on.
//!
//! The bit-set variants let all ranks sleep on **one** word yet be woken one at a time: a rank
//! sleeps with its own bit, and a wake names the bits it is for. Errors are not reported: a
//! wait returns early on EAGAIN (the word already changed), EINTR or ETIMEDOUT (the watchdog's
//! periodic look), and callers re-check their condition in a loop; a wake cannot fail on a valid address.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// The bit set that matches every sleeper.
pub(crate) const ALL_BITS: u32 = u32::MAX;

/// Sleeps while `*word == expected`, until woken with a bit set that shares a bit with `bits`,
/// or until `timeout` has passed (when given).
pub(crate) fn wait_bitset(word: &AtomicU32, expected: u32, bits: u32, timeout: Option<Duration>) {
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
pub(crate) fn wake_bitset(word: &AtomicU32, bits: u32) {
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
