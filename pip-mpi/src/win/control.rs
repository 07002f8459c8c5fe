//! The control block a window's ranks share: per target a lock word, an accumulate lock, a
//! region lock and list, a complete counter, and the post counters of every (target, origin)
//! pair. The protocols are in the parent module's docs; each atomic names its section.
//!
//! The atomics come from [`pip_core::sync::atomic`], so that under `--cfg loom` the `loom_*`
//! models (in `tests.rs`) check this code:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p pip-mpi --lib --release loom_
//! ```

use pip_core::sync::atomic::{fence, AtomicU32, Ordering};
use pip_core::sync::backoff::{Backoff, Step, WaitPolicy};
use std::cell::UnsafeCell;

/// The lock word's bit for an exclusive holder (see [Lock word](super#lock-word)).
pub const WRITER: u32 = 1 << 31;

/// One target's slot.
pub struct Slot {
    /// The [lock word](super#lock-word).
    lock: AtomicU32,
    /// The accumulate lock ([Spin locks](super#spin-locks)).
    acc: AtomicU32,
    /// The region lock ([Spin locks](super#spin-locks)), guarding `regions`.
    region_lock: AtomicU32,
    /// A dynamic window's attached regions (address, length); changed by the owner only.
    regions: UnsafeCell<Vec<(usize, usize)>>,
    /// `completed[t]` ([Post, start, complete, wait](super#post-start-complete-wait)).
    completed: AtomicU32,
}

/// The shared control block of one window (allocated and freed by the window's rank 0).
pub struct Control {
    slots: Vec<Slot>,
    /// `posted[t * n + o]`.
    posted: Vec<AtomicU32>,
    n: usize,
}

// SAFETY: the block is shared by the window's ranks; its only non-atomic part, each slot's
// region list, is read and written only under that slot's region lock.
unsafe impl Sync for Control {}

/// Waits until `ready` is true: spin, yield, then short sleeps (see
/// [backoff](pip_core::sync::backoff)); the condition is another rank's store, which needs no
/// wake-up, only time.
pub fn wait_until(parties: usize, mut ready: impl FnMut() -> bool) {
    // Under loom every step yields to the model's scheduler (a sleep would not).
    let policy = if cfg!(loom) {
        WaitPolicy::new(0, u32::MAX)
    } else {
        WaitPolicy::for_parties(parties)
    };
    let mut backoff = Backoff::new(policy);
    while !ready() {
        if backoff.snooze() == Step::Sleep {
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
    }
}

/// Takes a 0/1 spin lock ([Spin locks](super#spin-locks)).
fn spin_lock(word: &AtomicU32, parties: usize) {
    wait_until(parties, || {
        // SYNC(win#spin-locks): Acquire: the previous holder's stores happen before ours.
        word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    });
}

/// Releases a 0/1 spin lock.
fn spin_unlock(word: &AtomicU32) {
    // SYNC(win#spin-locks): Release: our stores happen before the next holder's.
    word.store(0, Ordering::Release);
}

impl Slot {
    fn new() -> Slot {
        Slot {
            lock: AtomicU32::new(0),
            acc: AtomicU32::new(0),
            region_lock: AtomicU32::new(0),
            regions: UnsafeCell::new(Vec::new()),
            completed: AtomicU32::new(0),
        }
    }
}

impl Control {
    /// A block for `n` ranks, everything free and zero.
    pub fn new(n: usize) -> Control {
        Control {
            slots: (0..n).map(|_| Slot::new()).collect(),
            posted: (0..n * n).map(|_| AtomicU32::new(0)).collect(),
            n,
        }
    }

    /// Takes `target`'s lock word, exclusively or shared ([Lock word](super#lock-word), steps 1-2).
    pub fn lock(&self, target: usize, exclusive: bool) {
        let word = &self.slots[target].lock;
        wait_until(self.n, || {
            if exclusive {
                // SYNC(win#lock-word): step 1, Acquire: every earlier holder's stores are ours.
                word.compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            } else {
                // SYNC(win#lock-word): step 2; the load only picks the value to replace.
                let v = word.load(Ordering::Relaxed);
                // SYNC(win#lock-word): step 2, Acquire as in step 1.
                v & WRITER == 0
                    && word
                        .compare_exchange(v, v + 1, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
            }
        });
    }

    /// Releases `target`'s lock word ([Lock word](super#lock-word), steps 3-4).
    pub fn unlock(&self, target: usize, exclusive: bool) {
        let word = &self.slots[target].lock;
        if exclusive {
            // SYNC(win#lock-word): step 3, Release: our puts happen before the next holder's.
            word.store(0, Ordering::Release);
        } else {
            // SYNC(win#lock-word): step 4, Release, an RMW that continues the release sequence.
            let was = word.fetch_sub(1, Ordering::Release);
            debug_assert!(
                was & !WRITER > 0 && was & WRITER == 0,
                "shared unlock of {was:#x}"
            );
        }
    }

    /// Runs `f` holding `target`'s accumulate lock ([Spin locks](super#spin-locks)).
    pub fn with_acc_lock<R>(&self, target: usize, f: impl FnOnce() -> R) -> R {
        let word = &self.slots[target].acc;
        spin_lock(word, self.n);
        let r = f();
        spin_unlock(word);
        r
    }

    /// Runs `f` on `target`'s region list, holding its region lock.
    pub fn with_regions<R>(
        &self,
        target: usize,
        f: impl FnOnce(&mut Vec<(usize, usize)>) -> R,
    ) -> R {
        let slot = &self.slots[target];
        spin_lock(&slot.region_lock, self.n);
        // SAFETY: the region lock is held, so no one else reads or writes the list; only its
        // owner (rank `target`) calls `f`s that grow or shrink it, with its own allocator.
        let r = f(unsafe { &mut *slot.regions.get() });
        spin_unlock(&slot.region_lock);
        r
    }

    /// `MPI_Win_post` on `target` to `origins` ([PSCW](super#post-start-complete-wait), step 1).
    pub fn post(&self, target: usize, origins: &[usize]) {
        for &o in origins {
            // SYNC(win#post-start-complete-wait): step 1, Release: publishes the target's stores.
            self.posted[target * self.n + o].fetch_add(1, Ordering::Release);
        }
    }

    /// `MPI_Win_start` on `origin` towards `targets` (step 2): waits for each target's post.
    pub fn start(&self, origin: usize, targets: &[usize]) {
        for &t in targets {
            let counter = &self.posted[t * self.n + origin];
            // SYNC(win#post-start-complete-wait): step 2, Acquire: the post happens before us.
            wait_until(self.n, || counter.load(Ordering::Acquire) > 0);
            // SYNC(win#post-start-complete-wait): step 2, only this origin takes from the counter.
            counter.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// `MPI_Win_complete` on an origin towards `targets` (step 3).
    pub fn complete(&self, targets: &[usize]) {
        for &t in targets {
            // SYNC(win#post-start-complete-wait): step 3, Release: the origin's puts are published.
            self.slots[t].completed.fetch_add(1, Ordering::Release);
        }
    }

    /// One check of `MPI_Win_wait`'s condition on `target` for `k` origins (step 4): true (and
    /// the count taken) once all `k` completed.
    pub fn test_completed(&self, target: usize, k: u32) -> bool {
        let word = &self.slots[target].completed;
        // SYNC(win#post-start-complete-wait): step 4, Acquire: synchronises with all k increments.
        if word.load(Ordering::Acquire) < k {
            return false;
        }
        // SYNC(win#post-start-complete-wait): step 4, only the target takes from its counter.
        word.fetch_sub(k, Ordering::Acquire);
        true
    }

    /// `MPI_Win_wait` on `target` for `k` origins (step 4).
    pub fn wait_completed(&self, target: usize, k: u32) {
        wait_until(self.n, || self.test_completed(target, k));
    }
}

/// A full memory fence ([Memory model](super#memory-model): flush, sync, and both sides of a
/// fence's barrier).
pub fn full_fence() {
    // SYNC(win#fence): SeqCst on both sides of the barrier, and for flush and sync.
    fence(Ordering::SeqCst);
}
