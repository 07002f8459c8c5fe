//! The sending side of a rank's engine: eager sends through the ring to the destination,
//! rendezvous offers and their progress (see `crate::eager` and `crate::rendezvous` for the
//! protocols).

use super::{Endpoint, Mode, RndvSend, Started};
use crate::eager::{Slot, EAGER, MIN_SLOT_DATA, OWNED, RNDV};
use crate::error::Result;
use crate::matching::{Body, Pending};
use crate::rank::{Rank, Tag};
use crate::rendezvous::{next_ticket, CtlBlock, RndvCtl, CTLS_PER_BLOCK};
use crate::wait;
use crate::watchdog::{Watch, What};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

impl Endpoint {
    /// Starts sending `data` to world rank `dst` in context `ctx` with `tag` (checked by
    /// the caller). Eager messages and standard sends to oneself are complete at once.
    pub(crate) fn start_send(
        &self,
        dst: u32,
        ctx: u32,
        tag: Tag,
        data: &[u8],
        mode: Mode,
    ) -> Result<Started> {
        if dst == self.me {
            return Ok(self.send_self(ctx, tag, data, mode));
        }
        let slot = self.free_slot(dst)?;
        if mode == Mode::Standard && data.len() as u64 <= self.params.eager_max {
            // SAFETY: we are the ring's producer and `free_slot` saw the slot empty; the data
            // fits the slot.
            unsafe { slot.publish(EAGER, ctx, tag, data.len(), data) };
            self.sent(dst);
            return Ok(Started::Done);
        }
        let (ctl, ticket) = self.offer(data);
        let addr = (ctl.as_ptr() as usize).to_ne_bytes();
        // SAFETY: we are the ring's producer and `free_slot` saw the slot empty; the descriptor
        // fits every slot.
        unsafe { slot.publish(RNDV, ctx, tag, data.len(), &addr) };
        self.sent(dst);
        Ok(Started::Rndv(RndvSend {
            ctl,
            ticket,
            dst,
            help: data.len() as u64 >= self.params.par_copy_min,
            transfer: None,
        }))
    }

    /// A send to this rank itself: buffered (a copy goes to the posted receive that takes it,
    /// or to the unexpected queue), complete at once; or, synchronous, a rendezvous offer to
    /// oneself (see `crate::rendezvous`) whose envelope goes there instead, complete once a
    /// receive has taken it. (Blocking synchronous sends to oneself are checked by the caller:
    /// without a posted receive they could never complete.)
    fn send_self(&self, ctx: u32, tag: Tag, data: &[u8], mode: Mode) -> Started {
        let (body, started) = if mode == Mode::Synchronous {
            let (ctl, ticket) = self.offer(data);
            let send = RndvSend {
                ctl,
                ticket,
                dst: self.me,
                help: false,
                transfer: None,
            };
            (Body::Rndv(ctl), Started::Rndv(send))
        } else {
            (Body::Eager(data.to_vec()), Started::Done)
        };
        self.arrived_self(Pending {
            ctx,
            source: self.me as Rank,
            tag,
            len: data.len(),
            body,
        });
        started
    }

    /// Offers `data` under a free control of this rank with a fresh ticket (step 1 of
    /// `crate::rendezvous`), before its envelope goes out.
    fn offer(&self, data: &[u8]) -> (NonNull<RndvCtl>, u32) {
        let ctl = self.take_ctl();
        let ticket = next_ticket(self.ticket.get());
        self.ticket.set(ticket);
        // SAFETY: our own control, live as long as the world, not in use by another offer.
        unsafe { ctl.as_ref() }.offer(ticket, data);
        self.sends_out.set(self.sends_out.get() + 1);
        (ctl, ticket)
    }

    /// Publishes an ownership envelope: `desc` (at most [`MIN_SLOT_DATA`] bytes) describes a
    /// `Vec` of `len` bytes that now belongs to `dst`.
    pub(crate) fn send_owned(
        &self,
        dst: u32,
        ctx: u32,
        tag: Tag,
        len: usize,
        desc: &[u8],
    ) -> Result<()> {
        debug_assert!(desc.len() <= MIN_SLOT_DATA && dst != self.me);
        let slot = self.free_slot(dst)?;
        // SAFETY: as in `start_send`; the descriptor fits every slot.
        unsafe { slot.publish(OWNED, ctx, tag, len, desc) };
        self.sent(dst);
        Ok(())
    }

    /// Counts a message published to `dst` and wakes `dst` if it sleeps.
    pub(super) fn sent(&self, dst: u32) {
        self.send_seq[dst as usize].set(self.send_seq[dst as usize].get().wrapping_add(1));
        wait::wake_rank(self.shared(), dst);
        if self.watch.is_some() {
            Watch::progress(self.shared(), self.me);
        }
    }

    /// The next slot of the ring to `dst`, once it is empty.
    pub(super) fn free_slot(&self, dst: u32) -> Result<Slot> {
        let cell = &self.out_rings[dst as usize];
        let ring = match cell.get() {
            Some(r) => r,
            None => {
                let r = self.shared().ring_or_create(self.me, dst);
                cell.set(Some(r));
                r
            }
        };
        // SAFETY: the ring was allocated for this world's parameters.
        let slot = unsafe { Slot::at(ring, self.send_seq[dst as usize].get(), &self.params) };
        if slot.is_full() {
            self.wait_until(
                What::SlotTo(dst),
                true,
                || (!slot.is_full()).then_some(()),
                || !slot.is_full_seqcst(),
            )?;
        }
        Ok(slot)
    }

    /// A free rendezvous control of this rank (a new block of them if none is free).
    pub(super) fn take_ctl(&self) -> NonNull<RndvCtl> {
        if let Some(c) = self.free_ctls.borrow_mut().pop() {
            return c;
        }
        let block = Box::into_raw(Box::<CtlBlock>::default());
        let head = &self.shared().rank(self.me).ctl_blocks;
        // SYNC(rendezvous#protocol): only this rank extends its list of control blocks; the
        // release store publishes the linked block, read (acquire) when the world is destroyed.
        // SAFETY: `block` is a fresh, valid allocation that nobody else knows yet.
        unsafe { &*block }
            .next
            .store(head.load(Ordering::Relaxed), Ordering::Relaxed);
        // Only this rank extends its list; the list is walked only when the world is destroyed.
        head.store(block, Ordering::Release);
        let mut free = self.free_ctls.borrow_mut();
        for i in (1..CTLS_PER_BLOCK).rev() {
            // SAFETY: `block` lives as long as the world (freed only by `Shared::destroy`).
            free.push(NonNull::from(unsafe { &(*block).ctls[i] }));
        }
        // SAFETY: as above.
        NonNull::from(unsafe { &(*block).ctls[0] })
    }

    /// Polls a rendezvous send once (copying a chunk when it helps). True when complete.
    pub(crate) fn poll_send(&self, s: &mut RndvSend) -> bool {
        // SAFETY: our control, live as long as the world.
        let ctl = unsafe { s.ctl.as_ref() };
        if s.transfer.is_none() {
            s.transfer = ctl.accepted(s.ticket);
        }
        let Some(t) = s.transfer.as_ref() else {
            return false;
        };
        if s.help {
            if let Some(last) = ctl.copy_one_chunk(t) {
                if last {
                    wait::wake_rank(self.shared(), s.dst);
                    return true;
                }
                return false;
            }
        }
        ctl.is_complete(t)
    }

    /// True when polling `s` again may achieve something (checked with `SeqCst` before
    /// sleeping).
    pub(crate) fn send_ready(&self, s: &RndvSend) -> bool {
        s.readiness().check()
    }

    /// Gives the control of a complete (or withdrawn) send back to the pool.
    pub(crate) fn finish_send(&self, s: RndvSend) {
        self.sends_out.set(self.sends_out.get() - 1);
        self.free_ctls.borrow_mut().push(s.ctl);
    }

    /// Withdraws a send that the receiver has not accepted (true), or else finishes the
    /// transfer, which never waits for user code (false). Either way the buffer is free after.
    pub(crate) fn cancel_send(&self, mut s: RndvSend) -> bool {
        // SAFETY: our control, live as long as the world.
        let withdrawn = unsafe { s.ctl.as_ref() }.cancel();
        if withdrawn {
            // Never reused: the envelope may still reach the receiver (see crate::rendezvous).
            self.sends_out.set(self.sends_out.get() - 1);
            return true;
        }
        let ready = s.readiness();
        self.wait_plain(|| self.poll_send(&mut s), || ready.check());
        self.finish_send(s);
        false
    }

    /// A blocking send: starts it and waits for it.
    pub(crate) fn send(&self, dst: u32, ctx: u32, tag: Tag, data: &[u8], mode: Mode) -> Result<()> {
        match self.start_send(dst, ctx, tag, data, mode)? {
            Started::Done => Ok(()),
            Started::Rndv(mut s) => {
                let what = What::Send(dst, ctx, tag);
                let ready = s.readiness();
                let r = self.wait_until(
                    what,
                    true,
                    || self.poll_send(&mut s).then_some(()),
                    || ready.check(),
                );
                match r {
                    Ok(()) => {
                        self.finish_send(s);
                        Ok(())
                    }
                    Err(e) => {
                        self.cancel_send(s);
                        Err(e)
                    }
                }
            }
        }
    }
}
