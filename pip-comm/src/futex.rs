//! The futex calls that waiting needs: wait and wake on one word, filtered by a bit set.
//!
//! All ranks share one address space (threads of one program, or PiP tasks, which are threads
//! of the root's process), so process-private futexes (`FUTEX_PRIVATE_FLAG`) are enough: the
//! kernel keys them by address space and address, which every rank agrees on.
//!
//! The bit-set variants let all ranks sleep on **one** word yet be woken one at a time: a rank
//! sleeps with its own bit, and a wake names the bits it is for. Errors are not reported: a
//! wait returns early on EAGAIN (the word already changed) or EINTR, and callers re-check their
//! condition in a loop; a wake cannot fail on a valid address.

use std::sync::atomic::AtomicU32;

/// The bit set that matches every sleeper.
pub(crate) const ALL_BITS: u32 = u32::MAX;

/// Sleeps while `*word == expected`, until woken with a bit set that shares a bit with `bits`.
pub(crate) fn wait_bitset(word: &AtomicU32, expected: u32, bits: u32) {
    debug_assert!(bits != 0);
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; a null timeout means
    // "no timeout"; the second address is unused by FUTEX_WAIT_BITSET.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            bits,
        )
    };
    if r != 0 {
        let errno = std::io::Error::last_os_error().raw_os_error();
        debug_assert!(
            matches!(errno, Some(libc::EAGAIN | libc::EINTR)),
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
