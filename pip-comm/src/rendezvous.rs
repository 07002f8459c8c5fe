//! Single-copy rendezvous: the receiver copies straight out of the sender's buffer.
//!
//! All ranks share one address space, so a message above the eager limit is never staged: the
//! sender *offers* its buffer, the receiver (once it has matched the message) copies from it
//! into the receive buffer, and the sender's blocking send returns when the copy is done.
//! Large messages are copied in chunks that the waiting sender helps with, so both cores copy.
//!
//! # Protocol
//!
//! Each rank owns a pool of [`RndvCtl`]s, allocated in blocks ([`CtlBlock`]) the first time
//! it has more offers out at once than it has controls, linked from the rank's entry in the
//! shared block, and never freed while the world lives (so a receiver may still read a
//! control after its transfer ended; the tickets below tell an old transfer from a new one).
//! The rank takes a free control for each offer (a blocking send, or a non-blocking one that
//! stays out while the rank does other work) and puts it back once the transfer is complete
//! or withdrawn; the `RNDV` envelope in the eager slot carries the control's address. A
//! control has three parts, each on its own cache lines:
//!
//! * the **offer**, written only by the sender: ticket, source pointer, length;
//! * the **answer**, written only by the receiver: which ticket it matched, destination
//!   pointer, bytes to copy, chunk size, number of chunks;
//! * the **progress** words, changed by both with read-modify-writes: `claimed` (chunks handed
//!   out) and `done` (chunks copied). Both are ticket words (`pip_core::sync::ticket`:
//!   `(ticket, count)` in one 64-bit word), so a word left over from an earlier transfer can
//!   never be mistaken for this one.
//!
//! Steps:
//!
//! 1. **Offer.** The sender picks a fresh ticket (never 0 or [`CANCELED`]), stores the offer,
//!    sets `answer.matched = 0`, `claimed = done = (ticket, 0)` (all `Relaxed`), then
//!    publishes a `RNDV` envelope in its eager ring slot. The slot's `SeqCst` swap releases
//!    everything written before it.
//! 2. **Accept.** The receiver, having matched the envelope (directly from the ring or later
//!    from its unexpected queue; the slot was acquired either way), reads the offer, decides
//!    how many bytes to copy (fewer when its buffer is short: truncation), writes the answer
//!    fields and then moves `answer.matched` from 0 to the ticket with a compare-exchange
//!    (release). If it finds [`CANCELED`] instead, the sender has given up (its world was
//!    aborted) and nothing may be copied.
//! 3. **Copy.** Whoever takes part (the receiver always; the sender too when the message is at
//!    least `par_copy_min` bytes and it has seen the answer with an acquire load) claims chunk
//!    numbers by compare-exchange on `claimed`, copies each chunk, and adds 1 to `done`
//!    (`SeqCst`: releases the copied bytes, and is the notifier's half of the sleep/wake
//!    handshake). The one whose increment completes the transfer wakes the other party if it
//!    sleeps.
//! 4. **Finish.** The sender returns when `done == (ticket, nchunks)` (acquire: the
//!    receiver has finished reading its buffer). The receiver returns when that holds or the
//!    ticket in `done` has moved on (the sender can only have started a new offer after this
//!    one was complete).
//!
//! **Abort and cancel.** Once an offer has been accepted, both sides finish it even if the
//! world is aborted: a copy never waits for user code, so this always ends, and it guarantees
//! that no rank reads a buffer whose send has returned. Before acceptance, a sender that gives
//! up (its world aborted, or the request scope of a non-blocking send ended by a panic) moves
//! `matched` from 0 to [`CANCELED`]; exactly one of the two compare-exchanges wins. A withdrawn
//! control is never used again (its envelope may still sit in the receiver's ring or queue),
//! so a receiver that meets the envelope later sees [`CANCELED`] and drops the message.
//!
//! **To oneself.** A non-blocking synchronous send to the sending rank itself offers its
//! buffer the same way, but its envelope goes straight to the rank's own posted receives or
//! unexpected queue instead of a ring; sender and receiver are one thread, so program order
//! orders steps 1 and 2, and the sender never helps copy (thieves may, as for any transfer).

use crossbeam_utils::CachePadded;
use pip_core::sync::ticket::{AtomicTicket, Ticket};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

/// `answer.matched` of an offer its sender withdrew.
pub(crate) const CANCELED: u32 = u32::MAX;

/// The smallest chunk of a shared copy.
const MIN_CHUNK: usize = 32 << 10;

/// The next ticket after `t`: never 0 (no offer) or [`CANCELED`].
pub(crate) fn next_ticket(t: u32) -> u32 {
    match t.wrapping_add(1) {
        0 | CANCELED => 1,
        n => n,
    }
}

#[repr(C)]
#[derive(Debug, Default)]
struct Offer {
    ticket: AtomicU32,
    src: AtomicPtr<u8>,
    len: AtomicUsize,
}

#[repr(C)]
#[derive(Debug, Default)]
struct Answer {
    matched: AtomicU32,
    nchunks: AtomicU32,
    dst: AtomicPtr<u8>,
    copy_len: AtomicUsize,
    chunk: AtomicUsize,
}

/// The progress words: ticket words (`pip_core::sync::ticket`) of the offer's ticket.
#[repr(C)]
#[derive(Debug)]
struct Progress {
    claimed: AtomicTicket,
    done: AtomicTicket,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            claimed: AtomicTicket::new(Ticket::new(0, 0)),
            done: AtomicTicket::new(Ticket::new(0, 0)),
        }
    }
}

/// A rank's rendezvous control block. See the module documentation.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct RndvCtl {
    offer: CachePadded<Offer>,
    answer: CachePadded<Answer>,
    progress: CachePadded<Progress>,
}

/// Controls per [`CtlBlock`].
pub(crate) const CTLS_PER_BLOCK: usize = 8;

/// A block of a rank's rendezvous controls, linked into the rank's list in the shared block.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct CtlBlock {
    pub(crate) ctls: [RndvCtl; CTLS_PER_BLOCK],
    /// The block linked before this one (null for the first).
    pub(crate) next: AtomicPtr<CtlBlock>,
}

/// The terms of an accepted offer, as both parties read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transfer {
    pub(crate) ticket: u32,
    src: *const u8,
    dst: *mut u8,
    pub(crate) copy_len: usize,
    chunk: usize,
    pub(crate) nchunks: u32,
}

impl Transfer {
    /// The size of a chunk (the last one may be shorter).
    pub(crate) fn chunk_len(&self) -> usize {
        self.chunk.min(self.copy_len)
    }
}

/// What [`RndvCtl::accept`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// The offer is ours to copy.
    Accepted(Transfer),
    /// The sender withdrew it.
    Canceled,
}

impl RndvCtl {
    /// Step 1 (sender): prepares the offer of `src` under `ticket`. The caller publishes the
    /// envelope afterwards.
    pub(crate) fn offer(&self, ticket: u32, src: &[u8]) {
        debug_assert!(ticket != 0 && ticket != CANCELED);
        // SYNC(rendezvous#protocol): step 1: the offer's fields are relaxed; the envelope's SeqCst
        // swap in the eager slot releases them.
        self.offer
            .src
            .store(src.as_ptr().cast_mut(), Ordering::Relaxed);
        self.offer.len.store(src.len(), Ordering::Relaxed);
        self.offer.ticket.store(ticket, Ordering::Relaxed);
        self.answer.matched.store(0, Ordering::Relaxed);
        self.progress
            .claimed
            .store(Ticket::new(ticket, 0), Ordering::Relaxed);
        self.progress
            .done
            .store(Ticket::new(ticket, 0), Ordering::Relaxed);
    }

    /// Step 2 (receiver): accepts the current offer, copying at most `capacity` bytes into
    /// `dst`. When the copy is at least `par_copy_min` bytes it is split in chunks (a quarter
    /// of the copy, within `MIN_CHUNK..=max_chunk`) that the sender may help with; else the
    /// copy is one piece.
    ///
    /// The caller must have acquired the offer's envelope, and the offer must be unanswered.
    pub(crate) fn accept(
        &self,
        dst: *mut u8,
        capacity: usize,
        par_copy_min: usize,
        max_chunk: usize,
    ) -> Accept {
        // SYNC(rendezvous#protocol): step 2: the offer was acquired with the envelope (the slot's
        // acquire load).
        let ticket = self.offer.ticket.load(Ordering::Relaxed);
        let src = self.offer.src.load(Ordering::Relaxed).cast_const();
        let len = self.offer.len.load(Ordering::Relaxed);
        let copy_len = len.min(capacity);
        let chunk = if copy_len >= par_copy_min {
            // Four chunks or more, each at least MIN_CHUNK (measured: smaller chunks cost more
            // in claims than they gain in balance) and at most `max_chunk`.
            (copy_len / 4).clamp(MIN_CHUNK.min(max_chunk), max_chunk.max(1))
        } else {
            copy_len.max(1)
        };
        let nchunks =
            u32::try_from(copy_len.div_ceil(chunk)).expect("message too large for its chunk size");
        // SYNC(rendezvous#protocol): step 2: the answer's fields are relaxed; the CAS on `matched`
        // below releases them.
        self.answer.dst.store(dst, Ordering::Relaxed);
        self.answer.copy_len.store(copy_len, Ordering::Relaxed);
        self.answer.chunk.store(chunk, Ordering::Relaxed);
        self.answer.nchunks.store(nchunks, Ordering::Relaxed);
        // SYNC(rendezvous#protocol): the release pairs with the acquire load in `accepted` (the
        // sender reads the answer fields); the CAS against the sender's `cancel` decides who wins;
        // SeqCst for the sleep/wake handshake (the caller may wake the sender next).
        match self
            .answer
            .matched
            .compare_exchange(0, ticket, Ordering::SeqCst, Ordering::Acquire)
        {
            Ok(_) => Accept::Accepted(Transfer {
                ticket,
                src,
                dst,
                copy_len,
                chunk,
                nchunks,
            }),
            Err(CANCELED) => Accept::Canceled,
            Err(other) => unreachable!("rendezvous offer {ticket} already answered with {other}"),
        }
    }

    /// Sender, when aborting: withdraws the offer unless it was accepted. True if withdrawn.
    pub(crate) fn cancel(&self) -> bool {
        // SYNC(rendezvous#protocol): races with the CAS in `accept`; exactly one of them moves
        // `matched` from 0.
        self.answer
            .matched
            .compare_exchange(0, CANCELED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// True once the offer was withdrawn. A withdrawn control is never reused, so this stays
    /// true: a receiver that finds it so drops the envelope.
    pub(crate) fn is_withdrawn(&self) -> bool {
        // SYNC(rendezvous#protocol): abort and cancel: pairs with the sender's CAS in `cancel` (a
        // withdrawn offer stays withdrawn).
        self.answer.matched.load(Ordering::Acquire) == CANCELED
    }

    /// Sender: the transfer, once the receiver has accepted offer `ticket`.
    pub(crate) fn accepted(&self, ticket: u32) -> Option<Transfer> {
        // SYNC(rendezvous#protocol): pairs with the release CAS in `accept`.
        if self.answer.matched.load(Ordering::Acquire) != ticket {
            return None;
        }
        Some(Transfer {
            ticket,
            src: self.offer.src.load(Ordering::Relaxed),
            dst: self.answer.dst.load(Ordering::Relaxed),
            copy_len: self.answer.copy_len.load(Ordering::Relaxed),
            chunk: self.answer.chunk.load(Ordering::Relaxed),
            nchunks: self.answer.nchunks.load(Ordering::Relaxed),
        })
    }

    /// Step 3 (either party): claims one chunk of `t` and copies it. Returns `None` when no
    /// chunk is left to claim, `Some(true)` when this copy completed the transfer (the caller
    /// then wakes the other party), `Some(false)` otherwise.
    pub(crate) fn copy_one_chunk(&self, t: &Transfer) -> Option<bool> {
        // SYNC(rendezvous#protocol): step 3: chunk numbers are handed out by the CAS on `claimed`
        // (relaxed: the transfer's terms were acquired before).
        let mut cur = self.progress.claimed.load(Ordering::Relaxed);
        let index = loop {
            if cur.ticket() != t.ticket || cur.count() >= t.nchunks {
                return None;
            }
            match self.progress.claimed.compare_exchange_weak(
                cur,
                cur.with_count(cur.count() + 1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break cur.count() as usize,
                Err(now) => cur = now,
            }
        };
        let offset = index * t.chunk;
        let n = t.chunk.min(t.copy_len - offset);
        // SAFETY: the sender's buffer holds at least `copy_len` bytes and stays borrowed until
        // `done` reaches `nchunks` (step 4); the receiver's buffer holds at least `copy_len`
        // bytes and is exclusively borrowed for the receive; the claim gives this chunk to us
        // alone; sender and receiver buffers are distinct borrows, so they do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(t.src.add(offset), t.dst.add(offset), n) };
        // SYNC(rendezvous#protocol): releases the copied bytes to whoever sees the count complete
        // (acquire loads in `is_complete`); SeqCst for the sleep/wake handshake with the other
        // party.
        let before = self.progress.done.fetch_add_count(1, Ordering::SeqCst);
        debug_assert_eq!(before.ticket(), t.ticket);
        Some(before.count() + 1 == t.nchunks)
    }

    /// Step 4: true when transfer `t` is complete (or, for the receiver, superseded).
    pub(crate) fn is_complete(&self, t: &Transfer) -> bool {
        // SYNC(rendezvous#protocol): pairs with the SeqCst increments in `copy_one_chunk`.
        let d = self.progress.done.load(Ordering::SeqCst);
        d.ticket() != t.ticket || d.count() == t.nchunks
    }

    /// True when a chunk of `t` is still unclaimed.
    pub(crate) fn has_unclaimed(&self, t: &Transfer) -> bool {
        // SYNC(rendezvous#protocol): step 3: the SeqCst loads are the sender's re-check before it
        // sleeps (the bell's handshake).
        let c = self.progress.claimed.load(Ordering::SeqCst);
        c.ticket() == t.ticket && c.count() < t.nchunks
    }

    /// Sender: true once offer `ticket` has been answered (accepted or not).
    pub(crate) fn is_answered(&self, ticket: u32) -> bool {
        // SYNC(rendezvous#protocol): step 2: the SeqCst load pairs with the receiver's CAS in
        // `accept`, as the sender's re-check before sleeping.
        self.answer.matched.load(Ordering::SeqCst) == ticket
    }
}

// SAFETY: a `Transfer` is a description of buffers that the protocol above keeps alive and
// exclusively reserved while it is in use; the raw pointers are only dereferenced in
// `copy_one_chunk`, under that protocol.
unsafe impl Send for Transfer {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_skip_reserved_values() {
        assert_eq!(next_ticket(0), 1);
        assert_eq!(next_ticket(41), 42);
        assert_eq!(next_ticket(CANCELED - 1), 1);
        assert_eq!(next_ticket(CANCELED), 1);
    }

    #[test]
    fn one_party_copies_everything_in_chunks() {
        let ctl = RndvCtl::default();
        let src: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut dst = vec![0u8; 10_000];
        ctl.offer(5, &src);
        let Accept::Accepted(t) = ctl.accept(dst.as_mut_ptr(), dst.len(), 1000, 4096) else {
            panic!()
        };
        assert_eq!((t.nchunks, t.copy_len), (3, 10_000));
        assert_eq!(ctl.accepted(5), Some(t));
        assert!(!ctl.is_complete(&t));
        assert_eq!(ctl.copy_one_chunk(&t), Some(false));
        assert_eq!(ctl.copy_one_chunk(&t), Some(false));
        assert!(ctl.has_unclaimed(&t));
        assert_eq!(ctl.copy_one_chunk(&t), Some(true));
        assert_eq!(ctl.copy_one_chunk(&t), None);
        assert!(ctl.is_complete(&t));
        assert_eq!(src, dst);
    }

    #[test]
    fn short_buffers_truncate_and_small_copies_are_one_piece() {
        let ctl = RndvCtl::default();
        let src = vec![7u8; 500];
        let mut dst = vec![0u8; 100];
        ctl.offer(1, &src);
        let Accept::Accepted(t) = ctl.accept(dst.as_mut_ptr(), dst.len(), 1000, 64) else {
            panic!()
        };
        assert_eq!((t.nchunks, t.copy_len), (1, 100));
        assert_eq!(ctl.copy_one_chunk(&t), Some(true));
        assert_eq!(dst, vec![7u8; 100]);
        // A zero-byte copy is complete at once.
        ctl.offer(2, &src);
        let Accept::Accepted(t) = ctl.accept(dst.as_mut_ptr(), 0, 1000, 64) else {
            panic!()
        };
        assert_eq!(t.nchunks, 0);
        assert!(ctl.is_complete(&t));
        assert_eq!(ctl.copy_one_chunk(&t), None);
    }

    #[test]
    fn cancel_and_accept_exclude_each_other() {
        let ctl = RndvCtl::default();
        let src = vec![1u8; 10];
        let mut dst = vec![0u8; 10];
        ctl.offer(3, &src);
        assert!(ctl.cancel());
        assert_eq!(ctl.accept(dst.as_mut_ptr(), 10, 100, 64), Accept::Canceled);
        ctl.offer(4, &src);
        assert!(matches!(
            ctl.accept(dst.as_mut_ptr(), 10, 100, 64),
            Accept::Accepted(_)
        ));
        assert!(!ctl.cancel());
    }

    #[test]
    fn a_new_offer_completes_the_old_transfer_for_the_receiver() {
        let ctl = RndvCtl::default();
        let src = vec![1u8; 10];
        let mut dst = vec![0u8; 10];
        ctl.offer(8, &src);
        let Accept::Accepted(t) = ctl.accept(dst.as_mut_ptr(), 10, 100, 64) else {
            panic!()
        };
        assert_eq!(ctl.copy_one_chunk(&t), Some(true));
        ctl.offer(9, &src);
        assert!(ctl.is_complete(&t));
        assert_eq!(ctl.copy_one_chunk(&t), None);
    }
}
