//! The [`Root`] trait: the collectives with a root (broadcast, gather, scatter, reduce), called
//! on the root's [`Process`] (`comm.process_at_rank(root)`) by every rank of the communicator.
//! The mechanisms are in the sibling modules; this file is the API.

use super::{bcast, gather, reduce, scatter};
use crate::datatype::{Buffer, BufferMut, Partition, PartitionMut};
#[allow(unused_imports)] // for the documentation's links
use crate::{Error, Process};
use crate::{Operation, Result};

/// The collectives with a root (rsmpi's `Root`), implemented by [`Process`]: every rank of
/// the communicator calls the same method on the same root. Sealed (implemented by pip-comm's
/// types only).
pub trait Root: AsRoot {
    /// Broadcasts the root's `buf` (this `Process` names the root) into every other rank's
    /// `buf` (MPI's `MPI_Bcast`). Every rank passes a buffer of the same length; each non-root
    /// copies the root's buffer into its own, all at once.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`] for a root outside the
    /// communicator; [`Error::CollectiveMismatch`] when the
    /// lengths, element types or roots differ (the buffer is then left as it was);
    /// [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let mut v = if world.rank() == 1 { [7u64, 8, 9] } else { [0; 3] };
    ///     world.process_at_rank(1).broadcast_into(&mut v[..]).unwrap();
    ///     v
    /// })
    /// .unwrap();
    /// assert!(out.iter().all(|v| *v == [7, 8, 9]));
    /// ```
    fn broadcast_into<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<()> {
        bcast::broadcast_into(&self.as_root(), buf)
    }

    /// A non-root rank's part in a gather to the root named by this `Process` (MPI's
    /// `MPI_Gather`): its `send` goes to the root's buffer at `rank * send.len()`. Every rank
    /// sends the same number of elements.
    ///
    /// # Errors
    ///
    /// [`Error::RootVariantRequired`] on the root; [`Error::CollectiveMismatch`] for
    /// different lengths or roots; [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let root = world.process_at_rank(0);
    ///     let mine = [world.rank() as u8; 2];
    ///     let mut all = [9u8; 6];
    ///     if world.rank() == 0 {
    ///         root.gather_into_root(&mine[..], &mut all[..]).unwrap();
    ///     } else {
    ///         root.gather_into(&mine[..]).unwrap();
    ///     }
    ///     all
    /// })
    /// .unwrap();
    /// assert_eq!(out[0], [0, 0, 1, 1, 2, 2]);
    /// ```
    fn gather_into<S: Buffer + ?Sized>(&self, send: &S) -> Result<()> {
        gather::gather_into(&self.as_root(), send)
    }

    /// The root's part in a gather: its own `send` and every other rank's go to `recv`
    /// (at least `size * send.len()` elements) in rank order. On another rank this is
    /// [`gather_into`](Root::gather_into).
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] for a short `recv`; as [`gather_into`](Root::gather_into).
    ///
    /// # Examples
    ///
    /// See [`gather_into`](Root::gather_into).
    fn gather_into_root<S, R>(&self, send: &S, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        gather::gather_into_root(&self.as_root(), send, recv)
    }

    /// The root's part in a gather whose own piece is already in place in `recv`, at
    /// `root * count` where `count = recv.len() / size` (MPI's `MPI_Gather` with
    /// `MPI_IN_PLACE` at the root).
    ///
    /// On a rank that is not the root, `recv` is that rank's piece, all of it, as MPI's
    /// non-root send buffer: the call is [`gather_into`](Root::gather_into)`(recv)` (as
    /// [`reduce_in_place_root`](Root::reduce_in_place_root) is `reduce_into`), so every
    /// rank may make the same call, the non-roots with a buffer of `count` elements.
    ///
    /// # Errors
    ///
    /// As [`gather_into`](Root::gather_into): a non-root buffer that is not `count` long
    /// is [`Error::CollectiveMismatch`].
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(2, |world| {
    ///     let root = world.process_at_rank(1);
    ///     if world.rank() == 1 {
    ///         let mut all = [0u32, 0, 7, 7];
    ///         root.gather_in_place_root(&mut all[..]).unwrap();
    ///         all
    ///     } else {
    ///         root.gather_into(&[5u32, 5][..]).unwrap();
    ///         [0; 4]
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(out[1], [5, 5, 7, 7]);
    /// ```
    fn gather_in_place_root<R: BufferMut + ?Sized>(&self, recv: &mut R) -> Result<()> {
        gather::gather_in_place_root(&self.as_root(), recv)
    }

    /// A non-root rank's part in a gather with a count per rank (MPI's `MPI_Gatherv`): its
    /// `send` goes where the root's displacement for it says.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveMismatch`] when `send.len()` is not the root's count for this rank;
    /// as [`gather_into`](Root::gather_into).
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let root = world.process_at_rank(0);
    ///     let mine = vec![world.rank() as i16; world.rank() as usize + 1];
    ///     if world.rank() == 0 {
    ///         let counts = [1, 2, 3];
    ///         let mut all = [0i16; 6];
    ///         let mut recv = PartitionMut::contiguous(&mut all[..], &counts[..]);
    ///         root.gather_varcount_into_root(&mine[..], &mut recv).unwrap();
    ///         all
    ///     } else {
    ///         root.gather_varcount_into(&mine[..]).unwrap();
    ///         [0; 6]
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(out[0], [0, 1, 1, 2, 2, 2]);
    /// ```
    fn gather_varcount_into<S: Buffer + ?Sized>(&self, send: &S) -> Result<()> {
        gather::gather_varcount_into(&self.as_root(), send)
    }

    /// The root's part in a gather with a count per rank: rank `r`'s piece (`counts[r]`
    /// elements of the partition `recv`) goes to its buffer at `displs[r]`. On another rank
    /// this is
    /// [`gather_varcount_into`](Root::gather_varcount_into).
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] when `counts` or `displs` have fewer than `size` entries or
    /// a piece does not fit `recv`; [`Error::CollectiveMismatch`] when `send.len()` is not
    /// `counts[root]`.
    ///
    /// # Examples
    ///
    /// See [`gather_varcount_into`](Root::gather_varcount_into).
    fn gather_varcount_into_root<S, R>(
        &self,
        send: &S,
        recv: &mut PartitionMut<'_, R>,
    ) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        let (recv, counts, displs) = recv.parts();
        gather::gather_varcount_into_root(&self.as_root(), send, recv, counts, displs)
    }

    /// A non-root rank's part in a reduction to the root named by this `Process` (MPI's
    /// `MPI_Reduce`): contributes `send`. The root calls
    /// [`reduce_into_root`](Root::reduce_into_root) or
    /// [`reduce_in_place_root`](Root::reduce_in_place_root).
    ///
    /// # Errors
    ///
    /// [`Error::RootVariantRequired`] when called by the root; otherwise as
    /// [`reduce_into_root`](Root::reduce_into_root).
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// let out = pip_comm::run(3, |world| {
    ///     let root = world.process_at_rank(2);
    ///     let mine = [world.rank() as i32, 1];
    ///     if world.rank() == 2 {
    ///         let mut sum = [0; 2];
    ///         root.reduce_into_root(&mine[..], &mut sum[..], SystemOperation::sum()).unwrap();
    ///         sum
    ///     } else {
    ///         root.reduce_into(&mine[..], SystemOperation::sum()).unwrap();
    ///         [0; 2]
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(out[2], [3, 3]);
    /// ```
    fn reduce_into<S, O>(&self, send: &S, op: O) -> Result<()>
    where
        S: Buffer + ?Sized,
        O: Operation<S::Item>,
    {
        reduce::reduce_into(&self.as_root(), send, op)
    }

    /// The root's part in a reduction: contributes `send` and gets the result in `recv`
    /// (at least `send.len()` elements). On a rank that is not the root this is
    /// [`reduce_into`](Root::reduce_into) (`recv` is not touched).
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`] for a root outside the communicator;
    /// [`Error::CollectiveMismatch`] for different lengths or operations;
    /// [`Error::CollectiveBuffer`]; [`Error::InvalidOperation`]; [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// See [`reduce_into`](Root::reduce_into).
    fn reduce_into_root<S, R, O>(&self, send: &S, recv: &mut R, op: O) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
        O: Operation<S::Item>,
    {
        reduce::reduce_into_root(&self.as_root(), send, recv, op)
    }

    /// The root's part in a reduction with `buf` as both its input and the result. On a rank
    /// that is not the root, `buf` is that rank's input ([`reduce_into`](Root::reduce_into)).
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// let out = pip_comm::run(3, |world| {
    ///     let mut v = [world.rank() as u16 + 1];
    ///     world.process_at_rank(0).reduce_in_place_root(&mut v[..], SystemOperation::product()).unwrap();
    ///     v[0]
    /// })
    /// .unwrap();
    /// assert_eq!(out[0], 6);
    /// ```
    fn reduce_in_place_root<B, O>(&self, buf: &mut B, op: O) -> Result<()>
    where
        B: BufferMut + ?Sized,
        O: Operation<B::Item>,
    {
        reduce::reduce_in_place_root(&self.as_root(), buf, op)
    }

    /// A non-root rank's part in a scatter from the root named by this `Process` (MPI's
    /// `MPI_Scatter`): `recv` gets the root's piece for this rank, `send[rank * len..]` where
    /// `len = recv.len()` (the same on every rank).
    ///
    /// # Errors
    ///
    /// [`Error::RootVariantRequired`] on the root; [`Error::CollectiveMismatch`] for
    /// different lengths or roots; [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let root = world.process_at_rank(1);
    ///     let mut mine = [0u32; 2];
    ///     if world.rank() == 1 {
    ///         let all: Vec<u32> = (0..6).collect();
    ///         root.scatter_into_root(&all[..], &mut mine[..]).unwrap();
    ///     } else {
    ///         root.scatter_into(&mut mine[..]).unwrap();
    ///     }
    ///     mine
    /// })
    /// .unwrap();
    /// assert_eq!(out, [[0, 1], [2, 3], [4, 5]]);
    /// ```
    fn scatter_into<R: BufferMut + ?Sized>(&self, recv: &mut R) -> Result<()> {
        scatter::scatter_into(&self.as_root(), recv)
    }

    /// The root's part in a scatter: `send` (at least `size * recv.len()` elements) is cut in
    /// rank order; the root's own piece goes to `recv`. On another rank this is
    /// [`scatter_into`](Root::scatter_into).
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] for a short `send`; as [`scatter_into`](Root::scatter_into).
    ///
    /// # Examples
    ///
    /// See [`scatter_into`](Root::scatter_into).
    fn scatter_into_root<S, R>(&self, send: &S, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        scatter::scatter_into_root(&self.as_root(), send, recv)
    }

    /// The root's part in a scatter that keeps its own piece in `send` (in place): pieces are
    /// `send.len() / size` elements (MPI's `MPI_Scatter` with `MPI_IN_PLACE` at the root).
    /// The other ranks call [`scatter_into`](Root::scatter_into).
    ///
    /// # Errors
    ///
    /// [`Error::InPlaceNotAtRoot`] on a rank that is not the root (the root then gets
    /// [`Error::CollectivePeer`]); as [`scatter_into`](Root::scatter_into).
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(2, |world| {
    ///     let root = world.process_at_rank(0);
    ///     let mut mine = [0u8; 3];
    ///     if world.rank() == 0 {
    ///         root.scatter_in_place_root(&[1u8, 2, 3, 4, 5, 6][..]).unwrap();
    ///     } else {
    ///         root.scatter_into(&mut mine[..]).unwrap();
    ///     }
    ///     mine
    /// })
    /// .unwrap();
    /// assert_eq!(out[1], [4, 5, 6]);
    /// ```
    fn scatter_in_place_root<S: Buffer + ?Sized>(&self, send: &S) -> Result<()> {
        scatter::scatter_in_place_root(&self.as_root(), send)
    }

    /// A non-root rank's part in a scatter with a count per rank (MPI's `MPI_Scatterv`):
    /// `recv` gets the root's piece for this rank, whose count must be `recv.len()`.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveMismatch`] when the root's count for this rank is not `recv.len()`;
    /// as [`scatter_into`](Root::scatter_into).
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let root = world.process_at_rank(0);
    ///     let mut mine = vec![0u16; world.rank() as usize];
    ///     if world.rank() == 0 {
    ///         let (counts, displs) = ([0, 1, 2], [0, 2, 0]);
    ///         let send = Partition::new(&[7u16, 8, 9][..], &counts[..], &displs[..]);
    ///         root.scatter_varcount_into_root(&send, &mut mine[..]).unwrap();
    ///     } else {
    ///         root.scatter_varcount_into(&mut mine[..]).unwrap();
    ///     }
    ///     mine
    /// })
    /// .unwrap();
    /// assert_eq!(out, [vec![], vec![9], vec![7, 8]]);
    /// ```
    fn scatter_varcount_into<R: BufferMut + ?Sized>(&self, recv: &mut R) -> Result<()> {
        scatter::scatter_varcount_into(&self.as_root(), recv)
    }

    /// The root's part in a scatter with a count per rank: rank `r` gets `counts[r]` elements
    /// from the partition `send`'s buffer at `displs[r]`; the root's own piece goes to `recv`.
    /// On another rank this is [`scatter_varcount_into`](Root::scatter_varcount_into). The
    /// arguments come in the order of every varcount call: send, then receive, each buffer
    /// with its layout ([`Partition`]).
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] when `counts`/`displs` are short or a piece lies outside
    /// `send`; [`Error::CollectiveMismatch`] when `recv.len()` is not `counts[root]`.
    ///
    /// # Examples
    ///
    /// See [`scatter_varcount_into`](Root::scatter_varcount_into).
    fn scatter_varcount_into_root<S, R>(&self, send: &Partition<'_, S>, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        let (counts, displs) = (send.counts(), send.displs());
        scatter::scatter_varcount_into_root(&self.as_root(), send.buf, recv, counts, displs)
    }
}

/// The accessor behind [`Root`]'s provided methods; unreachable from other crates (this
/// module is private), so they cannot implement the trait.
pub trait AsRoot {
    /// The root as a [`Process`].
    fn as_root(&self) -> Process<'_>;
}

impl AsRoot for Process<'_> {
    fn as_root(&self) -> Process<'_> {
        *self
    }
}

impl Root for Process<'_> {}
