//! Point-to-point messaging: blocking send and receive, in the style of rsmpi.
//!
//! `world.process_at_rank(r)` names a peer ([`Process`]); `world.any_process()` names any
//! ([`AnyProcess`]). Sends go eagerly through a ring slot up to
//! [`Communicator::eager_limit`] bytes, and by single-copy rendezvous above it (the send then
//! returns once the receiver has copied the data). A send to oneself is buffered. Receives
//! follow MPI matching ([`crate::matching`]).

use crate::datatype::{bytes_of, Buffer, BufferMut, Equivalence};
use crate::eager::{Envelope, Slot, EAGER, RNDV};
use crate::matching::{Body, Filter, Pending};
use crate::rendezvous::{next_ticket, Accept, Transfer};
use crate::wait::{self, Backoff, Step};
use crate::world::Communicator;
use crate::{Error, Result};
use std::ptr::NonNull;

/// A rank number. Ranks of a communicator of size `n` are `0..n`.
pub type Rank = i32;

/// A message tag: `0..=MAX_TAG`, or [`ANY_TAG`] in a receive.
pub type Tag = i32;

/// Receive from any source (as `process_at_rank(ANY_SOURCE)`; [`Communicator::any_process`]
/// says the same).
pub const ANY_SOURCE: Rank = -2;

/// Receive with any tag.
pub const ANY_TAG: Tag = -1;

/// The largest user tag. Larger tags are reserved for pip-comm itself.
pub const MAX_TAG: Tag = (1 << 30) - 1;

/// What a completed receive got: from whom, with which tag, how many elements.
///
/// ```
/// pip_comm::run(2, |world| {
///     if world.rank() == 0 {
///         world.process_at_rank(1).send_with_tag(&[1u16, 2, 3], 9).unwrap();
///     } else {
///         let mut buf = [0u16; 8];
///         let status = world.any_process().receive_into(&mut buf[..]).unwrap();
///         assert_eq!(status, pip_comm::Status { source: 0, tag: 9, count: 3 });
///     }
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status {
    /// The sender's rank.
    pub source: Rank,
    /// The message's tag.
    pub tag: Tag,
    /// The number of elements received (of the receive's element type).
    pub count: usize,
}

impl Status {
    /// The sender's rank (rsmpi's name).
    pub fn source_rank(&self) -> Rank {
        self.source
    }

    /// The message's tag.
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// The number of elements received.
    pub fn count(&self) -> usize {
        self.count
    }
}

/// A matched message, not yet copied into its receive buffer.
#[derive(Debug)]
pub(crate) struct Matched {
    source: u32,
    tag: Tag,
    len: usize,
    from: Origin,
}

#[derive(Debug)]
enum Origin {
    /// In an eager slot that is still full (released after the copy).
    Slot(Slot),
    /// In the unexpected queue's heap copy.
    Heap(Vec<u8>),
    /// In the sender's buffer, offered for rendezvous.
    Rndv,
}

impl Communicator {
    /// Names the peer `rank`: the destination of sends and the source of receives.
    /// [`ANY_SOURCE`] gives a receive-only wildcard, like [`Communicator::any_process`].
    /// Ranks are checked when used, with [`Error::RankOutOfRange`].
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     let peer = world.process_at_rank(1 - world.rank());
    ///     peer.send(&world.rank()).unwrap();
    ///     let (v, _) = peer.receive::<i32>().unwrap();
    ///     assert_eq!(v, 1 - world.rank());
    ///     assert!(world.process_at_rank(5).send(&0u8).is_err());
    /// })
    /// .unwrap();
    /// ```
    pub fn process_at_rank(&self, rank: Rank) -> Process<'_> {
        Process { comm: self, rank }
    }

    /// Names any source, for receives that take the first matching message from anyone.
    pub fn any_process(&self) -> AnyProcess<'_> {
        AnyProcess { comm: self }
    }

    /// This rank itself (sends to oneself are buffered, never blocking).
    pub fn this_process(&self) -> Process<'_> {
        Process {
            comm: self,
            rank: self.rank(),
        }
    }

    fn destination(&self, rank: Rank) -> Result<u32> {
        if (0..self.size()).contains(&rank) {
            Ok(rank as u32)
        } else {
            Err(Error::RankOutOfRange {
                rank,
                size: self.size(),
            })
        }
    }

    fn source_filter(&self, rank: Rank, tag: Tag) -> Result<Filter> {
        if rank != crate::ANY_SOURCE && !(0..self.size()).contains(&rank) {
            return Err(Error::RankOutOfRange {
                rank,
                size: self.size(),
            });
        }
        if tag != ANY_TAG && !(0..=MAX_TAG).contains(&tag) {
            return Err(Error::InvalidTag { tag });
        }
        Ok(Filter { source: rank, tag })
    }

    // --- Sending --------------------------------------------------------------------------------

    fn send_typed<T: Equivalence>(&self, rank: Rank, tag: Tag, data: &[T]) -> Result<()> {
        let dst = self.destination(rank)?;
        if !(0..=MAX_TAG).contains(&tag) {
            return Err(Error::InvalidTag { tag });
        }
        self.send_bytes(dst, tag, bytes_of(data))
    }

    /// Sends `data` to `dst` with `tag` (both checked).
    pub(crate) fn send_bytes(&self, dst: u32, tag: Tag, data: &[u8]) -> Result<()> {
        if dst == self.me {
            let len = data.len();
            self.unexpected.borrow_mut().push(Pending {
                source: dst as Rank,
                tag,
                len,
                body: Body::Eager(data.to_vec()),
            });
            return Ok(());
        }
        let slot = self.free_slot(dst)?;
        if data.len() as u64 <= self.params.eager_max {
            // SAFETY: we are the ring's producer and `free_slot` saw the slot empty; the data
            // fits the slot.
            unsafe { slot.publish_eager(tag, data) };
            self.send_seq[dst as usize].set(self.send_seq[dst as usize].get().wrapping_add(1));
            wait::wake_rank(self.shared(), dst);
            Ok(())
        } else {
            self.send_rendezvous(dst, tag, data, slot)
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
                true,
                || (!slot.is_full()).then_some(()),
                || !slot.is_full_seqcst(),
            )?;
        }
        Ok(slot)
    }

    fn send_rendezvous(&self, dst: u32, tag: Tag, data: &[u8], slot: Slot) -> Result<()> {
        let ticket = next_ticket(self.ticket.get());
        self.ticket.set(ticket);
        let ctl = &self.shared().rank(self.me).rndv;
        ctl.offer(ticket, data);
        // SAFETY: as in `send_bytes`; a rendezvous envelope carries no data.
        unsafe { slot.publish_rndv(tag, data.len()) };
        self.send_seq[dst as usize].set(self.send_seq[dst as usize].get().wrapping_add(1));
        wait::wake_rank(self.shared(), dst);

        let help = data.len() as u64 >= self.params.par_copy_min;
        let mut transfer: Option<Transfer> = None;
        let mut poll = || {
            if transfer.is_none() {
                transfer = ctl.accepted(ticket);
            }
            let t = transfer.as_ref()?;
            if help {
                if let Some(last) = ctl.copy_one_chunk(t) {
                    if last {
                        wait::wake_rank(self.shared(), dst);
                        return Some(());
                    }
                    return None;
                }
            }
            ctl.is_complete(t).then_some(())
        };
        let ready = || {
            ctl.is_answered(ticket)
                && ctl
                    .accepted(ticket)
                    .is_some_and(|t| ctl.is_complete(&t) || (help && ctl.has_unclaimed(&t)))
        };
        match self.wait_until(true, &mut poll, ready) {
            Ok(()) => Ok(()),
            Err(e) => {
                if ctl.cancel() {
                    return Err(e);
                }
                // Accepted before we could withdraw it: the receiver is copying from our
                // buffer, so finish the transfer before returning (it never blocks for long).
                self.wait_until(false, &mut poll, ready)
            }
        }
    }

    // --- Receiving ------------------------------------------------------------------------------

    /// Receives into `buf` a message that `filter` accepts.
    fn receive_into_filter<T: Equivalence>(&self, filter: Filter, buf: &mut [T]) -> Result<Status> {
        let m = self.wait_until(true, || self.poll(filter), || false)?;
        let (source, tag, len) = (m.source, m.tag, m.len);
        // SAFETY: `buf` is an exclusively borrowed slice of `size_of_val(buf)` bytes, and any
        // bytes are valid `T`s.
        unsafe { self.deliver(m, buf.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(buf))? };
        status::<T>(source, tag, len, buf.len())
    }

    /// Receives a message that `filter` accepts into a new `Vec` of its length.
    fn receive_vec_filter<T: Equivalence>(&self, filter: Filter) -> Result<(Vec<T>, Status)> {
        let m = self.wait_until(true, || self.poll(filter), || false)?;
        let (source, tag, len) = (m.source, m.tag, m.len);
        let size = std::mem::size_of::<T>();
        let count = len.checked_div(size).unwrap_or(0);
        let mut v: Vec<T> = Vec::with_capacity(count);
        // SAFETY: the spare capacity holds `count * size` bytes; any bytes are valid `T`s.
        unsafe {
            self.deliver(m, v.as_mut_ptr().cast::<u8>(), count * size)?;
            v.set_len(count);
        }
        // A Vec is never too short; a trailing partial element is the only possible error.
        status::<T>(source, tag, len, len.div_ceil(size.max(1))).map(|s| (v, s))
    }

    /// Polls once for a message that `filter` accepts: the unexpected queue first, then the
    /// rings (moving messages that do not match to the unexpected queue).
    fn poll(&self, filter: Filter) -> Option<Matched> {
        if !self.unexpected.borrow().is_empty() {
            if let Some(p) = self.unexpected.borrow_mut().take(filter) {
                let from = match p.body {
                    Body::Eager(v) => Origin::Heap(v),
                    Body::Rndv => Origin::Rndv,
                };
                return Some(Matched {
                    source: p.source as u32,
                    tag: p.tag,
                    len: p.len,
                    from,
                });
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

    /// The slot holding the next message from `src`, and its envelope, if one has arrived.
    #[inline]
    fn head(&self, src: u32) -> Option<(Slot, Envelope)> {
        let ring = self.in_ring(src)?;
        // SAFETY: the ring was allocated for this world's parameters.
        let slot = unsafe { Slot::at(ring, self.recv_seq[src as usize].get(), &self.params) };
        slot.peek().map(|env| (slot, env))
    }

    fn poll_ring(&self, src: u32, filter: Filter) -> Option<Matched> {
        loop {
            let (slot, env) = self.head(src)?;
            self.recv_seq[src as usize].set(self.recv_seq[src as usize].get().wrapping_add(1));
            if filter.accepts(src as Rank, env.tag) {
                let from = if env.kind == EAGER {
                    Origin::Slot(slot)
                } else {
                    debug_assert_eq!(env.kind, RNDV);
                    self.release(src, slot);
                    Origin::Rndv
                };
                return Some(Matched {
                    source: src,
                    tag: env.tag,
                    len: env.len,
                    from,
                });
            }
            self.stash(src, slot, env);
        }
    }

    /// Moves the message in `slot` (already counted as taken) to the unexpected queue.
    fn stash(&self, src: u32, slot: Slot, env: Envelope) {
        let body = if env.kind == EAGER {
            // SAFETY: a full eager slot of `env.len` bytes, not yet released.
            Body::Eager(unsafe { slot.data(env.len) }.to_vec())
        } else {
            Body::Rndv
        };
        self.release(src, slot);
        self.unexpected.borrow_mut().push(Pending {
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

    /// Moves every message waiting in this rank's rings to the unexpected queue, so that no
    /// sender stays blocked on a full ring while this rank waits for something else.
    fn drain_all(&self) {
        for src in 0..self.n {
            if src == self.me {
                continue;
            }
            while let Some((slot, env)) = self.head(src) {
                self.recv_seq[src as usize].set(self.recv_seq[src as usize].get().wrapping_add(1));
                self.stash(src, slot, env);
            }
        }
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
    unsafe fn deliver(&self, m: Matched, dst: *mut u8, capacity: usize) -> Result<usize> {
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
            Origin::Rndv => self.receive_rendezvous(m.source, dst, capacity),
        }
    }

    fn receive_rendezvous(&self, src: u32, dst: *mut u8, capacity: usize) -> Result<usize> {
        let ctl = &self.shared().rank(src).rndv;
        let par_min = self.params.par_copy_min as usize;
        let t = match ctl.accept(dst, capacity, par_min, self.params.chunk as usize) {
            Accept::Accepted(t) => t,
            Accept::Canceled => {
                return Err(Error::Aborted {
                    rank: self.shared().aborted_by().unwrap_or(src) as crate::Rank,
                })
            }
        };
        if t.nchunks == 0 || t.copy_len >= par_min {
            // The sender may sleep: it is done (nothing to copy) or may help copy.
            wait::wake_rank(self.shared(), src);
        }
        while let Some(last) = ctl.copy_one_chunk(&t) {
            if last {
                wait::wake_rank(self.shared(), src);
                break;
            }
        }
        // Wait for chunks the sender claimed; never abandoned, even if the world aborts.
        self.wait_until(
            false,
            || ctl.is_complete(&t).then_some(()),
            || ctl.is_complete(&t),
        )?;
        Ok(t.copy_len)
    }

    // --- Waiting --------------------------------------------------------------------------------

    /// Polls until `poll` gives a value: spins, then yields, then sleeps (see [`crate::wait`]).
    /// While yielding or sleeping it drains the rings, and it sleeps only while neither
    /// `ready()` nor an incoming message nor (if `abortable`) an abort says to look again.
    ///
    /// Returns [`Error::Aborted`] when `abortable` and a rank of the world panicked.
    pub(crate) fn wait_until<T>(
        &self,
        abortable: bool,
        mut poll: impl FnMut() -> Option<T>,
        ready: impl Fn() -> bool,
    ) -> Result<T> {
        let mut backoff = Backoff::new(self.policy);
        loop {
            if let Some(v) = poll() {
                return Ok(v);
            }
            match backoff.step() {
                Step::Spin => std::hint::spin_loop(),
                Step::Yield => {
                    if abortable {
                        self.check_aborted()?;
                    }
                    self.drain_all();
                    pip_core::yield_now();
                }
                Step::Sleep => {
                    if abortable {
                        self.check_aborted()?;
                    }
                    self.drain_all();
                    if let Some(v) = poll() {
                        return Ok(v);
                    }
                    wait::sleep_unless(self.shared(), self.me, || ready() || self.has_incoming());
                }
            }
        }
    }
}

/// The status of a receive of `len` bytes into `capacity` elements of `T`, or the error it
/// amounts to.
fn status<T>(source: u32, tag: Tag, len: usize, capacity: usize) -> Result<Status> {
    let size = std::mem::size_of::<T>();
    let source = source as Rank;
    if size == 0 {
        return Ok(Status {
            source,
            tag,
            count: 0,
        });
    }
    if len > capacity * size {
        return Err(Error::Truncated {
            sender: source,
            tag,
            message_len: len.div_ceil(size),
            buffer_len: capacity,
        });
    }
    if len % size != 0 {
        return Err(Error::PartialElement {
            sender: source,
            tag,
            message_bytes: len,
            element_size: size,
        });
    }
    Ok(Status {
        source,
        tag,
        count: len / size,
    })
}

/// A peer rank, named by [`Communicator::process_at_rank`]: send to it, receive from it.
#[derive(Debug, Clone, Copy)]
pub struct Process<'a> {
    comm: &'a Communicator,
    rank: Rank,
}

impl Process<'_> {
    /// The peer's rank.
    pub fn rank(&self) -> Rank {
        self.rank
    }

    /// Sends `buf` with tag 0. Returns once `buf` may be reused: at once for messages up to
    /// [`Communicator::eager_limit`] bytes, after the receiver has copied it for larger ones.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], or [`Error::Aborted`] if another rank panicked meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     if world.rank() == 0 {
    ///         world.process_at_rank(1).send(&vec![7u8; 100_000]).unwrap();
    ///     } else {
    ///         let (v, _) = world.process_at_rank(0).receive_vec::<u8>().unwrap();
    ///         assert_eq!(v, vec![7u8; 100_000]);
    ///     }
    /// })
    /// .unwrap();
    /// ```
    pub fn send<B: Buffer + ?Sized>(&self, buf: &B) -> Result<()> {
        self.send_with_tag(buf, 0)
    }

    /// Sends `buf` with `tag` (`0..=MAX_TAG`); otherwise as [`Process::send`].
    ///
    /// # Errors
    ///
    /// As [`Process::send`], and [`Error::InvalidTag`].
    pub fn send_with_tag<B: Buffer + ?Sized>(&self, buf: &B, tag: Tag) -> Result<()> {
        self.comm.send_typed(self.rank, tag, buf.as_slice())
    }

    /// Receives the next message from this peer, whatever its tag, into `buf`. A shorter
    /// message fills the start of `buf` (see [`Status::count`]).
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] if the message is longer than `buf` (it is consumed, `buf` holds
    /// its start), [`Error::PartialElement`], [`Error::RankOutOfRange`], [`Error::Aborted`].
    pub fn receive_into<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<Status> {
        self.receive_into_with_tag(buf, ANY_TAG)
    }

    /// Receives the next message from this peer with `tag` (or [`ANY_TAG`]) into `buf`.
    ///
    /// # Errors
    ///
    /// As [`Process::receive_into`], and [`Error::InvalidTag`].
    pub fn receive_into_with_tag<B: BufferMut + ?Sized>(
        &self,
        buf: &mut B,
        tag: Tag,
    ) -> Result<Status> {
        let filter = self.comm.source_filter(self.rank, tag)?;
        self.comm.receive_into_filter(filter, buf.as_mut_slice())
    }

    /// Receives the next message from this peer, whatever its tag, into a new `Vec`.
    ///
    /// # Errors
    ///
    /// [`Error::PartialElement`], [`Error::RankOutOfRange`], [`Error::Aborted`].
    pub fn receive_vec<T: Equivalence>(&self) -> Result<(Vec<T>, Status)> {
        self.receive_vec_with_tag(ANY_TAG)
    }

    /// Receives the next message from this peer with `tag` (or [`ANY_TAG`]) into a new `Vec`.
    ///
    /// # Errors
    ///
    /// As [`Process::receive_vec`], and [`Error::InvalidTag`].
    pub fn receive_vec_with_tag<T: Equivalence>(&self, tag: Tag) -> Result<(Vec<T>, Status)> {
        let filter = self.comm.source_filter(self.rank, tag)?;
        self.comm.receive_vec_filter(filter)
    }

    /// Receives one value from this peer, whatever the tag.
    ///
    /// # Errors
    ///
    /// As [`Process::receive_into`]. An empty message gives a zero value with `count == 0`.
    pub fn receive<T: Equivalence>(&self) -> Result<(T, Status)> {
        let mut v = zeroed::<T>();
        let s = self.receive_into(&mut v)?;
        Ok((v, s))
    }
}

/// Any rank, named by [`Communicator::any_process`]: receive the first matching message from
/// whoever sent it.
#[derive(Debug, Clone, Copy)]
pub struct AnyProcess<'a> {
    comm: &'a Communicator,
}

impl AnyProcess<'_> {
    /// Receives the next message from any rank with any tag into `buf`.
    ///
    /// # Errors
    ///
    /// As [`Process::receive_into`].
    pub fn receive_into<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<Status> {
        self.receive_into_with_tag(buf, ANY_TAG)
    }

    /// Receives the next message from any rank with `tag` (or [`ANY_TAG`]) into `buf`.
    ///
    /// # Errors
    ///
    /// As [`Process::receive_into_with_tag`].
    pub fn receive_into_with_tag<B: BufferMut + ?Sized>(
        &self,
        buf: &mut B,
        tag: Tag,
    ) -> Result<Status> {
        self.comm
            .process_at_rank(crate::ANY_SOURCE)
            .receive_into_with_tag(buf, tag)
    }

    /// Receives the next message from any rank with any tag into a new `Vec`.
    ///
    /// # Errors
    ///
    /// As [`Process::receive_vec`].
    pub fn receive_vec<T: Equivalence>(&self) -> Result<(Vec<T>, Status)> {
        self.receive_vec_with_tag(ANY_TAG)
    }

    /// Receives the next message from any rank with `tag` (or [`ANY_TAG`]) into a new `Vec`.
    ///
    /// # Errors
    ///
    /// As [`Process::receive_vec_with_tag`].
    pub fn receive_vec_with_tag<T: Equivalence>(&self, tag: Tag) -> Result<(Vec<T>, Status)> {
        self.comm
            .process_at_rank(crate::ANY_SOURCE)
            .receive_vec_with_tag(tag)
    }

    /// Receives one value from any rank, whatever the tag.
    ///
    /// # Errors
    ///
    /// As [`Process::receive`].
    pub fn receive<T: Equivalence>(&self) -> Result<(T, Status)> {
        self.comm.process_at_rank(crate::ANY_SOURCE).receive()
    }
}

fn zeroed<T: Equivalence>() -> T {
    // SAFETY: every bit pattern, all zeros included, is a valid `T: Equivalence`.
    unsafe { std::mem::zeroed() }
}
