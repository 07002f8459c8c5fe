//! The [`Destination`] trait: sending to a named peer ([`Process`](crate::Process)), at once
//! or in a [request scope](crate::request::scope).

use super::Peer;
use super::Tag;
use crate::datatype::{Buffer, Equivalence};
use crate::endpoint::Mode;
use crate::owned::SendVecError;
use crate::request::{self, Request, Scope};
use crate::Result;
#[allow(unused_imports)] // for the documentation's links
use crate::{p2p::Source, Error, SimpleCommunicator};

/// Where messages go (rsmpi's `Destination`): a named peer, `process_at_rank(r)`. Sealed
/// (implemented by pip-comm's types only).
pub trait Destination: Peer {
    /// Sends `buf` with tag 0. Returns once `buf` may be reused: at once for messages up to
    /// [`SimpleCommunicator::eager_limit`] bytes, after the receiver has copied it for larger ones.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], or [`Error::Aborted`] if another rank panicked meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
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
    fn send<B: Buffer + ?Sized>(&self, buf: &B) -> Result<()> {
        self.send_with_tag(buf, 0)
    }

    /// Sends `buf` with `tag` (`0..=MAX_TAG`); otherwise as [`Destination::send`].
    ///
    /// # Errors
    ///
    /// As [`Destination::send`], and [`Error::InvalidTag`].
    fn send_with_tag<B: Buffer + ?Sized>(&self, buf: &B, tag: Tag) -> Result<()> {
        let (comm, rank) = self.peer();
        comm.send_typed(rank, tag, buf.as_slice(), Mode::Standard)
    }

    /// Sends `buf` with tag 0 and returns only once the receiver has matched it with a receive
    /// (MPI's synchronous send, `MPI_Ssend`), whatever its size.
    ///
    /// # Errors
    ///
    /// As [`Destination::send`]; [`Error::SynchronousSendToSelf`] for a synchronous send to this
    /// rank itself that no posted receive takes (it could never complete).
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
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
    fn synchronous_send<B: Buffer + ?Sized>(&self, buf: &B) -> Result<()> {
        self.synchronous_send_with_tag(buf, 0)
    }

    /// [`Destination::synchronous_send`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Destination::synchronous_send`], and [`Error::InvalidTag`].
    fn synchronous_send_with_tag<B: Buffer + ?Sized>(&self, buf: &B, tag: Tag) -> Result<()> {
        let (comm, rank) = self.peer();
        comm.send_typed(rank, tag, buf.as_slice(), Mode::Synchronous)
    }

    /// Moves `vec` to this peer without copying its contents: the receiver gets the very same
    /// allocation (pointer, length and capacity) from [`Source::recv_vec`] or
    /// [`Source::receive_vec`], in O(1) whatever its size. Returns at once. Any other receive
    /// also matches the message (it copies the data and frees the allocation).
    ///
    /// # Errors
    ///
    /// [`Error::OwnershipTransferUnavailable`] in PiP tasks with `namespace` isolation (each
    /// task has its own malloc; send the contents with [`Destination::send`] instead), and those of
    /// [`Destination::send`]. The error gives the `Vec` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
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
    fn send_vec<T: Equivalence>(&self, vec: Vec<T>) -> std::result::Result<(), SendVecError<T>> {
        let (comm, rank) = self.peer();
        comm.send_vec_typed(rank, 0, vec)
    }

    /// [`Destination::send_vec`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Destination::send_vec`], and [`Error::InvalidTag`].
    fn send_vec_with_tag<T: Equivalence>(
        &self,
        vec: Vec<T>,
        tag: Tag,
    ) -> std::result::Result<(), SendVecError<T>> {
        let (comm, rank) = self.peer();
        comm.send_vec_typed(rank, tag, vec)
    }

    /// Starts sending `buf` with tag 0 and returns at once (MPI's `MPI_Isend`). `buf` stays
    /// borrowed until the scope ends. Eager messages are complete at once; larger ones when
    /// the receiver has copied them.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`], [`Error::Aborted`].
    fn immediate_send<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
    ) -> Result<Request<'scope>> {
        self.immediate_send_with_tag(scope, buf, 0)
    }

    /// [`Destination::immediate_send`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Destination::immediate_send`], and [`Error::InvalidTag`].
    fn immediate_send_with_tag<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
        tag: Tag,
    ) -> Result<Request<'scope>> {
        let (comm, rank) = self.peer();
        request::start_send(scope, comm, rank, buf, tag, Mode::Standard)
    }

    /// Starts a synchronous send with tag 0 (MPI's `MPI_Issend`): the request completes only
    /// once the receiver has matched the message.
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(2, |world| {
    ///     let peer = world.process_at_rank(1 - world.rank());
    ///     if world.rank() == 0 {
    ///         pip_comm::request::scope(|scope| {
    ///             let r = peer.immediate_synchronous_send(scope, &5u16).unwrap();
    ///             assert_eq!(r.wait().unwrap().count, 1); // rank 1 has matched it
    ///         });
    ///     } else {
    ///         assert_eq!(peer.receive::<u16>().unwrap().0, 5);
    ///     }
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Destination::immediate_send`]; [`Error::SynchronousSendToSelf`] to this rank itself
    /// unless a posted receive takes it now.
    fn immediate_synchronous_send<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
    ) -> Result<Request<'scope>> {
        self.immediate_synchronous_send_with_tag(scope, buf, 0)
    }

    /// [`Destination::immediate_synchronous_send`] with `tag`.
    ///
    /// # Errors
    ///
    /// As [`Destination::immediate_send_with_tag`]; [`Error::SynchronousSendToSelf`] to this rank
    /// itself unless a posted receive takes it now.
    fn immediate_synchronous_send_with_tag<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
        tag: Tag,
    ) -> Result<Request<'scope>> {
        let (comm, rank) = self.peer();
        request::start_send(scope, comm, rank, buf, tag, Mode::Synchronous)
    }

    /// The former name of [`Destination::immediate_send`].
    ///
    /// # Errors
    ///
    /// As [`Destination::immediate_send`].
    #[deprecated(since = "0.2.0", note = "use `immediate_send`")]
    fn isend<'scope, B: Buffer + ?Sized>(
        &self,
        scope: &'scope Scope<'scope, '_>,
        buf: &'scope B,
    ) -> Result<Request<'scope>> {
        self.immediate_send(scope, buf)
    }
}
