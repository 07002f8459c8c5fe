//! The atomics and the futex that pip-comm's shared-memory protocols are written against:
//! std's atomics and pip-core's futex calls in a normal build, loom's atomics and a loom model
//! of a futex under `--cfg loom`, so that the loom models (`loom_*` tests) run the protocols'
//! own code.

/// The atomic types of the protocol words (loom's under `--cfg loom`).
#[cfg(not(loom))]
pub(crate) mod atomic {
    pub(crate) use std::sync::atomic::{
        fence, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
}

/// The atomic types of the protocol words, for loom: loom's, except that a `SeqCst` store or
/// read-modify-write is followed by a `SeqCst` fence. Loom treats `SeqCst` accesses as
/// acquire-release only (its documented limitation), which would make every store-then-load
/// handshake of pip-comm (the sleep/wake protocol of the bell) fail in a model; `SeqCst` fences
/// it does implement. The trailing fence is the usual way to build a `SeqCst` store on
/// hardware, and it orders exactly the store-then-load pairs the handshakes rely on: a model
/// still fails if either side's store is weaker than `SeqCst`.
#[cfg(loom)]
pub(crate) mod atomic {
    pub(crate) use loom::sync::atomic::fence;
    pub(crate) use std::sync::atomic::Ordering;

    fn sc_fence(order: Ordering) {
        if order == Ordering::SeqCst {
            fence(Ordering::SeqCst);
        }
    }

    macro_rules! atomic_int {
        ($name:ident, $t:ty) => {
            /// A loom atomic whose `SeqCst` operations are fenced (see the module docs).
            #[derive(Debug, Default)]
            pub(crate) struct $name(loom::sync::atomic::$name);

            #[allow(dead_code)]
            impl $name {
                pub(crate) fn new(v: $t) -> Self {
                    Self(loom::sync::atomic::$name::new(v))
                }
                pub(crate) fn load(&self, order: Ordering) -> $t {
                    self.0.load(order)
                }
                pub(crate) fn store(&self, v: $t, order: Ordering) {
                    self.0.store(v, order);
                    sc_fence(order);
                }
                pub(crate) fn swap(&self, v: $t, order: Ordering) -> $t {
                    let old = self.0.swap(v, order);
                    sc_fence(order);
                    old
                }
                pub(crate) fn fetch_add(&self, v: $t, order: Ordering) -> $t {
                    let old = self.0.fetch_add(v, order);
                    sc_fence(order);
                    old
                }
                pub(crate) fn fetch_sub(&self, v: $t, order: Ordering) -> $t {
                    let old = self.0.fetch_sub(v, order);
                    sc_fence(order);
                    old
                }
                pub(crate) fn fetch_or(&self, v: $t, order: Ordering) -> $t {
                    let old = self.0.fetch_or(v, order);
                    sc_fence(order);
                    old
                }
                pub(crate) fn compare_exchange(
                    &self,
                    current: $t,
                    new: $t,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$t, $t> {
                    let r = self.0.compare_exchange(current, new, success, failure);
                    sc_fence(success);
                    r
                }
                pub(crate) fn compare_exchange_weak(
                    &self,
                    current: $t,
                    new: $t,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$t, $t> {
                    self.compare_exchange(current, new, success, failure)
                }
            }
        };
    }

    atomic_int!(AtomicU32, u32);
    atomic_int!(AtomicU64, u64);
    atomic_int!(AtomicUsize, usize);
    atomic_int!(AtomicI32, i32);

    /// A loom atomic pointer whose `SeqCst` operations are fenced (see the module docs).
    #[derive(Debug)]
    pub(crate) struct AtomicPtr<T>(loom::sync::atomic::AtomicPtr<T>);

    impl<T> AtomicPtr<T> {
        pub(crate) fn new(p: *mut T) -> Self {
            Self(loom::sync::atomic::AtomicPtr::new(p))
        }
        pub(crate) fn load(&self, order: Ordering) -> *mut T {
            self.0.load(order)
        }
        pub(crate) fn store(&self, p: *mut T, order: Ordering) {
            self.0.store(p, order);
            sc_fence(order);
        }
    }
}

/// Futex wait and wake on a 32-bit word, with a bit set (see `pip_core::futex`).
#[cfg(not(loom))]
pub(crate) mod futex {
    pub(crate) use pip_core::futex::{wait_bitset, wake_bitset, ALL_BITS};
}

/// A model of a futex for loom: a waiter blocks (on a loom condition variable) until a wake
/// that comes after its check of the word. The check and the queueing happen under one lock,
/// which a wake takes too, so a wake that follows a change of the word is never missed, as
/// with the kernel's futex; the bit set is ignored (every wake wakes every waiter, which a
/// futex user must tolerate anyway). No spurious wake-ups: a lost wake-up shows as a deadlock.
#[cfg(loom)]
pub(crate) mod futex {
    use super::atomic::{AtomicU32, Ordering};
    use loom::sync::{Condvar, Mutex};
    use std::time::Duration;

    /// Every bit.
    pub(crate) const ALL_BITS: u32 = u32::MAX;

    struct Futex {
        /// Wakes so far.
        wakes: Mutex<u64>,
        woken: Condvar,
    }

    loom::lazy_static! {
        static ref FUTEX: Futex = Futex { wakes: Mutex::new(0), woken: Condvar::new() };
    }

    /// Sleeps unless `word` no longer holds `expected`; the timeout is not modelled.
    pub(crate) fn wait_bitset(word: &AtomicU32, expected: u32, _bits: u32, _t: Option<Duration>) {
        let mut wakes = FUTEX.wakes.lock().unwrap();
        if word.load(Ordering::SeqCst) != expected {
            return;
        }
        let seen = *wakes;
        while *wakes == seen {
            wakes = FUTEX.woken.wait(wakes).unwrap();
        }
    }

    /// Wakes every waiter.
    pub(crate) fn wake_bitset(_word: &AtomicU32, _bits: u32) {
        *FUTEX.wakes.lock().unwrap() += 1;
        FUTEX.woken.notify_all();
    }
}
