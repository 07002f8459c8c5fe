//! The atomics and the futex that pip-comm's shared-memory protocols are written against:
//! pip-core's synchronisation layer (`pip_core::sync`), with two changes under `--cfg loom` so
//! that the loom models (`loom_*` tests) check pip-comm's sleep/wake handshakes on their own
//! code: `SeqCst` stores are fenced (see [`atomic`]), and the futex is a model that blocks (see
//! [`futex`]).

/// The atomic types of the protocol words (loom's under `--cfg loom`).
#[cfg(not(loom))]
pub(crate) mod atomic {
    pub(crate) use pip_core::sync::atomic::{
        AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub(crate) use std::sync::atomic::AtomicPtr;
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
    use pip_core::sync::atomic::fence;
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
            pub(crate) struct $name(pub(crate) loom::sync::atomic::$name);

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

/// Futex wait and wake on a 32-bit word, through pip-core's [`Futex`] trait: the system calls
/// ([`pip_core::sync::futex::Linux`]) in a build, a blocking model under loom.
pub(crate) mod futex {
    use super::atomic::AtomicU32;
    pub(crate) use pip_core::sync::futex::{Futex, ALL_BITS};

    /// The futex the protocols call.
    #[cfg(not(loom))]
    pub(crate) const FUTEX: pip_core::sync::futex::Linux = pip_core::sync::futex::Linux;
    /// The futex the protocols call: the blocking model.
    #[cfg(loom)]
    pub(crate) const FUTEX: model::Blocking = model::Blocking;

    /// The word as the [`Futex`] trait takes it (the same atomic; under loom, the loom atomic
    /// inside the fenced wrapper).
    #[inline]
    pub(crate) fn futex_word(word: &AtomicU32) -> &pip_core::sync::atomic::AtomicU32 {
        #[cfg(not(loom))]
        return word;
        #[cfg(loom)]
        return &word.0;
    }

    /// A model of a futex for loom: a waiter blocks (on a loom condition variable) until a
    /// wake that comes after its check of the word. The check and the queueing happen under
    /// one lock, which a wake takes too, so a wake that follows a change of the word is never
    /// missed, as with the kernel's futex; the bit set is ignored (every wake wakes every
    /// waiter, which a futex user must tolerate anyway). No spurious wake-ups, so a lost
    /// wake-up shows as a deadlock (pip-core's `Model`, which polls the word, would hide it
    /// behind the waiter's own polling).
    #[cfg(loom)]
    pub(crate) mod model {
        use loom::sync::{Condvar, Mutex};
        use pip_core::sync::atomic::{AtomicU32, Ordering};
        use pip_core::sync::futex::Futex;
        use std::time::Duration;

        struct State {
            /// Wakes so far.
            wakes: Mutex<u64>,
            woken: Condvar,
        }

        loom::lazy_static! {
            static ref STATE: State = State { wakes: Mutex::new(0), woken: Condvar::new() };
        }

        /// The blocking futex model.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct Blocking;

        impl Futex for Blocking {
            /// Sleeps unless `word` no longer holds `expected`; the timeout is not modelled.
            fn wait(&self, word: &AtomicU32, expected: u32, _bits: u32, _t: Option<Duration>) {
                let mut wakes = STATE.wakes.lock().unwrap();
                if word.load(Ordering::SeqCst) != expected {
                    return;
                }
                let seen = *wakes;
                while *wakes == seen {
                    wakes = STATE.woken.wait(wakes).unwrap();
                }
            }

            /// Wakes every waiter.
            fn wake(&self, _word: &AtomicU32, _bits: u32, _n: i32) {
                *STATE.wakes.lock().unwrap() += 1;
                STATE.woken.notify_all();
            }
        }
    }
}
