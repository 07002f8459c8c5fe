//! Progress: moving messages from this rank's incoming rings to where they belong (a blocking
//! receive that polls, a posted receive, or the unexpected queue), and releasing their slots.
//! A rank does this only inside pip-comm calls: when it polls a receive, and each round it
//! waits (the `Progress` duties of `crate::waiter`).

use super::{Endpoint, Matched, Origin};
use crate::config::Params;
use crate::eager::{Envelope, Slot, EAGER, OWNED, RNDV};
use crate::matching::{Body, Filter, Pending};
use crate::owned::OwnedVec;
use crate::rank::Rank;
use crate::rendezvous::RndvCtl;
use crate::wait;
use std::ptr::NonNull;

impl Endpoint {
    /// The ring from `src` to this rank, once `src` has created it.
    #[inline]
    pub(super) fn in_ring(&self, src: u32) -> Option<NonNull<u8>> {
        let cell = &self.in_rings[src as usize];
        if let Some(r) = cell.get() {
            return Some(r);
        }
        let r = self.shared().ring(src, self.me)?;
        cell.set(Some(r));
        Some(r)
    }

    /// Takes the next message from `src` off its ring, if one has arrived.
    #[inline]
    pub(super) fn take_head(&self, src: u32) -> Option<(Slot, Envelope)> {
        let ring = self.in_ring(src)?;
        let seq = &self.recv_seq[src as usize];
        loop {
            let env = slot_peek_at(&self.params, ring, seq.get())?;
            let slot = env.0;
            let env = env.1;
            seq.set(seq.get().wrapping_add(1));
            if env.kind == RNDV && self.ctl_in(slot).is_withdrawn() {
                // A withdrawn offer (see crate::rendezvous): drop the envelope.
                self.release(src, slot);
                continue;
            }
            return Some((slot, env));
        }
    }

    /// The rendezvous control named by the (full, unreleased) `RNDV` slot.
    pub(super) fn ctl_in(&self, slot: Slot) -> &RndvCtl {
        // SAFETY: a full rendezvous slot, not yet released: its data area holds the address of
        // a control, and controls live as long as the world.
        unsafe { &*(usize::from_ne_bytes(slot.data(8).try_into().unwrap()) as *const RndvCtl) }
    }

    pub(super) fn poll_ring(&self, src: u32, filter: Filter) -> Option<Matched> {
        loop {
            let (slot, env) = self.take_head(src)?;
            if filter.accepts(env.ctx, src as Rank, env.tag) {
                return Some(Matched {
                    source: src,
                    tag: env.tag,
                    len: env.len,
                    from: self.origin(src, slot, env),
                });
            }
            self.arrived(src, slot, env);
        }
    }

    /// Where the message in `slot` is: the slot itself for eager data (released after the
    /// copy), or the descriptor it carries (the slot is released at once).
    pub(super) fn origin(&self, src: u32, slot: Slot, env: Envelope) -> Origin {
        match env.kind {
            EAGER => Origin::Slot(slot),
            RNDV => {
                // SAFETY: a full rendezvous slot, not yet released: its data area holds the
                // control's address.
                let addr = usize::from_ne_bytes(unsafe { slot.data(8) }.try_into().unwrap());
                self.release(src, slot);
                Origin::Rndv(NonNull::new(addr as *mut RndvCtl).expect("null rendezvous control"))
            }
            _ => {
                debug_assert_eq!(env.kind, OWNED);
                // SAFETY: a full ownership slot, not yet released: its data area holds the
                // descriptor.
                let o = OwnedVec::from_desc(unsafe { slot.data(OwnedVec::DESC_LEN) });
                self.release(src, slot);
                Origin::Owned(o)
            }
        }
    }

    /// A message taken off the ring from `src` that no blocking receive wants right now: to
    /// the earliest posted receive that accepts it, or to the unexpected queue.
    pub(super) fn arrived(&self, src: u32, slot: Slot, env: Envelope) {
        if let Some(t) = self.take_posted(env.ctx, src as Rank, env.tag) {
            let m = Matched {
                source: src,
                tag: env.tag,
                len: env.len,
                from: self.origin(src, slot, env),
            };
            self.complete_posted(t, m);
            return;
        }
        let body = match self.origin(src, slot, env) {
            Origin::Slot(slot) => {
                // SAFETY: a full eager slot of `env.len` bytes, not yet released.
                let v = unsafe { slot.data(env.len) }.to_vec();
                self.release(src, slot);
                Body::Eager(v)
            }
            Origin::Rndv(c) => Body::Rndv(c),
            Origin::Owned(o) => Body::Owned(o),
            Origin::Heap(_) => unreachable!("a ring message is not on the heap"),
        };
        self.unexpected.borrow_mut().push(Pending {
            ctx: env.ctx,
            source: src as Rank,
            tag: env.tag,
            len: env.len,
            body,
        });
    }

    /// Empties a slot of the ring from `src`, waking `src` if it waits for the slot.
    #[inline]
    pub(super) fn release(&self, src: u32, slot: Slot) {
        slot.release();
        wait::wake_rank(self.shared(), src);
    }

    /// Moves every message waiting in this rank's rings to a posted receive or the unexpected
    /// queue, so that no sender stays blocked on a full ring while this rank waits for
    /// something else.
    /// Returns true if any message came in.
    pub(crate) fn drain_all(&self) -> bool {
        let mut any = false;
        for src in 0..self.n {
            if src == self.me {
                continue;
            }
            while let Some((slot, env)) = self.take_head(src) {
                self.arrived(src, slot, env);
                any = true;
            }
        }
        any
    }

    /// True if any ring holds a message (checked with `SeqCst` before sleeping).
    pub(super) fn has_incoming(&self) -> bool {
        (0..self.n).any(|src| {
            src != self.me
                && self.in_ring(src).is_some_and(|ring| {
                    // SAFETY: the ring was allocated for this world's parameters.
                    unsafe { Slot::at(ring, self.recv_seq[src as usize].get(), &self.params) }
                        .is_full_seqcst()
                })
        })
    }
}

/// The slot `index` of `ring` and its envelope, if full.
fn slot_peek_at(params: &Params, ring: NonNull<u8>, index: u32) -> Option<(Slot, Envelope)> {
    // SAFETY: the ring was allocated for this world's parameters (callers).
    let slot = unsafe { Slot::at(ring, index, params) };
    slot.peek().map(|env| (slot, env))
}
