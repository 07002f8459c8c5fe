//! The [`Source`] trait: receiving, probing and posting receives, written once for a named
//! peer ([`Process`](crate::Process)) and for any peer ([`AnyProcess`](crate::AnyProcess)).

use super::matched::{self, Message};
use super::Peer;
use super::{zeroed, ProbeStatus, Status, Tag, ANY_TAG};
use crate::datatype::{BufferMut, Equivalence};
use crate::request::{self, Request, Scope};
use crate::Result;
#[allow(unused_imports)] // for the documentation's links
use crate::{p2p::Destination, Error, SimpleCommunicator};

/// Where messages come from (rsmpi's `Source`): a named peer (`process_at_rank(r)`) or any
/// (`any_process()`). Receives follow MPI matching: from one sender, in the order sent.
/// Sealed: implemented by pip-comm's types only.
pub trait Source: Peer {
    /// Receives the next message from this source, whatever its tag, into `buf`. A shorter
    /// message fills the start of `buf` (see [`Status::count`]).
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] if the message is longer than `buf` (it is consumed, `buf` holds
    /// its start), [`Error::PartialElement`], [`Error::RankOutOfRange`], [`Error::Aborted`].
    fn receive_into<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<Status> {
        self.receive_into_with_tag(buf, ANY_TAG)
    }

    /// Receives the next message from this source with `tag` (or [`ANY_TAG`]) into `buf`.
    ///
    /// # Errors
    ///
    /// As [`Source::receive_into`], and [`Error::InvalidTag`].
    fn receive_into_with_tag<B: BufferMut + ?Sized>(
        &self,
        buf: &mut B,
        tag: Tag,
    ) -> Result<Status> {
        let (comm, rank) = self.peer();
        let filter = comm.source_filter(rank, tag)?;
        comm.receive_into_filter(filter, buf.as_mut_slice())
    }

    /// Receives one value from this source, whatever the tag.
    ///
    /// # Errors
    ///
    /// As [`Source::receive_into`]. An empty message gives a zero value with `count == 0`.
    fn receive<T: Equivalence>(&self) -> Result<(T, Status)> {
        let mut v = zeroed::<T>();
        let s = self.receive_into(&mut v)?;
        Ok((v, s))
    }

    /// Receives the next message from this source, whatever its tag, into a new `Vec` (the
    /// sender's own `Vec`, without a copy, when it came from [`Destination::send_vec`] with an
    /// element type of the same alignment).
    ///
    /// # Errors
    ///
    /// [`Error::PartialElement`], [`Error::RankOutOfRange`], [`Error::Aborted`].
    fn receive_vec<T: Equivalence>(&self) -> Result<(Vec<T>, Status)> {
        self.receive_vec_with_tag(ANY_TAG)
    }

    /// Receives the next message from this source with `tag` (or [`ANY_TAG`]) into a new `Vec`.
    ///
    /// # Errors
    ///
    /// As [`Source::receive_vec`], and [`Error::InvalidTag`].
    fn receive_vec_with_tag<T: Equivalence>(&self, tag: Tag) -> Result<(Vec<T>, Status)> {
        let (comm, rank) = self.peer();
        let filter = comm.source_filter(rank, tag)?;
        comm.receive_vec_filter(filter)
    }

    /// The same as [`Source::receive_vec`], named to pair with [`Destination::send_vec`].
    ///
    /// # Errors
    ///
    /// As [`Source::receive_vec`].
    fn recv_vec<T: Equivalence>(&self) -> Result<(Vec<T>, Status)> {
        self.receive_vec()
    }

    /// The same as [`Source::receive_vec_with_tag`].
    ///
    /// # Errors
    ///
    /// As [`Source::receive_vec_with_tag`].
    fn recv_vec_with_tag<T: Equivalence>(&self, tag: Tag) -> Result<(Vec<T>, Status)> {
        self.receive_vec_with_tag(tag)
    }

    /// Waits for a message from this source (any tag) and says what it is, without receiving
    /// it: the next receive with the same source and tag gets that very message.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], [`Error::Aborted`].
    fn probe(&self) -> Result<ProbeStatus> {
        self.probe_with_tag(ANY_TAG)
    }

    /// [`Source::probe`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Source::probe`], and [`Error::InvalidTag`].
    fn probe_with_tag(&self, tag: Tag) -> Result<ProbeStatus> {
        let (comm, rank) = self.peer();
        let filter = comm.source_filter(rank, tag)?;
        comm.probe_filter(filter)
    }

    /// Like [`Source::probe`] but returns at once: `None` when no such message has arrived.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(1, |world| {
    ///     let me = world.this_process();
    ///     assert_eq!(me.immediate_probe().unwrap(), None);
    ///     me.send_with_tag(&[1u8, 2], 3).unwrap();
    ///     assert_eq!(me.immediate_probe_with_tag(3).unwrap().map(|p| p.bytes), Some(2));
    /// })
    /// .unwrap();
    /// ```
    fn immediate_probe(&self) -> Result<Option<ProbeStatus>> {
        self.immediate_probe_with_tag(ANY_TAG)
    }

    /// [`Source::immediate_probe`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Source::immediate_probe`], and [`Error::InvalidTag`].
    fn immediate_probe_with_tag(&self, tag: Tag) -> Result<Option<ProbeStatus>> {
        let (comm, rank) = self.peer();
        let filter = comm.source_filter(rank, tag)?;
        Ok(comm.iprobe_filter(filter))
    }

    /// Takes the next message from this source (any tag) out of the matching queue without
    /// receiving its data yet (MPI's `MPI_Mprobe`): no other receive can take it any more;
    /// receive it with [`Message::matched_receive_into`] or [`Message::matched_receive_vec`].
    /// Unlike [`Source::probe`], this is safe when several parts of a program receive from
    /// the same sources.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(2, |world| {
    ///     if world.rank() == 0 {
    ///         world.process_at_rank(1).send_with_tag(&[4u32, 5, 6], 2).unwrap();
    ///     } else {
    ///         let (msg, probed) = world.any_process().matched_probe().unwrap();
    ///         assert_eq!((probed.source, probed.tag, probed.count::<u32>()), (0, 2, Some(3)));
    ///         let mut buf = vec![0u32; probed.count::<u32>().unwrap()];
    ///         let status = msg.matched_receive_into(&mut buf[..]).unwrap();
    ///         assert_eq!((buf, status.count), (vec![4, 5, 6], 3));
    ///     }
    /// })
    /// .unwrap();
    /// ```
    fn matched_probe(&self) -> Result<(Message, ProbeStatus)> {
        self.matched_probe_with_tag(ANY_TAG)
    }

    /// [`Source::matched_probe`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Source::matched_probe`], and [`Error::InvalidTag`].
    fn matched_probe_with_tag(&self, tag: Tag) -> Result<(Message, ProbeStatus)> {
        let (comm, rank) = self.peer();
        matched::probe(comm, comm.source_filter(rank, tag)?)
    }

    /// Like [`Source::matched_probe`] but returns at once: `None` when no such message has
    /// arrived (MPI's `MPI_Improbe`).
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], [`Error::InvalidTag`].
    fn immediate_matched_probe_with_tag(&self, tag: Tag) -> Result<Option<(Message, ProbeStatus)>> {
        let (comm, rank) = self.peer();
        Ok(matched::immediate_probe(
            comm,
            comm.source_filter(rank, tag)?,
        ))
    }

    /// [`Source::immediate_matched_probe_with_tag`] with any tag.
    ///
    /// # Errors
    ///
    /// As [`Source::immediate_matched_probe_with_tag`].
    fn immediate_matched_probe(&self) -> Result<Option<(Message, ProbeStatus)>> {
        self.immediate_matched_probe_with_tag(ANY_TAG)
    }

    /// Posts a receive into `buf` of the next message from this source (any tag) and
    /// returns at once (MPI's `MPI_Irecv`). `buf` stays borrowed until the scope ends.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`]. Errors of the receive itself (truncation, ...) come from
    /// the request's completion.
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(2, |world| {
    ///     let mut v = 0u64;
    ///     pip_comm::request::scope(|scope| {
    ///         let r = world.any_process().immediate_receive_into(scope, &mut v).unwrap();
    ///         world.process_at_rank(1 - world.rank()).send(&(world.rank() as u64)).unwrap();
    ///         r.wait().unwrap();
    ///     });
    ///     assert_eq!(v, 1 - world.rank() as u64);
    /// })
    /// .unwrap();
    /// ```
    fn immediate_receive_into<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
    ) -> Result<Request<'scope>> {
        self.immediate_receive_into_with_tag(scope, buf, ANY_TAG)
    }

    /// [`Source::immediate_receive_into`] for a message with `tag` (or [`ANY_TAG`]).
    ///
    /// # Errors
    ///
    /// As [`Source::immediate_receive_into`], and [`Error::InvalidTag`].
    fn immediate_receive_into_with_tag<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
        tag: Tag,
    ) -> Result<Request<'scope>> {
        let (comm, rank) = self.peer();
        request::post_receive(scope, comm, rank, buf, tag)
    }

    /// The former name of [`Source::immediate_probe`].
    ///
    /// # Errors
    ///
    /// As [`Source::immediate_probe`].
    #[deprecated(since = "0.2.0", note = "use `immediate_probe`")]
    fn iprobe(&self) -> Result<Option<ProbeStatus>> {
        self.immediate_probe()
    }

    /// The former name of [`Source::immediate_probe_with_tag`].
    ///
    /// # Errors
    ///
    /// As [`Source::immediate_probe_with_tag`].
    #[deprecated(since = "0.2.0", note = "use `immediate_probe_with_tag`")]
    fn iprobe_with_tag(&self, tag: Tag) -> Result<Option<ProbeStatus>> {
        self.immediate_probe_with_tag(tag)
    }

    /// The former name of [`Source::immediate_receive_into`].
    ///
    /// # Errors
    ///
    /// As [`Source::immediate_receive_into`].
    #[deprecated(since = "0.2.0", note = "use `immediate_receive_into`")]
    fn irecv<'scope, B: BufferMut + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope mut B,
    ) -> Result<Request<'scope>> {
        self.immediate_receive_into(scope, buf)
    }
}
