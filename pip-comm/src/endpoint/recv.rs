//! The receiving side of a rank's engine: posted and blocking receives, matching against the
//! unexpected queue (see `crate::matching`), and delivering a matched message into its buffer
//! (copying an eager slot, or doing the receiver's part of a rendezvous).

use super::{Arrived, Endpoint, Matched, Origin, RecvTarget};
use crate::error::{Error, Result};
use crate::matching::{Body, Filter, Pending, PostedRecv};
use crate::rank::{Rank, Tag};
use crate::rendezvous::{Accept, RndvCtl};
use crate::wait;
use crate::watchdog::What;
use std::cell::RefCell;
use std::rc::Rc;

impl Endpoint {
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
    pub(super) fn take_unexpected(&self, filter: Filter) -> Option<Pending> {
        let mut q = self.unexpected.borrow_mut();
        loop {
            let p = q.take(filter)?;
            if !is_withdrawn(&p.body) {
                return Some(p);
            }
        }
    }

    pub(super) fn take_posted(&self, ctx: u32, source: Rank, tag: Tag) -> Option<Rc<RecvTarget>> {
        let mut posted = self.posted.borrow_mut();
        if posted.is_empty() {
            return None;
        }
        posted.take_for(ctx, source, tag).map(|p| p.target)
    }

    /// Delivers `m` into the posted receive `t` and records the outcome.
    pub(super) fn complete_posted(&self, t: Rc<RecvTarget>, m: Matched) {
        let arrived = Arrived {
            source: m.source,
            tag: m.tag,
            len: m.len,
        };
        // SAFETY: a posted receive's buffer stays valid and untouched until the receive is
        // complete or cancelled (its request borrows it; see the `request` module).
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
    pub(super) fn poll(&self, filter: Filter) -> Option<Matched> {
        if !self.unexpected.borrow().is_empty() {
            if let Some(p) = self.take_unexpected(filter) {
                return Some(matched_from(p));
            }
        }
        if filter.source == crate::rank::ANY_SOURCE {
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

    pub(super) fn receive_rendezvous(
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
        let _offered = crate::stealing::offer_rndv(self.shared(), self.me, ctl, &t, src);
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
