//! Point-to-point messaging in the style of rsmpi: blocking send and receive, synchronous
//! send, probe, send-receive, and ownership transfer of a `Vec`.
//!
//! `world.process_at_rank(r)` names a peer ([`Process`]); `world.any_process()` names any
//! ([`AnyProcess`]). Sends go eagerly through a ring slot up to
//! [`Communicator::eager_limit`] bytes, and by single-copy rendezvous above it (the send then
//! returns once the receiver has copied the data). A send to oneself is buffered. Receives
//! follow MPI matching ([`crate::matching`]). Non-blocking operations are in
//! the `request` module (`pip_comm::request`).

use crate::datatype::{bytes_of, Buffer, BufferMut, Equivalence};
use crate::endpoint::{Arrived, Mode, Origin};
use crate::matching::Filter;
use crate::owned::{OwnedVec, SendVecError};
use crate::watchdog::What;
use crate::world::Communicator;
use crate::{Error, Result};

pub use crate::rank::{Rank, Tag, ANY_SOURCE, ANY_TAG, MAX_TAG};

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

/// What a probe found: a message that a receive would get next, still waiting to be received.
///
/// ```
/// pip_comm::run(2, |world| {
///     if world.rank() == 0 {
///         world.process_at_rank(1).send_with_tag(&[1u32, 2, 3], 4).unwrap();
///     } else {
///         let p = world.any_process().probe().unwrap();
///         assert_eq!((p.source, p.tag, p.bytes), (0, 4, 12));
///         assert_eq!(p.count::<u32>(), Some(3));
///         let mut buf = vec![0u32; p.count::<u32>().unwrap()];
///         world.process_at_rank(p.source).receive_into(&mut buf[..]).unwrap();
///     }
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeStatus {
    /// The sender's rank.
    pub source: Rank,
    /// The message's tag.
    pub tag: Tag,
    /// The message's length in bytes.
    pub bytes: usize,
}

impl ProbeStatus {
    /// The message's length in elements of `T`, or `None` if it is not a whole number of them.
    pub fn count<T: Equivalence>(&self) -> Option<usize> {
        match std::mem::size_of::<T>() {
            0 => Some(0),
            size => (self.bytes % size == 0).then_some(self.bytes / size),
        }
    }
}

impl Communicator {
    /// Names the peer `rank`: the destination of sends and the source of receives.
    /// [`ANY_SOURCE`] gives a receive-only wildcard, like [`Communicator::any_process`].
    /// Ranks are checked when used, with [`Error::RankOutOfRange`] (and
    /// [`Error::AnySourceNotAllowed`] for [`ANY_SOURCE`] as a send's destination or a root).
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

    /// The world rank of destination `rank` of this communicator (checked).
    pub(crate) fn destination(&self, rank: Rank) -> Result<u32> {
        if (0..self.size()).contains(&rank) {
            Ok(self.world_rank(rank as u32))
        } else {
            Err(Error::RankOutOfRange {
                rank,
                size: self.size(),
            })
        }
    }

    /// A send's world destination, with the tag checked.
    pub(crate) fn send_target(&self, rank: Rank, tag: Tag) -> Result<u32> {
        if rank == ANY_SOURCE {
            return Err(Error::AnySourceNotAllowed {
                what: "the destination of a send",
                size: self.size(),
            });
        }
        let dst = self.destination(rank)?;
        if !(0..=MAX_TAG).contains(&tag) {
            return Err(Error::InvalidTag { tag });
        }
        Ok(dst)
    }

    /// The filter of a receive from `rank` (or [`ANY_SOURCE`]) with `tag` (or [`ANY_TAG`]) on
    /// this communicator.
    pub(crate) fn source_filter(&self, rank: Rank, tag: Tag) -> Result<Filter> {
        let source = if rank == ANY_SOURCE {
            ANY_SOURCE
        } else {
            self.destination(rank)? as Rank
        };
        if tag != ANY_TAG && !(0..=MAX_TAG).contains(&tag) {
            return Err(Error::InvalidTag { tag });
        }
        Ok(Filter {
            ctx: self.ctx,
            source,
            tag,
        })
    }

    /// Sends `data` to `rank` with `tag` (checked) in `mode`.
    fn send_typed<T: Equivalence>(
        &self,
        rank: Rank,
        tag: Tag,
        data: &[T],
        mode: Mode,
    ) -> Result<()> {
        let dst = self.send_target(rank, tag)?;
        if mode == Mode::Synchronous && dst == self.ep.me {
            return self.synchronous_send_to_self(tag, bytes_of(data));
        }
        self.ep.send(dst, self.ctx, tag, bytes_of(data), mode)
    }

    /// A synchronous send to oneself completes only if a posted receive takes it now;
    /// anything else could never complete.
    fn synchronous_send_to_self(&self, tag: Tag, data: &[u8]) -> Result<()> {
        let me = self.ep.me as Rank;
        let posted = self
            .ep
            .posted
            .borrow()
            .iter()
            .any(|p| p.filter.accepts(self.ctx, me, tag));
        if !posted {
            return Err(Error::SynchronousSendToSelf { tag });
        }
        self.ep
            .send(self.ep.me, self.ctx, tag, data, Mode::Standard)
    }

    /// Receives into `buf` a message that `filter` accepts.
    fn receive_into_filter<T: Equivalence>(&self, filter: Filter, buf: &mut [T]) -> Result<Status> {
        // SAFETY: `buf` is an exclusively borrowed slice of `size_of_val(buf)` bytes, and any
        // bytes are valid `T`s.
        let a = unsafe {
            self.ep.receive(
                filter,
                buf.as_mut_ptr().cast::<u8>(),
                std::mem::size_of_val(buf),
            )?
        };
        self.status_of::<T>(a, buf.len())
    }

    /// The status of a receive into `capacity` elements of `T` that got `a`.
    pub(crate) fn status_of<T>(&self, a: Arrived, capacity: usize) -> Result<Status> {
        status_sized(
            self.local_rank(a.source),
            a.tag,
            a.len,
            capacity,
            std::mem::size_of::<T>(),
        )
    }

    /// Receives a message that `filter` accepts into a new `Vec` of its length (the sender's
    /// own `Vec` when it was handed over with `send_vec`).
    pub(crate) fn receive_vec_filter<T: Equivalence>(
        &self,
        filter: Filter,
    ) -> Result<(Vec<T>, Status)> {
        let m = self.ep.receive_matched(filter)?;
        let (source, tag, len) = (self.local_rank(m.source), m.tag, m.len);
        let size = std::mem::size_of::<T>();
        let m = match m.from {
            Origin::Owned(o) => match o.into_vec::<T>() {
                Ok(v) => {
                    let count = v.len();
                    return Ok((v, Status { source, tag, count }));
                }
                Err(o) => crate::endpoint::Matched {
                    from: Origin::Owned(o),
                    ..m
                },
            },
            _ => m,
        };
        let count = len.checked_div(size).unwrap_or(0);
        let mut v: Vec<T> = Vec::with_capacity(count);
        // SAFETY: the spare capacity holds `count * size` bytes; any bytes are valid `T`s.
        unsafe {
            self.ep
                .deliver(m, v.as_mut_ptr().cast::<u8>(), count * size)?;
            v.set_len(count);
        }
        // A Vec is never too short; a trailing partial element is the only possible error.
        status_sized(source, tag, len, len.div_ceil(size.max(1)), size).map(|s| (v, s))
    }

    fn iprobe_filter(&self, filter: Filter) -> Option<ProbeStatus> {
        self.ep
            .iprobe(filter)
            .map(|(source, tag, bytes)| ProbeStatus {
                source: self.local_rank(source),
                tag,
                bytes,
            })
    }

    fn probe_filter(&self, filter: Filter) -> Result<ProbeStatus> {
        self.ep.wait_until(
            What::Probe(filter),
            true,
            || self.iprobe_filter(filter),
            || false,
        )
    }

    fn send_vec_typed<T: Equivalence>(
        &self,
        rank: Rank,
        tag: Tag,
        vec: Vec<T>,
    ) -> std::result::Result<(), SendVecError<T>> {
        let dst = match self.send_target(rank, tag) {
            Ok(d) => d,
            Err(error) => return Err(SendVecError { error, vec }),
        };
        if !self.ep.shared_allocator {
            return Err(SendVecError {
                error: Error::OwnershipTransferUnavailable,
                vec,
            });
        }
        if std::mem::size_of::<T>() == 0 {
            return self
                .ep
                .send(dst, self.ctx, tag, &[], Mode::Standard)
                .map_err(|error| SendVecError { error, vec });
        }
        let len = std::mem::size_of_val(&vec[..]);
        if dst == self.ep.me {
            self.ep.arrived_self(crate::matching::Pending {
                ctx: self.ctx,
                source: dst as Rank,
                tag,
                len,
                body: crate::matching::Body::Owned(OwnedVec::from_vec(vec)),
            });
            return Ok(());
        }
        let desc = OwnedVec::from_vec(vec).desc();
        self.ep
            .send_owned(dst, self.ctx, tag, len, &desc)
            .map_err(|error| SendVecError {
                error,
                vec: OwnedVec::from_desc(&desc)
                    .into_vec::<T>()
                    .unwrap_or_else(|_| unreachable!("the parts of a Vec<T>")),
            })
    }

    /// Sends `send_buf` to `dest` with `send_tag` and receives into `recv_buf` from `source`
    /// (or [`ANY_SOURCE`]) with `recv_tag` (or [`ANY_TAG`]), as MPI's `MPI_Sendrecv`: the
    /// receive is posted before the send starts, so two ranks may exchange messages of any size
    /// with each other this way without deadlock.
    ///
    /// # Errors
    ///
    /// As [`Process::send_with_tag`] and [`Process::receive_into_with_tag`].
    ///
    /// # Examples
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     let other = 1 - world.rank();
    ///     let mine = vec![world.rank() as u8; 1 << 20];
    ///     let mut theirs = vec![0u8; 1 << 20];
    ///     let s = world.sendrecv(&mine[..], other, 0, &mut theirs[..], other, 0).unwrap();
    ///     assert_eq!((s.source, s.count), (other, 1 << 20));
    ///     assert!(theirs.iter().all(|&b| b == other as u8));
    /// })
    /// .unwrap();
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn sendrecv<S, R>(
        &self,
        send_buf: &S,
        dest: Rank,
        send_tag: Tag,
        recv_buf: &mut R,
        source: Rank,
        recv_tag: Tag,
    ) -> Result<Status>
    where
        S: Buffer + ?Sized,
        R: BufferMut + ?Sized,
    {
        let dst = self.send_target(dest, send_tag)?;
        let filter = self.source_filter(source, recv_tag)?;
        let buf = recv_buf.as_mut_slice();
        let cap = buf.len();
        // SAFETY: `buf` is exclusively borrowed until this function returns, and the receive is
        // complete or cancelled before that (below).
        let (id, target) = unsafe {
            self.ep.post_recv(
                filter,
                buf.as_mut_ptr().cast::<u8>(),
                std::mem::size_of_val(buf),
            )
        };
        let sent = self.ep.send(
            dst,
            self.ctx,
            send_tag,
            bytes_of(send_buf.as_slice()),
            Mode::Standard,
        );
        if let Err(e) = sent {
            if self.ep.cancel_recv(id) {
                return Err(e);
            }
            // It completed meanwhile: report the send's failure all the same.
            let _ = target.take();
            return Err(e);
        }
        let a = self.ep.wait_recv(What::Recv(filter), id, &target)?;
        status_sized(
            self.local_rank(a.source),
            a.tag,
            a.len,
            cap,
            std::mem::size_of::<R::Item>(),
        )
    }

    /// Sends `buf` to `dest` with `send_tag`, then replaces its contents with a message from
    /// `source` with `recv_tag` (MPI's `MPI_Sendrecv_replace`; the outgoing data is copied
    /// aside first, so this costs one extra copy).
    ///
    /// # Errors
    ///
    /// As [`Communicator::sendrecv`].
    ///
    /// # Examples
    ///
    /// ```
    /// pip_comm::run(3, |world| {
    ///     let (me, n) = (world.rank(), world.size());
    ///     let mut v = [me; 4];
    ///     world.sendrecv_replace(&mut v[..], (me + 1) % n, 1, (me + n - 1) % n, 1).unwrap();
    ///     assert_eq!(v, [(me + n - 1) % n; 4]);
    /// })
    /// .unwrap();
    /// ```
    pub fn sendrecv_replace<B: BufferMut + ?Sized>(
        &self,
        buf: &mut B,
        dest: Rank,
        send_tag: Tag,
        source: Rank,
        recv_tag: Tag,
    ) -> Result<Status> {
        let out: Vec<B::Item> = buf.as_mut_slice().to_vec();
        self.sendrecv(&out[..], dest, send_tag, buf, source, recv_tag)
    }
}

/// The status of a receive of `len` bytes into `capacity` elements of `size` bytes, or the
/// error it amounts to.
pub(crate) fn status_sized(
    source: Rank,
    tag: Tag,
    len: usize,
    capacity: usize,
    size: usize,
) -> Result<Status> {
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
    pub(crate) comm: &'a Communicator,
    pub(crate) rank: Rank,
}

impl<'a> Process<'a> {
    /// The peer's rank.
    pub fn rank(&self) -> Rank {
        self.rank
    }

    /// The communicator.
    pub(crate) fn comm(&self) -> &'a Communicator {
        self.comm
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
        self.comm
            .send_typed(self.rank, tag, buf.as_slice(), Mode::Standard)
    }

    /// Sends `buf` with tag 0 and returns only once the receiver has matched it with a receive
    /// (MPI's synchronous send, `MPI_Ssend`), whatever its size.
    ///
    /// # Errors
    ///
    /// As [`Process::send`]; [`Error::SynchronousSendToSelf`] for a synchronous send to this
    /// rank itself that no posted receive takes (it could never complete).
    ///
    /// # Examples
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     if world.rank() == 0 {
    ///         world.process_at_rank(1).synchronous_send(&5u32).unwrap();
    ///         // Rank 1 has received it by now.
    ///     } else {
    ///         assert_eq!(world.process_at_rank(0).receive::<u32>().unwrap().0, 5);
    ///     }
    /// })
    /// .unwrap();
    /// ```
    pub fn synchronous_send<B: Buffer + ?Sized>(&self, buf: &B) -> Result<()> {
        self.synchronous_send_with_tag(buf, 0)
    }

    /// [`Process::synchronous_send`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Process::synchronous_send`], and [`Error::InvalidTag`].
    pub fn synchronous_send_with_tag<B: Buffer + ?Sized>(&self, buf: &B, tag: Tag) -> Result<()> {
        self.comm
            .send_typed(self.rank, tag, buf.as_slice(), Mode::Synchronous)
    }

    /// Moves `vec` to this peer without copying its contents: the receiver gets the very same
    /// allocation (pointer, length and capacity) from [`Process::recv_vec`] or
    /// [`Process::receive_vec`], in O(1) whatever its size. Returns at once. Any other receive
    /// also matches the message (it copies the data and frees the allocation).
    ///
    /// # Errors
    ///
    /// [`Error::OwnershipTransferUnavailable`] in PiP tasks with `namespace` isolation (each
    /// task has its own malloc; send the contents with [`Process::send`] instead), and those of
    /// [`Process::send`]. The error gives the `Vec` back.
    ///
    /// # Examples
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     if world.rank() == 0 {
    ///         let v = vec![1.5f64; 1 << 20];
    ///         let addr = v.as_ptr() as usize;
    ///         world.process_at_rank(1).send_vec(v).unwrap();
    ///         world.process_at_rank(1).send(&addr).unwrap();
    ///     } else {
    ///         let (v, status) = world.process_at_rank(0).recv_vec::<f64>().unwrap();
    ///         let (addr, _) = world.process_at_rank(0).receive::<usize>().unwrap();
    ///         assert_eq!((v.len(), status.count), (1 << 20, 1 << 20));
    ///         assert_eq!(v.as_ptr() as usize, addr, "the same allocation");
    ///     }
    /// })
    /// .unwrap();
    /// ```
    pub fn send_vec<T: Equivalence>(
        &self,
        vec: Vec<T>,
    ) -> std::result::Result<(), SendVecError<T>> {
        self.comm.send_vec_typed(self.rank, 0, vec)
    }

    /// [`Process::send_vec`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Process::send_vec`], and [`Error::InvalidTag`].
    pub fn send_vec_with_tag<T: Equivalence>(
        &self,
        vec: Vec<T>,
        tag: Tag,
    ) -> std::result::Result<(), SendVecError<T>> {
        self.comm.send_vec_typed(self.rank, tag, vec)
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

    /// Receives the next message from this peer, whatever its tag, into a new `Vec` (the
    /// sender's own `Vec`, without a copy, when it came from [`Process::send_vec`] with an
    /// element type of the same alignment).
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

    /// The same as [`Process::receive_vec`], named to pair with [`Process::send_vec`].
    ///
    /// # Errors
    ///
    /// As [`Process::receive_vec`].
    pub fn recv_vec<T: Equivalence>(&self) -> Result<(Vec<T>, Status)> {
        self.receive_vec()
    }

    /// The same as [`Process::receive_vec_with_tag`].
    ///
    /// # Errors
    ///
    /// As [`Process::receive_vec_with_tag`].
    pub fn recv_vec_with_tag<T: Equivalence>(&self, tag: Tag) -> Result<(Vec<T>, Status)> {
        self.receive_vec_with_tag(tag)
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

    /// Waits for a message from this peer (any tag) and says what it is, without receiving
    /// it: the next receive with the same source and tag gets that very message.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], [`Error::Aborted`].
    pub fn probe(&self) -> Result<ProbeStatus> {
        self.probe_with_tag(ANY_TAG)
    }

    /// [`Process::probe`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Process::probe`], and [`Error::InvalidTag`].
    pub fn probe_with_tag(&self, tag: Tag) -> Result<ProbeStatus> {
        let filter = self.comm.source_filter(self.rank, tag)?;
        self.comm.probe_filter(filter)
    }

    /// Like [`Process::probe`] but returns at once: `None` when no such message has arrived.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`].
    ///
    /// # Examples
    ///
    /// ```
    /// pip_comm::run(1, |world| {
    ///     let me = world.this_process();
    ///     assert_eq!(me.iprobe().unwrap(), None);
    ///     me.send_with_tag(&[1u8, 2], 3).unwrap();
    ///     assert_eq!(me.iprobe_with_tag(3).unwrap().map(|p| p.bytes), Some(2));
    /// })
    /// .unwrap();
    /// ```
    pub fn iprobe(&self) -> Result<Option<ProbeStatus>> {
        self.iprobe_with_tag(ANY_TAG)
    }

    /// [`Process::iprobe`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Process::iprobe`], and [`Error::InvalidTag`].
    pub fn iprobe_with_tag(&self, tag: Tag) -> Result<Option<ProbeStatus>> {
        let filter = self.comm.source_filter(self.rank, tag)?;
        Ok(self.comm.iprobe_filter(filter))
    }
}

/// Any rank, named by [`Communicator::any_process`]: receive the first matching message from
/// whoever sent it.
#[derive(Debug, Clone, Copy)]
pub struct AnyProcess<'a> {
    pub(crate) comm: &'a Communicator,
}

impl<'a> AnyProcess<'a> {
    /// As a [`Process`] at [`ANY_SOURCE`].
    pub(crate) fn any(&self) -> Process<'a> {
        self.comm.process_at_rank(ANY_SOURCE)
    }

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
        self.any().receive_into_with_tag(buf, tag)
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
        self.any().receive_vec_with_tag(tag)
    }

    /// The same as [`AnyProcess::receive_vec`] (pairs with [`Process::send_vec`]).
    ///
    /// # Errors
    ///
    /// As [`Process::receive_vec`].
    pub fn recv_vec<T: Equivalence>(&self) -> Result<(Vec<T>, Status)> {
        self.receive_vec()
    }

    /// Receives one value from any rank, whatever the tag.
    ///
    /// # Errors
    ///
    /// As [`Process::receive`].
    pub fn receive<T: Equivalence>(&self) -> Result<(T, Status)> {
        self.any().receive()
    }

    /// Waits for a message from any rank with any tag, without receiving it.
    ///
    /// # Errors
    ///
    /// As [`Process::probe`].
    pub fn probe(&self) -> Result<ProbeStatus> {
        self.any().probe()
    }

    /// [`AnyProcess::probe`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Process::probe_with_tag`].
    pub fn probe_with_tag(&self, tag: Tag) -> Result<ProbeStatus> {
        self.any().probe_with_tag(tag)
    }

    /// Looks for a message from any rank with any tag, without waiting or receiving it.
    ///
    /// # Errors
    ///
    /// As [`Process::iprobe`].
    pub fn iprobe(&self) -> Result<Option<ProbeStatus>> {
        self.any().iprobe()
    }

    /// [`AnyProcess::iprobe`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Process::iprobe_with_tag`].
    pub fn iprobe_with_tag(&self, tag: Tag) -> Result<Option<ProbeStatus>> {
        self.any().iprobe_with_tag(tag)
    }
}

fn zeroed<T: Equivalence>() -> T {
    // SAFETY: every bit pattern, all zeros included, is a valid `T: Equivalence`.
    unsafe { std::mem::zeroed() }
}
