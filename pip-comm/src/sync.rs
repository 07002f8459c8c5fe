//! The atomics and the futex that pip-comm's shared-memory protocols are written against:
//! pip-core's synchronisation layer (`pip_core::sync`), with two changes under `--cfg loom` so
//! that the loom models (`loom_*` tests) check pip-comm's sleep/wake handshakes on their own
//! code: `SeqCst` stores are fenced (see [`atomic`]), and the futex is pip-core's blocking
//! model (see [`futex`]).

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
        pub(crate) fn compare_exchange(
            &self,
            current: *mut T,
            new: *mut T,
            success: Ordering,
            failure: Ordering,
        ) -> Result<*mut T, *mut T> {
            let r = self.0.compare_exchange(current, new, success, failure);
            sc_fence(success);
            r
        }
    }

    impl<T> Default for AtomicPtr<T> {
        fn default() -> Self {
            Self::new(std::ptr::null_mut())
        }
    }
}

/// Futex wait and wake on a 32-bit word, through pip-core's
/// [`Futex`](pip_core::sync::futex::Futex) trait: the system calls
/// ([`pip_core::sync::futex::Linux`]) in a build, pip-core's blocking model
/// (`pip_core::sync::futex::Model`, no spurious wake-ups, so a lost wake-up is a loom deadlock)
/// under loom.
pub(crate) mod futex {
    use super::atomic::AtomicU32;
    pub(crate) use pip_core::sync::futex::{Futex, ALL_BITS};

    /// The futex the protocols call.
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn futex() -> &'static impl Futex {
        &pip_core::sync::futex::Linux
    }

    /// The futex the protocols call: one model per loom execution.
    #[cfg(loom)]
    pub(crate) fn futex() -> &'static impl Futex {
        loom::lazy_static! {
            static ref MODEL: pip_core::sync::futex::Model = pip_core::sync::futex::Model::new();
        }
        &*MODEL
    }

    /// The word as the [`Futex`] trait takes it (the same atomic; under loom, the loom atomic
    /// inside the fenced wrapper).
    #[inline]
    pub(crate) fn futex_word(word: &AtomicU32) -> &pip_core::sync::atomic::AtomicU32 {
        #[cfg(not(loom))]
        return word;
        #[cfg(loom)]
        return &word.0;
    }
}
