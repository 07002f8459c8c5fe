//! Eager rings: one single-producer/single-consumer ring of slots per (sender, receiver) pair.
//!
//! # Protocol
//!
//! A ring is `ring_slots` slots (a power of two), each a run of whole cache lines:
//!
//! ```text
//! slot: | state u32 | tag i32 | len u64 | data ... (eager_max bytes) |
//!       '-------------- first 64-byte line, 48 data bytes -----'
//! ```
//!
//! The first line holds the slot's state word, the envelope and the first 48 bytes of data, so
//! a small message crosses from one core to the other as a single cache line. The state word's
//! low two bits are the slot's kind: `EMPTY`, `EAGER` (the data is in the slot), `RNDV` (the
//! data is still in the sender's buffer; the slot's data area holds the address of the
//! sender's `RndvCtl`, see the `rendezvous` module) or `OWNED`
//! (a `Vec` handed over whole: the data area holds its pointer, length, capacity and
//! alignment). The other 30 bits are the message's communicator context, so a message and the
//! communicator it belongs to are published by one store.
//!
//! Only the sender writes a slot while it is `EMPTY`; only the receiver touches it while it is
//! not. Each side keeps its own slot counter privately (in the rank's engine, `Endpoint`: one
//! count of messages sent per destination and one of messages taken per source, shared by all
//! the rank's communicators), so the ring has no shared head or tail: slot `i % ring_slots`
//! carries the sender's `i`-th message to this receiver.
//!
//! 1. **Send.** The sender waits until its next slot is `EMPTY` (acquire load: the receiver has
//!    finished reading the slot's previous message), writes tag, length and data with plain
//!    stores, then swaps the state to `EAGER` or `RNDV` with `SeqCst`. The swap is a release,
//!    so a receiver that sees the new state sees the envelope and the data. Being `SeqCst`, it
//!    is also the sender's half of the sleep/wake handshake (the bell, in the `wait` module):
//!    right after it the sender reads the receiver's `sleeping` flag and rings the bell if it
//!    is set.
//! 2. **Receive.** The receiver reads its next slot's state with acquire. When it is not
//!    `EMPTY`, it reads the envelope and copies the data out, then swaps the state back to
//!    `EMPTY` with `SeqCst` (a release: the sender will not overwrite data still being read)
//!    and checks the sender's `sleeping` flag, since a sender may be asleep waiting for this
//!    very slot.
//! 3. **Progress.** A sender waiting for a slot writes nothing; only the receiver's release
//!    (step 2) ends the wait. So every rank drains its incoming rings (step 2 for every message
//!    that has arrived) within a few polls of any wait of its own, spinning or not (the
//!    `waiter` module's "Progress while spinning"): two ranks that fill each other's ring and
//!    then both wait for a slot free each other's.
//!
//! Messages between one pair therefore arrive in the order they were sent, which is what MPI's
//! non-overtaking rule needs; tags are matched above this layer (in the `matching` module).

use crate::config::Params;
use crate::sync::atomic::{AtomicU32, Ordering};
use std::alloc::Layout;
use std::ptr::NonNull;

/// A free slot.
pub(crate) const EMPTY: u32 = 0;
/// A slot holding an eager message.
pub(crate) const EAGER: u32 = 1;
/// A slot holding a rendezvous envelope.
pub(crate) const RNDV: u32 = 2;
/// A slot holding the description of a `Vec` whose ownership moves to the receiver.
pub(crate) const OWNED: u32 = 3;

/// The bits of the state word that hold the kind.
const KIND_MASK: u32 = 3;

/// The largest communicator context a slot can carry.
pub(crate) const MAX_CTX: u32 = u32::MAX >> 2;

/// Bytes of data that every slot can hold, whatever the eager limit: rendezvous and ownership
/// envelopes put their descriptors there.
pub(crate) const MIN_SLOT_DATA: usize = SLOT_ALIGN - std::mem::size_of::<SlotHeader>();

/// The alignment of rings and slots (that of the shared block's `CachePadded` words).
const SLOT_ALIGN: usize = 128;

/// The fixed part of a slot; the data follows it.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct SlotHeader {
    state: AtomicU32,
    tag: i32,
    len: u64,
    /// Under loom only: stands for the envelope and the data, so that loom checks that every
    /// access to them is ordered by the state word's protocol (a write while the slot is the
    /// sender's, reads while it is the receiver's).
    #[cfg(loom)]
    contents: loom::cell::UnsafeCell<()>,
}

/// Bytes of data that fit in a slot's first line.
#[cfg(test)]
const INLINE_DATA: usize = 64 - std::mem::size_of::<SlotHeader>();

/// The distance between slots for `params`.
pub(crate) fn slot_stride(params: &Params) -> usize {
    (std::mem::size_of::<SlotHeader>() + params.eager_max as usize).next_multiple_of(SLOT_ALIGN)
}

/// The allocation layout of one ring.
pub(crate) fn ring_layout(params: &Params) -> Layout {
    Layout::from_size_align(slot_stride(params) * params.ring_slots as usize, SLOT_ALIGN)
        .expect("ring size overflows (PIP_COMM_EAGER_MAX * PIP_COMM_RING_SLOTS too large)")
}

/// Allocates a ring for `params`, every slot empty. Freed with [`free_ring`].
pub(crate) fn alloc_ring(params: &Params) -> NonNull<u8> {
    let layout = ring_layout(params);
    // SAFETY: the layout has a non-zero size (at least two slots of at least one line).
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    let Some(ring) = NonNull::new(p) else {
        std::alloc::handle_alloc_error(layout)
    };
    for i in 0..params.ring_slots as u32 {
        // SAFETY: a live ring allocated with `ring_layout(params)` just above.
        let slot = unsafe { Slot::at(ring, i, params) };
        // SAFETY: the header lies inside the fresh allocation, suitably aligned, and nobody
        // else knows the ring yet. (Zeroed memory is already an empty header; writing it keeps
        // the atomic a properly made value, which the loom models need.)
        unsafe {
            slot.header.as_ptr().write(SlotHeader {
                state: AtomicU32::new(EMPTY),
                tag: 0,
                len: 0,
                #[cfg(loom)]
                contents: loom::cell::UnsafeCell::new(()),
            })
        };
    }
    ring
}

/// Frees a ring made by [`alloc_ring`].
///
/// # Safety
///
/// `ring` came from `alloc_ring(params)` and nobody uses it any more.
pub(crate) unsafe fn free_ring(ring: NonNull<u8>, params: &Params) {
    // SAFETY: allocated with this layout (caller); the headers need no drop.
    unsafe { std::alloc::dealloc(ring.as_ptr(), ring_layout(params)) };
}

/// The envelope of a message in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Envelope {
    /// [`EAGER`], [`RNDV`] or [`OWNED`].
    pub(crate) kind: u32,
    /// The communicator context.
    pub(crate) ctx: u32,
    pub(crate) tag: i32,
    /// The message's length in bytes.
    pub(crate) len: usize,
}

/// One slot of a ring.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    header: NonNull<SlotHeader>,
}

impl Slot {
    /// Slot number `index` (taken modulo the ring size) of `ring`.
    ///
    /// # Safety
    ///
    /// `ring` is a live ring allocated with [`ring_layout`] for `params`.
    pub(crate) unsafe fn at(ring: NonNull<u8>, index: u32, params: &Params) -> Slot {
        let i = index as usize & (params.ring_slots as usize - 1);
        // SAFETY: `i < ring_slots`, so the offset stays inside the ring's allocation.
        let p = unsafe { ring.as_ptr().add(i * slot_stride(params)) };
        Slot {
            // SAFETY: inside a non-null allocation; slots are 128-aligned, enough for the header.
            header: unsafe { NonNull::new_unchecked(p.cast::<SlotHeader>()) },
        }
    }

    fn header(&self) -> &SlotHeader {
        // SAFETY: `Slot::at` points into a live ring; the header is only read through shared
        // references, its non-atomic fields only as the protocol allows.
        unsafe { self.header.as_ref() }
    }

    fn data_ptr(&self) -> *mut u8 {
        // SAFETY: the data follows the header inside the slot.
        unsafe {
            self.header
                .as_ptr()
                .cast::<u8>()
                .add(std::mem::size_of::<SlotHeader>())
        }
    }

    /// True while the slot holds a message (sender side: wait for false before writing).
    pub(crate) fn is_full(&self) -> bool {
        // SYNC(eager#protocol): pairs with the SeqCst swap in `release`: once EMPTY is seen, the
        // receiver is done with the old contents.
        self.header().state.load(Ordering::Acquire) != EMPTY
    }

    /// Like [`Slot::is_full`], as a `SeqCst` load, for the check made just before sleeping.
    pub(crate) fn is_full_seqcst(&self) -> bool {
        // SYNC(eager#protocol): the receiver's release (SeqCst swap) against this SeqCst load,
        // before the sender sleeps on a full slot (the bell's handshake).
        self.header().state.load(Ordering::SeqCst) != EMPTY
    }

    /// Writes a message and publishes it: an eager message's data (`bytes.len() == len`), or
    /// a rendezvous or ownership descriptor (`bytes` at most [`MIN_SLOT_DATA`]).
    ///
    /// # Safety
    ///
    /// Only the ring's producer calls this, on a slot it has seen empty; `bytes.len()` is at
    /// most the ring's `eager_max` or at most [`MIN_SLOT_DATA`]; `kind` is not [`EMPTY`] and
    /// `ctx <= MAX_CTX`.
    pub(crate) unsafe fn publish(&self, kind: u32, ctx: u32, tag: i32, len: usize, bytes: &[u8]) {
        debug_assert!(kind != EMPTY && kind <= KIND_MASK && ctx <= MAX_CTX);
        #[cfg(loom)]
        self.header().contents.with_mut(|_| ());
        let h = self.header.as_ptr();
        // SAFETY: the slot is empty, so only the producer (us) accesses the non-atomic fields
        // and the data area, which holds at least `max(eager_max, MIN_SLOT_DATA)` bytes.
        unsafe {
            (*h).tag = tag;
            (*h).len = len as u64;
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.data_ptr(), bytes.len());
        }
        // SYNC(eager#protocol): pairs with the acquire load in `peek` (publishes envelope and data)
        // and, as a SeqCst operation, with the receiver's `sleeping` store (the bell, in the `wait`
        // module).
        self.header()
            .state
            .swap(kind | (ctx << 2), Ordering::SeqCst);
    }

    /// Writes an eager message of communicator context 0 and publishes it (tests).
    ///
    /// # Safety
    ///
    /// As for [`Slot::publish`].
    #[cfg(test)]
    pub(crate) unsafe fn publish_eager(&self, tag: i32, data: &[u8]) {
        // SAFETY: forwarded contract.
        unsafe { self.publish(EAGER, 0, tag, data.len(), data) }
    }

    /// The envelope of the message in the slot, if any (receiver side).
    pub(crate) fn peek(&self) -> Option<Envelope> {
        // SYNC(eager#protocol): pairs with the SeqCst swap in `publish_*`.
        let state = self.header().state.load(Ordering::Acquire);
        if state == EMPTY {
            return None;
        }
        #[cfg(loom)]
        self.header().contents.with(|_| ());
        let h = self.header.as_ptr();
        // SAFETY: the slot is full, so the producer no longer writes these fields, and the
        // acquire load above made its writes visible.
        let (tag, len) = unsafe { ((*h).tag, (*h).len as usize) };
        Some(Envelope {
            kind: state & KIND_MASK,
            ctx: state >> 2,
            tag,
            len,
        })
    }

    /// The data of the eager message in the slot (or the first `len` bytes of a descriptor).
    ///
    /// # Safety
    ///
    /// The receiver has seen the slot full with [`Slot::peek`], the envelope said `EAGER` with
    /// this `len` (or `RNDV`/`OWNED`, with `len` at most the descriptor's size), and it has not
    /// released the slot yet. The slice must not outlive
    /// [`Slot::release`].
    pub(crate) unsafe fn data<'a>(&self, len: usize) -> &'a [u8] {
        #[cfg(loom)]
        self.header().contents.with(|_| ());
        // SAFETY: the caller guarantees a full eager slot of `len` bytes that stays untouched by
        // the producer until it is released.
        unsafe { std::slice::from_raw_parts(self.data_ptr(), len) }
    }

    /// Empties the slot (receiver side). The caller then checks whether the producer sleeps.
    pub(crate) fn release(&self) {
        // SYNC(eager#protocol): pairs with the acquire load in `is_full`, and is the receiver's
        // SeqCst half of the handshake with a producer asleep waiting for this slot.
        self.header().state.swap(EMPTY, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(eager_max: u64, ring_slots: u64) -> Params {
        Params {
            eager_max,
            ring_slots,
            par_copy_min: 1 << 20,
            chunk: 1 << 16,
        }
    }

    #[test]
    fn layout_keeps_slots_on_their_own_lines() {
        assert_eq!(std::mem::size_of::<SlotHeader>(), 16);
        assert_eq!(INLINE_DATA, 48);
        assert_eq!(slot_stride(&params(0, 2)), 128);
        assert_eq!(slot_stride(&params(112, 2)), 128);
        assert_eq!(slot_stride(&params(113, 2)), 256);
        let l = ring_layout(&params(4096, 8));
        assert_eq!(l.align(), 128);
        assert_eq!(l.size(), 8 * (4096 + 128));
    }

    #[test]
    fn a_slot_carries_a_message_and_is_reused() {
        let p = params(100, 2);
        let layout = ring_layout(&p);
        // SAFETY: non-zero size.
        let ring = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) }).unwrap();
        // SAFETY: `ring` was allocated with `ring_layout(&p)`.
        let (s0, s1, s2) = unsafe {
            (
                Slot::at(ring, 0, &p),
                Slot::at(ring, 1, &p),
                Slot::at(ring, 2, &p),
            )
        };
        assert_eq!(s0.header, s2.header);
        assert_ne!(s0.header, s1.header);
        assert!(!s0.is_full() && s0.peek().is_none());
        // SAFETY: we act as the producer on an empty slot, with data within eager_max.
        unsafe { s0.publish_eager(7, b"hello") };
        assert!(s0.is_full());
        let env = s0.peek().unwrap();
        assert_eq!(
            env,
            Envelope {
                kind: EAGER,
                ctx: 0,
                tag: 7,
                len: 5
            }
        );
        // SAFETY: full eager slot of 5 bytes, read before release.
        assert_eq!(unsafe { s0.data(5) }, b"hello");
        s0.release();
        assert!(!s0.is_full());
        // SAFETY: empty again; the descriptor fits every slot.
        unsafe { s0.publish(RNDV, MAX_CTX, 9, 1 << 20, &42u64.to_ne_bytes()) };
        assert_eq!(
            s0.peek(),
            Some(Envelope {
                kind: RNDV,
                ctx: MAX_CTX,
                tag: 9,
                len: 1 << 20
            })
        );
        // SAFETY: full, 8 descriptor bytes, not yet released.
        assert_eq!(unsafe { s0.data(8) }, 42u64.to_ne_bytes());
        s0.release();
        // SAFETY: allocated above with this layout.
        unsafe { std::alloc::dealloc(ring.as_ptr(), layout) };
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// A ring for a model, freed at the end.
    struct Ring(NonNull<u8>, Params);

    // SAFETY: the ring is shared memory that the protocol itself coordinates.
    unsafe impl Send for Ring {}
    // SAFETY: as above.
    unsafe impl Sync for Ring {}

    impl Ring {
        fn slot(&self, i: u32) -> Slot {
            // SAFETY: a live ring made by `alloc_ring` for these parameters.
            unsafe { Slot::at(self.0, i, &self.1) }
        }
    }

    impl Drop for Ring {
        fn drop(&mut self) {
            // SAFETY: made by `alloc_ring(&self.1)`; both threads have finished with it.
            unsafe { free_ring(self.0, &self.1) }
        }
    }

    /// One writer, one reader, a ring of two slots and three messages (so the writer must
    /// wait for the reader to free a slot): every message arrives once, in order, with its
    /// envelope and data; every access to a slot's contents is ordered by the state word.
    #[test]
    fn loom_eager_ring_delivers_in_order() {
        loom::model(|| {
            let params = Params {
                eager_max: 8,
                ring_slots: 2,
                par_copy_min: 1 << 20,
                chunk: 1 << 16,
            };
            let ring = Arc::new(Ring(alloc_ring(&params), params));
            let writer = {
                let ring = ring.clone();
                loom::thread::spawn(move || {
                    for i in 0..3u32 {
                        let slot = ring.slot(i);
                        while slot.is_full() {
                            loom::thread::yield_now();
                        }
                        let data = [i as u8 + 1; 4];
                        // SAFETY: the only producer, on a slot it saw empty; 4 <= eager_max.
                        unsafe { slot.publish(EAGER, 5, i as i32, data.len(), &data) };
                    }
                })
            };
            for i in 0..3u32 {
                let slot = ring.slot(i);
                let env = loop {
                    if let Some(env) = slot.peek() {
                        break env;
                    }
                    loom::thread::yield_now();
                };
                let want = Envelope {
                    kind: EAGER,
                    ctx: 5,
                    tag: i as i32,
                    len: 4,
                };
                assert_eq!(env, want);
                // SAFETY: a full eager slot of 4 bytes, not yet released.
                assert_eq!(unsafe { slot.data(4) }, &[i as u8 + 1; 4]);
                slot.release();
            }
            writer.join().unwrap();
        });
    }

    /// Two ranks, each with a ring of two slots to the other, each sending three messages
    /// before receiving any (`osu_bibw`'s window, in small): each fills the other's ring and
    /// waits for a slot that only the other can free. A rank waiting for a slot drains its own
    /// incoming ring while it waits (the waiter's rule, `Progress while spinning` in the
    /// `waiter` module), so both always finish; every message arrives once, in order, with its
    /// envelope and data. (Without the drain in the wait the model fails: no interleaving
    /// ends, and loom stops at its branch limit.)
    #[test]
    fn loom_full_rings_both_ways_drain_while_waiting() {
        /// Takes every message in `ring` from slot `*next` on, releasing each slot.
        fn drain(ring: &Ring, next: &mut u32, got: &mut Vec<(i32, u8)>) {
            loop {
                let slot = ring.slot(*next);
                let Some(env) = slot.peek() else { return };
                // SAFETY: a full eager slot of `env.len` bytes, not yet released.
                let first = unsafe { slot.data(env.len) }[0];
                got.push((env.tag, first));
                slot.release();
                *next += 1;
            }
        }
        /// One rank: sends three messages on `out`, draining `inc` while it waits for a
        /// slot, then takes the rest of the peer's three.
        fn rank(out: &Ring, inc: &Ring, me: u8) {
            let (mut next, mut got) = (0u32, Vec::new());
            for i in 0..3u32 {
                let slot = out.slot(i);
                while slot.is_full() {
                    drain(inc, &mut next, &mut got);
                    loom::thread::yield_now();
                }
                let data = [me * 10 + i as u8];
                // SAFETY: the only producer, on a slot it saw empty; 1 <= eager_max.
                unsafe { slot.publish(EAGER, 0, i as i32, 1, &data) };
            }
            while got.len() < 3 {
                drain(inc, &mut next, &mut got);
                loom::thread::yield_now();
            }
            let peer = 1 - me;
            let want: Vec<(i32, u8)> = (0..3).map(|i| (i, peer * 10 + i as u8)).collect();
            assert_eq!(got, want);
        }
        loom::model(|| {
            let params = Params {
                eager_max: 8,
                ring_slots: 2,
                par_copy_min: 1 << 20,
                chunk: 1 << 16,
            };
            let to_1 = Arc::new(Ring(alloc_ring(&params), params));
            let to_0 = Arc::new(Ring(alloc_ring(&params), params));
            let one = {
                let (to_1, to_0) = (to_1.clone(), to_0.clone());
                loom::thread::spawn(move || rank(&to_0, &to_1, 1))
            };
            rank(&to_1, &to_0, 0);
            one.join().unwrap();
        });
    }
}
