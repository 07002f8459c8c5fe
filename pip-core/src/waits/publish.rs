//! The writer's side: a waiting thread publishes its wait in its slot, and clears it.

use super::board::{Board, OWN_SLOT};
use super::layout::{slot_of, BoardHeader, Slot};
#[cfg(doc)]
use super::PublishedWait;
use super::{WaitInfo, NAME_BYTES};
use std::sync::atomic::{AtomicU64, Ordering};

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Writes a wait into `slot` (see the protocol). False if another thread was writing it.
pub(super) fn write_slot(slot: &Slot, tid: i32, w: Option<&WaitInfo>) -> bool {
    // SYNC(waits#sequence-lock): take the slot (`seq` from even to odd); `None` means
    // another thread of the task is writing it, and this wait is not published.
    let Some(write) = slot.seq.try_write() else {
        return false;
    };
    // SYNC(waits#sequence-lock): the fields, Relaxed, while `seq` is odd.
    match w {
        None => {
            if slot.tid.load(Ordering::Relaxed) == tid {
                slot.kind.store(0, Ordering::Relaxed);
            }
        }
        Some(w) => {
            slot.tid.store(tid, Ordering::Relaxed);
            slot.peer.store(w.peer, Ordering::Relaxed);
            slot.ctx.store(w.ctx, Ordering::Relaxed);
            slot.tag.store(w.tag, Ordering::Relaxed);
            slot.parties.store(w.parties, Ordering::Relaxed);
            slot.object.store(w.object, Ordering::Relaxed);
            slot.since_ns.store(now_ns(), Ordering::Relaxed);
            let mut words = [0u64; NAME_BYTES / 8];
            for (i, b) in w.name.bytes().take(NAME_BYTES).enumerate() {
                words[i / 8] |= (b as u64) << (8 * (i % 8));
            }
            for (d, v) in slot.name.iter().zip(words) {
                d.store(v, Ordering::Relaxed);
            }
            slot.kind.store(w.kind as u32, Ordering::Relaxed);
        }
    }
    // SYNC(waits#sequence-lock): release the slot, even again (the guard's Release store: a
    // reader that sees this `seq` sees every field store above).
    drop(write);
    true
}

/// A published wait; dropping it clears the slot. See [`publish`].
#[derive(Debug)]
#[must_use = "the wait is cleared when this guard is dropped"]
pub struct Published {
    /// The slot: on a board that is never unmapped, or on `keep`.
    slot: Option<&'static Slot>,
    tid: i32,
    /// The [`OwnBoard`](super::OwnBoard) the slot is on, kept mapped while the wait is published.
    keep: Option<std::sync::Arc<Board>>,
}

impl Published {
    /// A guard that published nothing.
    pub const fn nothing() -> Published {
        Published {
            slot: None,
            tid: 0,
            keep: None,
        }
    }

    /// True if the wait is on a board.
    pub fn is_published(&self) -> bool {
        self.slot.is_some()
    }

    /// Counts a step forward made inside the wait (messages taken in, data copied), so that a
    /// tool does not mistake a wait that works for one that is stuck.
    #[inline]
    pub fn progress(&self) {
        if let Some(slot) = self.slot {
            bump(&slot.progress);
        }
    }
}

/// Adds 1 to a counter that only its own task writes (a plain load and store: a rare lost
/// update from two threads of one task still moves it).
#[inline]
fn bump(c: &AtomicU64) {
    // SYNC(waits#progress): Relaxed; only the counter's own task writes it.
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

impl Drop for Published {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            bump(&slot.progress);
            // Best effort: if another thread of the task is writing the slot, it overwrites
            // this wait anyway.
            for _ in 0..64 {
                if write_slot(slot, self.tid, None) {
                    break;
                }
                std::hint::spin_loop();
            }
        }
    }
}

/// Publishes that the calling thread (a task's or the root's) starts a blocking wait; the
/// wait is cleared when the returned guard is dropped.
///
/// Call it when a wait stops spinning (it costs a few dozen stores), never on a fast path.
/// Outside a PiP job, or when the root has no board, it publishes nothing.
///
/// ```
/// use pip_core::waits::{publish, WaitInfo, WaitKind};
/// // Not in a job: nothing is published, and nothing fails.
/// let g = publish(&WaitInfo::new(WaitKind::Barrier));
/// assert!(!g.is_published());
/// ```
pub fn publish(w: &WaitInfo) -> Published {
    if let Some((board, index)) = OWN_SLOT.with(|c| c.borrow().clone()) {
        // SAFETY: the board is live (we hold it) and stays mapped as long as the guard,
        // which keeps a reference to it.
        let mut p = unsafe { publish_in(board.as_ptr(), index, w) };
        p.keep = Some(board);
        return p;
    }
    let Some((header, index)) = crate::task::wait_board() else {
        return Published::nothing();
    };
    // SAFETY: the ABI hands out null or the root's live board, which is never unmapped.
    unsafe { publish_in(header, index, w) }
}

/// [`publish`] for a caller that serves tasks from outside their copy of pip-core (the C
/// API's `libpip.so`, one copy for every C task): the wait of `pipid` (or the root, for
/// [`PIPID_ROOT`](crate::abi::PIPID_ROOT)) in the job of `root`.
///
/// # Safety
///
/// `root` is a live root's ABI block, as pip-core's bridge hands it out (its board pointer is
/// null or the live board).
pub unsafe fn publish_for(
    root: &crate::abi::RootAbi,
    pipid: std::ffi::c_int,
    w: &WaitInfo,
) -> Published {
    let index = if pipid == crate::abi::PIPID_ROOT {
        root.ntasks as usize
    } else if pipid >= 0 && (pipid as u32) < root.ntasks {
        pipid as usize
    } else {
        return Published::nothing();
    };
    // SYNC(waits#why-and-where): the root stored the board's address before any task ran
    // (Acquire pairs with that publication through the ABI block).
    // SAFETY: per the contract, the board pointer is null or the live board.
    unsafe { publish_in(root.wait_board.load(Ordering::Acquire), index, w) }
}

/// [`publish`] into slot `index` of the board at `header` (root code working for a task).
///
/// # Safety
///
/// `header` is null or points to a live board that is never unmapped.
pub(crate) unsafe fn publish_in(
    header: *const BoardHeader,
    index: usize,
    w: &WaitInfo,
) -> Published {
    // SAFETY: per the contract.
    let Some(slot) = (unsafe { slot_of(header, index) }) else {
        return Published::nothing();
    };
    let tid = gettid();
    if write_slot(slot, tid, Some(w)) {
        Published {
            slot: Some(slot),
            tid,
            keep: None,
        }
    } else {
        Published::nothing()
    }
}

/// The `CLOCK_MONOTONIC` time in nanoseconds (to compare with [`PublishedWait::since_ns`]).
pub fn monotonic_ns() -> u64 {
    now_ns()
}
