//! The [`CommunicatorCollectives`] trait: the barrier and the collectives every rank takes part
//! in equally (all-gather, all-reduce, all-to-all, scans). The mechanisms are in the sibling
//! modules; this file is the API.

use super::{alltoall, gather, reduce};
use crate::comm::Communicator;
use crate::datatype::{Buffer, BufferMut, Partition, PartitionMut};
#[allow(unused_imports)] // for the documentation's links
use crate::Error;
use crate::{Operation, Result, SimpleCommunicator};

/// The collectives of a whole communicator (rsmpi's `CommunicatorCollectives`), implemented
/// by [`SimpleCommunicator`]. Sealed (implemented by pip-comm's types only).
pub trait CommunicatorCollectives: Communicator {
    /// Blocks until every rank of the communicator has called `barrier` (MPI's
    /// `MPI_Barrier`).
    ///
    /// # Errors
    ///
    /// [`Error::Aborted`] when the world was aborted because a rank panicked (in
    /// [`run`](crate::run)): the barrier can never complete.
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let arrived = AtomicUsize::new(0);
    /// pip_comm::run(4, |world| {
    ///     arrived.fetch_add(1, Ordering::SeqCst);
    ///     world.barrier()?;
    ///     assert_eq!(arrived.load(Ordering::SeqCst), 4);
    ///     Ok::<(), pip_comm::Error>(())
    /// })
    /// .unwrap();
    /// ```
    fn barrier(&self) -> Result<()> {
        let comm = self.as_simple();
        match super::small::lines_barrier(comm) {
            Some(done) => done,
            None => crate::barrier::barrier(comm),
        }
    }

    /// Gathers every rank's `send` into every rank's `recv` (at least `size * send.len()`
    /// elements), in rank order (MPI's `MPI_Allgather`). Each rank copies the others' pieces
    /// straight from their send buffers.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] for a short `recv`; [`Error::CollectiveMismatch`] for
    /// different lengths; [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let mut all = [0u64; 3];
    ///     world.all_gather_into(&(world.rank() as u64 * 2), &mut all[..]).unwrap();
    ///     all
    /// })
    /// .unwrap();
    /// assert!(out.iter().all(|a| *a == [0, 2, 4]));
    /// ```
    fn all_gather_into<S, R>(&self, send: &S, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        gather::all_gather_into(self.as_simple(), send, recv)
    }

    /// [`all_gather_into`](CommunicatorCollectives::all_gather_into) where each rank's piece is already
    /// in place in `buf`, at `rank * count` with `count = buf.len() / size`.
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(4, |world| {
    ///     let mut all = [0i32; 4];
    ///     all[world.rank() as usize] = world.rank() * 3;
    ///     world.all_gather_in_place(&mut all[..]).unwrap();
    ///     assert_eq!(all, [0, 3, 6, 9]);
    /// })
    /// .unwrap();
    /// ```
    fn all_gather_in_place<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<()> {
        gather::all_gather_in_place(self.as_simple(), buf)
    }

    /// Gathers every rank's `send` (rank `r` sends `counts[r]` elements) into every rank's
    /// partition `recv`, at `displs[r]` (MPI's `MPI_Allgatherv`). Every rank passes the same
    /// counts and displacements.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] when `counts`/`displs` are short or a piece does not fit;
    /// [`Error::CollectiveMismatch`] when a rank's `send.len()` is not its count.
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let counts = [2, 0, 1];
    ///     let displs = [1, 0, 0];
    ///     let mine = vec![world.rank() as u8 + 1; counts[world.rank() as usize]];
    ///     let mut all = [0u8; 3];
    ///     let mut recv = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
    ///     world.all_gather_varcount_into(&mine[..], &mut recv).unwrap();
    ///     all
    /// })
    /// .unwrap();
    /// assert!(out.iter().all(|a| *a == [3, 1, 1]));
    /// ```
    fn all_gather_varcount_into<S, R>(&self, send: &S, recv: &mut PartitionMut<'_, R>) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        let (recv, counts, displs) = recv.parts();
        gather::all_gather_varcount_into(self.as_simple(), send, recv, counts, displs)
    }

    /// Reduces every rank's `send` with `op` and gives every rank the result in `recv` (MPI's
    /// `MPI_Allreduce`). `recv` must hold at least as many elements as `send`; the result
    /// goes to its first `send.len()`.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveMismatch`] when ranks pass different lengths or operations;
    /// [`Error::CollectiveBuffer`] when `recv` is short; [`Error::InvalidOperation`];
    /// [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// let out = pip_comm::run(4, |world| {
    ///     let mine = [world.rank() as f64, 1.0];
    ///     let mut sum = [0.0; 2];
    ///     world.all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum()).unwrap();
    ///     sum
    /// })
    /// .unwrap();
    /// assert!(out.iter().all(|s| *s == [6.0, 4.0]));
    /// ```
    fn all_reduce_into<S, R, O>(&self, send: &S, recv: &mut R, op: O) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
        O: Operation<S::Item>,
    {
        reduce::all_reduce_into(self.as_simple(), send, recv, op)
    }

    /// [`all_reduce_into`](CommunicatorCollectives::all_reduce_into) with `buf` as both the input and the
    /// result (MPI's `MPI_IN_PLACE`).
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// pip_comm::run(3, |world| {
    ///     let mut v = [1u32 << world.rank()];
    ///     world.all_reduce_in_place(&mut v[..], SystemOperation::bitwise_or()).unwrap();
    ///     assert_eq!(v, [0b111]);
    /// })
    /// .unwrap();
    /// ```
    fn all_reduce_in_place<B, O>(&self, buf: &mut B, op: O) -> Result<()>
    where
        B: BufferMut + ?Sized,
        O: Operation<B::Item>,
    {
        reduce::all_reduce_in_place(self.as_simple(), buf, op)
    }

    /// Inclusive prefix reduction (MPI's `MPI_Scan`): rank `r` gets
    /// `send(0) ∘ send(1) ∘ ... ∘ send(r)` in `recv`.
    ///
    /// # Errors
    ///
    /// As [`all_reduce_into`](CommunicatorCollectives::all_reduce_into).
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// let out = pip_comm::run(4, |world| {
    ///     let mut r = 0u32;
    ///     world.scan_into(&(world.rank() as u32 + 1), &mut r, SystemOperation::sum()).unwrap();
    ///     r
    /// })
    /// .unwrap();
    /// assert_eq!(out, [1, 3, 6, 10]);
    /// ```
    fn scan_into<S, R, O>(&self, send: &S, recv: &mut R, op: O) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
        O: Operation<S::Item>,
    {
        reduce::scan_into(self.as_simple(), send, recv, op)
    }

    /// Exclusive prefix reduction (MPI's `MPI_Exscan`): rank `r > 0` gets
    /// `send(0) ∘ ... ∘ send(r - 1)` in `recv`; rank 0's `recv` is left as it was.
    ///
    /// # Errors
    ///
    /// As [`all_reduce_into`](CommunicatorCollectives::all_reduce_into).
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// let out = pip_comm::run(4, |world| {
    ///     let mut offset = 0usize;
    ///     let mine = 10 * (world.rank() as usize + 1);
    ///     world.exclusive_scan_into(&mine, &mut offset, SystemOperation::sum()).unwrap();
    ///     offset
    /// })
    /// .unwrap();
    /// assert_eq!(out, [0, 10, 30, 60]);
    /// ```
    fn exclusive_scan_into<S, R, O>(&self, send: &S, recv: &mut R, op: O) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
        O: Operation<S::Item>,
    {
        reduce::exclusive_scan_into(self.as_simple(), send, recv, op)
    }

    /// [`scan_into`](CommunicatorCollectives::scan_into) with `buf` as both the input and the result.
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// let out = pip_comm::run(3, |world| {
    ///     let mut v = [2i64];
    ///     world.scan_in_place(&mut v[..], SystemOperation::product()).unwrap();
    ///     v[0]
    /// })
    /// .unwrap();
    /// assert_eq!(out, [2, 4, 8]);
    /// ```
    fn scan_in_place<B, O>(&self, buf: &mut B, op: O) -> Result<()>
    where
        B: BufferMut + ?Sized,
        O: Operation<B::Item>,
    {
        reduce::scan_in_place(self.as_simple(), buf, op)
    }

    /// [`exclusive_scan_into`](CommunicatorCollectives::exclusive_scan_into) with `buf` as both the input
    /// and the result (rank 0's `buf` is left as it was).
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// use pip_comm::SystemOperation;
    /// let out = pip_comm::run(3, |world| {
    ///     let mut v = [world.rank() as u8 + 1];
    ///     world.exclusive_scan_in_place(&mut v[..], SystemOperation::max()).unwrap();
    ///     v[0]
    /// })
    /// .unwrap();
    /// assert_eq!(out, [1, 1, 2]);
    /// ```
    fn exclusive_scan_in_place<B, O>(&self, buf: &mut B, op: O) -> Result<()>
    where
        B: BufferMut + ?Sized,
        O: Operation<B::Item>,
    {
        reduce::exclusive_scan_in_place(self.as_simple(), buf, op)
    }

    /// Every rank sends piece `r` of its `send` to rank `r` and receives rank `r`'s piece for
    /// it in place `r` of `recv` (MPI's `MPI_Alltoall`). Pieces are `send.len() / size`
    /// elements; `send.len()` must be a multiple of the size and equal on every rank, and
    /// `recv` at least as long.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBufferNotMultiple`] for a `send` that is not a multiple of the size;
    /// [`Error::CollectiveBuffer`] for a short `recv`; [`Error::CollectiveMismatch`] for
    /// different lengths; [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(3, |world| {
    ///     let me = world.rank() as u32;
    ///     let send: Vec<u32> = (0..3).map(|to| me * 10 + to).collect();
    ///     let mut recv = [0u32; 3];
    ///     world.all_to_all_into(&send[..], &mut recv[..]).unwrap();
    ///     recv
    /// })
    /// .unwrap();
    /// assert_eq!(out[1], [1, 11, 21]);
    /// ```
    fn all_to_all_into<S, R>(&self, send: &S, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        alltoall::all_to_all_into(self.as_simple(), send, recv)
    }

    /// [`all_to_all_into`](CommunicatorCollectives::all_to_all_into) with `buf` as both the send and
    /// the receive buffer (its contents are copied first).
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(2, |world| {
    ///     let me = world.rank() as u8;
    ///     let mut buf = [me * 2, me * 2 + 1];
    ///     world.all_to_all_in_place(&mut buf[..]).unwrap();
    ///     assert_eq!(buf, [me, me + 2]);
    /// })
    /// .unwrap();
    /// ```
    fn all_to_all_in_place<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<()> {
        alltoall::all_to_all_in_place(self.as_simple(), buf)
    }

    /// All-to-all with a count per pair (MPI's `MPI_Alltoallv`): this rank sends piece `r` of
    /// the partition `send` to rank `r` and receives rank `r`'s piece into piece `r` of the
    /// partition `recv`. Each pair's counts must agree. The arguments come in the order of
    /// every varcount call: send, then receive, each buffer with its layout.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] when arrays are short or pieces lie outside the buffers;
    /// [`Error::CollectiveMismatch`] when a pair's counts differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(2, |world| {
    ///     let me = world.rank() as usize;
    ///     // Rank r sends r + 1 copies of its rank to each peer.
    ///     let send = vec![me as u8; 2 * (me + 1)];
    ///     let counts = [me + 1; 2];
    ///     let send = Partition::contiguous(&send[..], &counts[..]);
    ///     let mut recv = [9u8; 3];
    ///     let mut into = PartitionMut::contiguous(&mut recv[..], &[1, 2][..]);
    ///     world.all_to_all_varcount_into(&send, &mut into).unwrap();
    ///     recv
    /// })
    /// .unwrap();
    /// assert_eq!(out, [[0, 1, 1], [0, 1, 1]]);
    /// ```
    fn all_to_all_varcount_into<S, R>(
        &self,
        send: &Partition<'_, S>,
        recv: &mut PartitionMut<'_, R>,
    ) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        let (send_counts, send_displs) = (send.counts(), send.displs());
        let (recv, recv_counts, recv_displs) = recv.parts();
        alltoall::all_to_all_varcount_into(
            self.as_simple(),
            send.buf,
            recv,
            send_counts,
            send_displs,
            recv_counts,
            recv_displs,
        )
    }
}

impl CommunicatorCollectives for SimpleCommunicator {}
