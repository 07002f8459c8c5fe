//! A rank's engine: its end of every ring, its unexpected and posted queues, its rendezvous
//! controls, and the progress loop that moves messages between them.
//!
//! One `Endpoint` per rank, shared (`Rc`) by every communicator the rank holds: the world and
//! whatever [`dup`](crate::Communicator::dup) and [`split`](crate::Communicator::split) made.
//! Communicators differ only in their context (carried by every message) and their group (the
//! map between their ranks and world ranks); everything here speaks world ranks.
//!
//! # Progress
//!
//! A rank moves messages only when it is inside a pip-comm call. Whenever it waits, it
//! *drains* its rings: each message that arrived is offered to the posted receives (the
//! earliest that accepts it takes it and is completed on the spot) or else moved to the
//! unexpected queue (see [`crate::matching`]). A blocking receive issued while no receive is
//! posted takes a faster path: it looks at the unexpected queue, then reads its rings itself
//! and copies a matching eager message straight out of its slot.

use crate::config::{Params, WaitPolicy};
use crate::eager::{Envelope, Slot, EAGER, MIN_SLOT_DATA, OWNED, RNDV};
use crate::matching::{Body, Filter, Pending, Posted, PostedRecv, Unexpected};
use crate::owned::OwnedVec;
use crate::rendezvous::{next_ticket, Accept, CtlBlock, RndvCtl, Transfer, CTLS_PER_BLOCK};
use crate::shared::{OwnedShared, Shared};
use crate::wait::{self, Backoff, Step};
use crate::watchdog::{Watch, Watching, What};
use crate::{Error, Rank, Result, Tag};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A matched message, not yet copied into its receive buffer.
#[derive(Debug)]
pub(crate) struct Matched {
    /// The sender's world rank.
    pub(crate) source: u32,
    pub(crate) tag: Tag,
    /// The message's length in bytes.
    pub(crate) len: usize,
    pub(crate) from: Origin,
}

/// Where a matched message's bytes are.
#[derive(Debug)]
pub(crate) enum Origin {
    /// In an eager slot that is still full (released after the copy).
    Slot(Slot),
    /// In the unexpected queue's heap copy.
    Heap(Vec<u8>),
    /// In the sender's buffer, offered for rendezvous under this control.
    Rndv(NonNull<RndvCtl>),
    /// In a `Vec` whose ownership the sender handed over.
    Owned(OwnedVec),
}

/// What a posted receive got: sender (world rank), tag, length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrived {
    pub(crate) source: u32,
    pub(crate) tag: Tag,
    pub(crate) len: usize,
}

/// The receiving end of a posted receive: the buffer, and the outcome once matched.
#[derive(Debug)]
pub(crate) struct RecvTarget {
    dst: *mut u8,
    capacity: usize,
    outcome: RefCell<Option<Result<Arrived>>>,
}

impl RecvTarget {
    /// Takes the outcome, once the receive has been matched and its data copied.
    pub(crate) fn take(&self) -> Option<Result<Arrived>> {
        self.outcome.borrow_mut().take()
    }

    /// True once the receive has been matched and its data copied.
    pub(crate) fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }
}

/// A rendezvous send that is out: its control and ticket, and the transfer once accepted.
#[derive(Debug)]
pub(crate) struct RndvSend {
    ctl: NonNull<RndvCtl>,
    ticket: u32,
    dst: u32,
    help: bool,
    transfer: Option<Transfer>,
}

impl RndvSend {
    fn readiness(&self) -> Readiness {
        Readiness {
            ctl: self.ctl,
            ticket: self.ticket,
            help: self.help,
        }
    }
}

/// What a waiting rendezvous sender checks before sleeping.
#[derive(Debug, Clone, Copy)]
struct Readiness {
    ctl: NonNull<RndvCtl>,
    ticket: u32,
    help: bool,
}

impl Readiness {
    /// True when polling the send again may achieve something (`SeqCst` loads).
    fn check(&self) -> bool {
        // SAFETY: a control of this rank, live as long as the world.
        let ctl = unsafe { self.ctl.as_ref() };
        ctl.is_answered(self.ticket)
            && ctl
                .accepted(self.ticket)
                .is_some_and(|t| ctl.is_complete(&t) || (self.help && ctl.has_unclaimed(&t)))
    }
}

/// Sending modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Eager up to the limit, rendezvous above.
    Standard,
    /// Always rendezvous: complete only once the receive has matched.
    Synchronous,
}

/// How a send started.
#[derive(Debug)]
pub(crate) enum Started {
    /// Complete (eager, or to oneself).
    Done,
    /// A rendezvous offer is out.
    Rndv(RndvSend),
}

/// A rank's engine. See the module documentation.
pub(crate) struct Endpoint {
    shared: NonNull<Shared>,
    /// Keeps a `run` world alive while any rank holds it (`None` in a PiP job, whose world
    /// lives until the job ends).
    _owner: Option<Arc<OwnedShared>>,
    /// This rank's world rank.
    pub(crate) me: u32,
    /// The world's size.
    pub(crate) n: u32,
    pub(crate) params: Params,
    pub(crate) policy: WaitPolicy,
    /// The ring from this rank to each destination, once created.
    out_rings: Box<[Cell<Option<NonNull<u8>>>]>,
    /// The ring from each source to this rank, once seen.
    in_rings: Box<[Cell<Option<NonNull<u8>>>]>,
    /// Messages sent to each destination so far (the next slot to use).
    send_seq: Box<[Cell<u32>]>,
    /// Messages taken from each source's ring so far (the next slot to read).
    recv_seq: Box<[Cell<u32>]>,
    pub(crate) unexpected: RefCell<Unexpected>,
    pub(crate) posted: RefCell<Posted<Rc<RecvTarget>>>,
    /// Where an any-source receive starts looking (round robin, so no sender starves).
    next_any: Cell<u32>,
    /// The last rendezvous ticket used.
    ticket: Cell<u32>,
    /// Rendezvous controls not in use.
    free_ctls: RefCell<Vec<NonNull<RndvCtl>>>,
    /// Rendezvous sends out (for the watchdog's report).
    pub(crate) sends_out: Cell<u32>,
    /// True when every rank allocates from one heap (thread ranks, or PiP tasks sharing
    /// libc), so a `Vec` may change hands.
    pub(crate) shared_allocator: bool,
    next_id: Cell<u64>,
    pub(crate) watch: Option<Watch>,
}

impl Endpoint {
    pub(crate) fn new(
        shared: NonNull<Shared>,
        owner: Option<Arc<OwnedShared>>,
        me: u32,
        shared_allocator: bool,
    ) -> Endpoint {
        // SAFETY: the block is live: owned by `owner`, or a PiP job's block that is never freed.
        let s = unsafe { shared.as_ref() };
        let n = s.nranks();
        let cells = |v| (0..n).map(|_| Cell::new(v)).collect::<Box<[_]>>();
        Endpoint {
            shared,
            _owner: owner,
            me,
            n,
            params: s.params,
            // Bad values were refused when the world was created (config::check_env).
            policy: WaitPolicy::from_env(n as usize).unwrap_or(WaitPolicy {
                spins: 0,
                yields: 10,
            }),
            out_rings: (0..n).map(|_| Cell::new(None)).collect(),
            in_rings: (0..n).map(|_| Cell::new(None)).collect(),
            send_seq: cells(0),
            recv_seq: cells(0),
            unexpected: RefCell::new(Unexpected::default()),
            posted: RefCell::new(Posted::default()),
            next_any: Cell::new(0),
            ticket: Cell::new(0),
            free_ctls: RefCell::new(Vec::new()),
            sends_out: Cell::new(0),
            shared_allocator,
            next_id: Cell::new(0),
            watch: Watch::from_env(),
        }
    }

    /// The world's shared state.
    #[inline]
    pub(crate) fn shared(&self) -> &Shared {
        // SAFETY: see `new`: the block outlives every Endpoint on it.
        unsafe { self.shared.as_ref() }
    }

    /// Fails with [`Error::Aborted`] if a rank of the world panicked.
    pub(crate) fn check_aborted(&self) -> Result<()> {
        match self.shared().aborted_by() {
            None => Ok(()),
            Some(r) => Err(Error::Aborted { rank: r as Rank }),
        }
    }

    /// A fresh identifier (for posted receives).
    pub(crate) fn next_id(&self) -> u64 {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        id
    }

    // --- Sending --------------------------------------------------------------------------------

    /// Starts sending `data` to world rank `dst` in context `ctx` with `tag` (all checked by
    /// the caller). Eager messages and messages to oneself are complete at once.
    pub(crate) fn start_send(
        &self,
        dst: u32,
        ctx: u32,
        tag: Tag,
        data: &[u8],
        mode: Mode,
    ) -> Result<Started> {
        if dst == self.me {
            let p = Pending {
                ctx,
                source: dst as Rank,
                tag,
                len: data.len(),
                body: Body::Eager(data.to_vec()),
            };
            // A synchronous send to oneself is checked by the caller (a posted receive takes
            // it); otherwise it is buffered like any send to oneself.
            self.arrived_self(p);
            return Ok(Started::Done);
        }
        let slot = self.free_slot(dst)?;
        if mode == Mode::Standard && data.len() as u64 <= self.params.eager_max {
            // SAFETY: we are the ring's producer and `free_slot` saw the slot empty; the data
            // fits the slot.
            unsafe { slot.publish(EAGER, ctx, tag, data.len(), data) };
            self.sent(dst);
            return Ok(Started::Done);
        }
        let ctl = self.take_ctl();
        let ticket = next_ticket(self.ticket.get());
        self.ticket.set(ticket);
        // SAFETY: our own control, live as long as the world, not in use by another offer.
        unsafe { ctl.as_ref() }.offer(ticket, data);
        let addr = (ctl.as_ptr() as usize).to_ne_bytes();
        // SAFETY: as above; the descriptor fits every slot.
        unsafe { slot.publish(RNDV, ctx, tag, data.len(), &addr) };
        self.sent(dst);
        self.sends_out.set(self.sends_out.get() + 1);
        Ok(Started::Rndv(RndvSend {
            ctl,
            ticket,
            dst,
            help: data.len() as u64 >= self.params.par_copy_min,
            transfer: None,
        }))
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
    fn sent(&self, dst: u32) {
        self.send_seq[dst as usize].set(self.send_seq[dst as usize].get().wrapping_add(1));
        wait::wake_rank(self.shared(), dst);
        if self.watch.is_some() {
            Watch::progress(self);
        }
    }

    /// The next slot of the ring to `dst`, once it is empty.
    fn free_slot(&self, dst: u32) -> Result<Slot> {
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
    fn take_ctl(&self) -> NonNull<RndvCtl> {
        if let Some(c) = self.free_ctls.borrow_mut().pop() {
            return c;
        }
        let block = Box::into_raw(Box::<CtlBlock>::default());
        let head = &self.shared().rank(self.me).ctl_blocks;
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

    // --- Receiving ------------------------------------------------------------------------------

    /// A message this rank sent itself: to the earliest posted receive that accepts it, or
    /// to the unexpected queue. True if a posted receive took it.
    pub(crate) fn arrived_self(&self, p: Pending) -> bool {
        let target = self.take_posted(p.ctx, p.source, p.tag);
        match target {
            Some(t) => {
                let from = match p.body {
                    Body::Eager(v) => Origin::Heap(v),
                    Body::Owned(o) => Origin::Owned(o),
                    Body::Rndv(c) => Origin::Rndv(c),
                };
                self.complete_posted(
                    t,
                    Matched {
                        source: p.source as u32,
                        tag: p.tag,
                        len: p.len,
                        from,
                    },
                );
                true
            }
            None => {
                self.unexpected.borrow_mut().push(p);
                false
            }
        }
    }

    /// Takes the earliest unexpected message that `filter` accepts, dropping withdrawn
    /// rendezvous offers on the way.
    fn take_unexpected(&self, filter: Filter) -> Option<Pending> {
        let mut q = self.unexpected.borrow_mut();
        loop {
            let p = q.take(filter)?;
            if !is_withdrawn(&p.body) {
                return Some(p);
            }
        }
    }

    fn take_posted(&self, ctx: u32, source: Rank, tag: Tag) -> Option<Rc<RecvTarget>> {
        let mut posted = self.posted.borrow_mut();
        if posted.is_empty() {
            return None;
        }
        posted.take_for(ctx, source, tag).map(|p| p.target)
    }

    /// Delivers `m` into the posted receive `t` and records the outcome.
    fn complete_posted(&self, t: Rc<RecvTarget>, m: Matched) {
        let arrived = Arrived {
            source: m.source,
            tag: m.tag,
            len: m.len,
        };
        // SAFETY: a posted receive's buffer stays valid and untouched until the receive is
        // complete or cancelled (its request borrows it; see crate::request).
        let r = unsafe { self.deliver(m, t.dst, t.capacity) };
        *t.outcome.borrow_mut() = Some(r.map(|_| arrived));
    }

    /// Posts a receive into `dst` (`capacity` bytes), after taking a match from the unexpected
    /// queue if there is one (then the receive is complete at once).
    ///
    /// # Safety
    ///
    /// `dst` is valid for writes of `capacity` bytes and not otherwise accessed until the
    /// receive is complete (its target says so) or cancelled with [`Endpoint::cancel_recv`].
    pub(crate) unsafe fn post_recv(
        &self,
        filter: Filter,
        dst: *mut u8,
        capacity: usize,
    ) -> (u64, Rc<RecvTarget>) {
        let target = Rc::new(RecvTarget {
            dst,
            capacity,
            outcome: RefCell::new(None),
        });
        let id = self.next_id();
        let found = self.take_unexpected(filter);
        match found {
            Some(p) => {
                let m = matched_from(p);
                self.complete_posted(target.clone(), m);
            }
            None => self.posted.borrow_mut().push(PostedRecv {
                filter,
                id,
                target: target.clone(),
            }),
        }
        (id, target)
    }

    /// Cancels posted receive `id` unless it already completed. True if it was cancelled.
    pub(crate) fn cancel_recv(&self, id: u64) -> bool {
        self.posted.borrow_mut().remove(id)
    }

    /// Waits until posted receive `t` completes, moving messages meanwhile.
    pub(crate) fn wait_recv(&self, what: What, id: u64, t: &RecvTarget) -> Result<Arrived> {
        let r = self.wait_until(
            what,
            true,
            || {
                self.drain_all();
                t.take()
            },
            || false,
        );
        match r {
            Ok(outcome) => outcome,
            Err(e) => {
                if self.cancel_recv(id) {
                    return Err(e);
                }
                t.take().unwrap_or(Err(e))
            }
        }
    }

    /// A blocking receive into `dst` (`capacity` bytes) of a message that `filter` accepts.
    ///
    /// # Safety
    ///
    /// `dst` is valid for writes of `capacity` bytes and not otherwise accessed until this
    /// returns.
    pub(crate) unsafe fn receive(
        &self,
        filter: Filter,
        dst: *mut u8,
        capacity: usize,
    ) -> Result<Arrived> {
        let what = What::Recv(filter);
        if !self.posted.borrow().is_empty() {
            // Earlier receives are posted: this one must queue behind them.
            // SAFETY: forwarded; we wait for completion (or cancel) before returning.
            let (id, t) = unsafe { self.post_recv(filter, dst, capacity) };
            return self.wait_recv(what, id, &t);
        }
        let m = self.wait_until(what, true, || self.poll(filter), || false)?;
        let arrived = Arrived {
            source: m.source,
            tag: m.tag,
            len: m.len,
        };
        // SAFETY: forwarded.
        unsafe { self.deliver(m, dst, capacity)? };
        Ok(arrived)
    }

    /// A blocking receive of a message that `filter` accepts, not yet delivered (for receives
    /// that allocate their buffer once they know the length).
    pub(crate) fn receive_matched(&self, filter: Filter) -> Result<Matched> {
        if !self.posted.borrow().is_empty() {
            // Let the posted receives take what arrived first, then wait for a message that
            // is left over for us.
            return self.wait_until(
                What::Recv(filter),
                true,
                || {
                    self.drain_all();
                    self.take_unexpected(filter).map(matched_from)
                },
                || false,
            );
        }
        self.wait_until(What::Recv(filter), true, || self.poll(filter), || false)
    }

    /// Looks for a message that `filter` accepts without receiving it (after moving what
    /// arrived into the queues).
    pub(crate) fn iprobe(&self, filter: Filter) -> Option<(u32, Tag, usize)> {
        self.drain_all();
        let mut q = self.unexpected.borrow_mut();
        q.retain(|p| !is_withdrawn(&p.body));
        q.find(filter).map(|p| (p.source as u32, p.tag, p.len))
    }

    /// Polls once for a message that `filter` accepts: the unexpected queue first, then the
    /// rings (moving messages that do not match on). Only while no receive is posted.
    fn poll(&self, filter: Filter) -> Option<Matched> {
        if !self.unexpected.borrow().is_empty() {
            if let Some(p) = self.take_unexpected(filter) {
                return Some(matched_from(p));
            }
        }
        if filter.source == crate::ANY_SOURCE {
            let start = self.next_any.get();
            for k in 0..self.n {
                let src = (start + k) % self.n;
                if src == self.me {
                    continue;
                }
                if let Some(m) = self.poll_ring(src, filter) {
                    self.next_any.set((src + 1) % self.n);
                    return Some(m);
                }
            }
            None
        } else if filter.source as u32 == self.me {
            None
        } else {
            self.poll_ring(filter.source as u32, filter)
        }
    }

    /// The ring from `src` to this rank, once `src` has created it.
    #[inline]
    fn in_ring(&self, src: u32) -> Option<NonNull<u8>> {
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
    fn take_head(&self, src: u32) -> Option<(Slot, Envelope)> {
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
    fn ctl_in(&self, slot: Slot) -> &RndvCtl {
        // SAFETY: a full rendezvous slot, not yet released: its data area holds the address of
        // a control, and controls live as long as the world.
        unsafe { &*(usize::from_ne_bytes(slot.data(8).try_into().unwrap()) as *const RndvCtl) }
    }

    fn poll_ring(&self, src: u32, filter: Filter) -> Option<Matched> {
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
    fn origin(&self, src: u32, slot: Slot, env: Envelope) -> Origin {
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
    fn arrived(&self, src: u32, slot: Slot, env: Envelope) {
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
    fn release(&self, src: u32, slot: Slot) {
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
    fn has_incoming(&self) -> bool {
        (0..self.n).any(|src| {
            src != self.me
                && self.in_ring(src).is_some_and(|ring| {
                    // SAFETY: the ring was allocated for this world's parameters.
                    unsafe { Slot::at(ring, self.recv_seq[src as usize].get(), &self.params) }
                        .is_full_seqcst()
                })
        })
    }

    /// Copies the matched message into `dst` (at most `capacity` bytes) and completes it.
    /// Returns the number of bytes copied.
    ///
    /// # Safety
    ///
    /// `dst` is valid for writes of `capacity` bytes and not otherwise accessed until this
    /// returns.
    pub(crate) unsafe fn deliver(
        &self,
        m: Matched,
        dst: *mut u8,
        capacity: usize,
    ) -> Result<usize> {
        let n = m.len.min(capacity);
        match m.from {
            Origin::Slot(slot) => {
                // SAFETY: a full eager slot of `m.len` bytes that we took and have not
                // released; `dst` has room for `n <= m.len` bytes (caller).
                unsafe { std::ptr::copy_nonoverlapping(slot.data(m.len).as_ptr(), dst, n) };
                self.release(m.source, slot);
                Ok(n)
            }
            Origin::Heap(v) => {
                // SAFETY: `v` holds `m.len >= n` bytes; `dst` has room for `n` (caller).
                unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), dst, n) };
                Ok(n)
            }
            Origin::Owned(o) => {
                // SAFETY: the handed-over Vec holds `m.len >= n` initialised bytes; `dst` has
                // room for `n` (caller). `o` frees the Vec when dropped.
                unsafe { std::ptr::copy_nonoverlapping(o.as_ptr(), dst, n) };
                Ok(n)
            }
            Origin::Rndv(ctl) => {
                // SAFETY: controls live as long as the world.
                self.receive_rendezvous(m.source, unsafe { ctl.as_ref() }, dst, capacity)
            }
        }
    }

    fn receive_rendezvous(
        &self,
        src: u32,
        ctl: &RndvCtl,
        dst: *mut u8,
        capacity: usize,
    ) -> Result<usize> {
        let par_min = self.params.par_copy_min as usize;
        let t = match ctl.accept(dst, capacity, par_min, self.params.chunk as usize) {
            Accept::Accepted(t) => t,
            Accept::Canceled => {
                let _ = src;
                return Err(match self.shared().aborted_by() {
                    Some(r) => Error::Aborted { rank: r as Rank },
                    None => Error::Cancelled,
                });
            }
        };
        if t.nchunks == 0 || t.copy_len >= par_min {
            // The sender may sleep: it is done (nothing to copy) or may help copy.
            wait::wake_rank(self.shared(), src);
        }
        // Waiting ranks may copy chunks too (retracted when this returns).
        let _offered = crate::steal::offer_rndv(self, ctl, &t, src);
        while let Some(last) = ctl.copy_one_chunk(&t) {
            if last {
                wait::wake_rank(self.shared(), src);
                break;
            }
        }
        // Wait for chunks the sender claimed (it is copying them now, never waiting for
        // anything else); never abandoned, even if the world aborts.
        self.wait_plain(|| ctl.is_complete(&t), || ctl.is_complete(&t));
        Ok(t.copy_len)
    }

    // --- Waiting --------------------------------------------------------------------------------

    /// Polls until `poll` gives a value: spins, then yields, then sleeps (see [`crate::wait`]).
    /// While yielding or sleeping it drains the rings, and it sleeps only while neither
    /// `ready()` nor an incoming message nor (if `abortable`) an abort says to look again.
    /// `what` names the wait for the watchdog.
    ///
    /// Returns [`Error::Aborted`] when `abortable` and a rank of the world panicked.
    pub(crate) fn wait_until<T>(
        &self,
        what: What,
        abortable: bool,
        mut poll: impl FnMut() -> Option<T>,
        ready: impl Fn() -> bool,
    ) -> Result<T> {
        if let Some(v) = poll() {
            return Ok(v);
        }
        // Published on the job's wait board, and watched, once the wait stops spinning;
        // cleared on return.
        let mut published: Option<pip_core::waits::Published> = None;
        let mut watching: Option<Watching> = None;
        let r = self.wait_loop(what, abortable, poll, ready, &mut published, &mut watching);
        if let Some(g) = watching {
            g.end(self);
        }
        r
    }

    fn wait_loop<T>(
        &self,
        what: What,
        abortable: bool,
        mut poll: impl FnMut() -> Option<T>,
        ready: impl Fn() -> bool,
        published: &mut Option<pip_core::waits::Published>,
        watching: &mut Option<Watching>,
    ) -> Result<T> {
        let mut backoff = Backoff::new(self.policy);
        loop {
            if let Some(v) = poll() {
                return Ok(v);
            }
            if crate::steal::help(self) {
                // Did a chunk of another rank's copy (see crate::steal).
                if let Some(p) = published {
                    p.progress();
                }
                backoff = Backoff::new(self.policy);
                continue;
            }
            let step = backoff.step();
            if step != Step::Spin && published.is_none() {
                let info = self.wait_info(what);
                *published = Some(pip_core::waits::publish(&info));
                *watching = self.watch.as_ref().map(|w| w.begin(self, &info));
            }
            match step {
                Step::Spin => std::hint::spin_loop(),
                Step::Yield => {
                    if abortable {
                        self.check_aborted()?;
                    }
                    self.drain_published(published.as_ref());
                    pip_core::yield_now();
                }
                Step::Sleep => {
                    if abortable {
                        self.check_aborted()?;
                    }
                    self.drain_published(published.as_ref());
                    if let Some(v) = poll() {
                        return Ok(v);
                    }
                    let timeout = watching.as_ref().map(|g| g.check(self));
                    wait::sleep_unless(
                        self.shared(),
                        self.me,
                        || ready() || self.has_incoming(),
                        timeout,
                    );
                }
            }
        }
    }

    /// Moves incoming messages in, counting it as progress on the wait board when any came.
    fn drain_published(&self, published: Option<&pip_core::waits::Published>) {
        if self.drain_all() {
            if let Some(p) = published {
                p.progress();
            }
        }
    }

    /// What `what` is as the job's wait board (and the watchdog) show it. Only called once a
    /// wait has stopped spinning.
    #[cold]
    fn wait_info(&self, what: What) -> pip_core::waits::WaitInfo {
        let posted = self.posted.borrow().iter().next().map(|p| p.filter);
        let round = u64::from(self.shared().barrier.generation.load(Ordering::Relaxed));
        what.board_info(posted, round, self.n)
    }

    /// Waits for a condition that other ranks make true without waiting for this one (a copy
    /// in progress): no draining, no abort.
    fn wait_plain(&self, mut done: impl FnMut() -> bool, ready: impl Fn() -> bool) {
        let mut backoff = Backoff::new(self.policy);
        while !done() {
            if crate::steal::help(self) {
                continue;
            }
            match backoff.step() {
                Step::Spin => std::hint::spin_loop(),
                Step::Yield => pip_core::yield_now(),
                Step::Sleep => {
                    wait::sleep_unless(self.shared(), self.me, &ready, None);
                }
            }
        }
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("rank", &self.me)
            .field("size", &self.n)
            .field("params", &self.params)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The slot `index` of `ring` and its envelope, if full.
fn slot_peek_at(params: &Params, ring: NonNull<u8>, index: u32) -> Option<(Slot, Envelope)> {
    // SAFETY: the ring was allocated for this world's parameters (callers).
    let slot = unsafe { Slot::at(ring, index, params) };
    slot.peek().map(|env| (slot, env))
}

/// True for a queued rendezvous envelope whose sender withdrew the offer.
fn is_withdrawn(body: &Body) -> bool {
    match body {
        // SAFETY: controls live as long as the world.
        Body::Rndv(c) => unsafe { c.as_ref() }.is_withdrawn(),
        _ => false,
    }
}

/// A queued message as a matched one.
fn matched_from(p: Pending) -> Matched {
    let from = match p.body {
        Body::Eager(v) => Origin::Heap(v),
        Body::Rndv(c) => Origin::Rndv(c),
        Body::Owned(o) => Origin::Owned(o),
    };
    Matched {
        source: p.source as u32,
        tag: p.tag,
        len: p.len,
        from,
    }
}
