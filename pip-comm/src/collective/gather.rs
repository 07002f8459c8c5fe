//! Gather and all-gather: each rank writes its piece straight into the root's receive buffer
//! (gather), or copies every peer's piece straight from the peer's send buffer (all-gather).

use super::{at, at_mut, check_layout, copy_bytes, need, Desc, Kind, Session};
use crate::datatype::{Buffer, BufferMut, Equivalence};
use crate::world::Communicator;
use crate::{Error, Process, Rank, Result};

/// One rank's arguments to a gather or all-gather.
struct Args<'a> {
    kind: Kind,
    root: Rank,
    elem: usize,
    /// This rank's piece (null when in place).
    send: *const u8,
    /// The piece's length (the uniform count for `Gather`/`Allgather`).
    count: usize,
    /// The receive buffer (the root's, or everyone's for an all-gather; null elsewhere).
    recv: *mut u8,
    /// Counts and displacements (`Gatherv` root, `Allgatherv` everyone).
    layout: Option<(&'a [usize], &'a [usize])>,
    local: Result<()>,
}

impl Args<'_> {
    /// Where rank `q`'s piece goes in a receive buffer, in elements.
    fn offset(&self, q: u32) -> usize {
        match self.layout {
            Some((_, displs)) => displs[q as usize],
            None => q as usize * self.count,
        }
    }
}

fn gather_impl(comm: &Communicator, a: Args<'_>) -> Result<()> {
    let mut desc = Desc::new(a.kind, a.root, a.elem, a.count);
    desc.send = a.send;
    desc.recv = a.recv;
    if let Some((counts, displs)) = a.layout {
        desc.counts = counts.as_ptr();
        desc.displs = displs.as_ptr();
        desc.ncounts = counts.len().min(displs.len());
    }
    let mut a = a;
    let local = std::mem::replace(&mut a.local, Ok(()));
    let mut s = Session::begin(comm, desc, local);
    let plan = s.agree(&desc)?;
    if !s.ok() {
        return s.finish();
    }
    let (me, n, elem) = (s.me, s.n, a.elem);
    let uniform = matches!(a.kind, Kind::Gather | Kind::Allgather);
    match a.kind {
        Kind::Gather | Kind::Gatherv if me != plan.root => {
            let root = plan.root;
            let d = s.enter(root)?;
            if s.check_peer(root, &d, &desc, uniform, false) {
                let off = if uniform {
                    Some(me as usize * a.count)
                } else {
                    // SAFETY: the root keeps its arrays until we release its slot.
                    let (counts, displs) = unsafe { d.arrays() };
                    match (counts.get(me as usize), displs.get(me as usize)) {
                        (Some(&c), Some(&at)) if c == a.count => Some(at),
                        (c, _) => {
                            s.fail(Error::CollectiveMismatch {
                                what: "the element count",
                                rank: root as Rank,
                                ours: a.count as u64,
                                theirs: c.map_or(0, |&c| c as u64),
                            });
                            None
                        }
                    }
                };
                if let Some(off) = off {
                    // SAFETY: the root's receive buffer holds our piece at `off` (checked by
                    // the root against its length before publishing); only we write there;
                    // our send buffer is ours.
                    unsafe { copy_bytes(comm, a.send, at_mut(d.recv, off, elem), a.count * elem) };
                }
            }
            s.release(root);
        }
        Kind::Gather | Kind::Gatherv => {
            // The root: its own piece (unless in place); the others write theirs.
            if !a.send.is_null() {
                // SAFETY: our receive buffer holds our piece's place (checked locally).
                unsafe {
                    copy_bytes(
                        comm,
                        a.send,
                        at_mut(a.recv, a.offset(me), elem),
                        a.count * elem,
                    )
                };
            }
        }
        _ => {
            // All-gather: copy every peer's piece, starting after ourselves.
            if !a.send.is_null() {
                // SAFETY: as above.
                unsafe {
                    copy_bytes(
                        comm,
                        a.send,
                        at_mut(a.recv, a.offset(me), elem),
                        a.count * elem,
                    )
                };
            }
            for k in 1..n {
                let q = (me + k) % n;
                let d = s.enter(q)?;
                let want = match a.layout {
                    Some((counts, _)) => counts[q as usize],
                    None => a.count,
                };
                if s.check_peer(q, &d, &desc, uniform, false) {
                    if d.count != want {
                        s.fail(Error::CollectiveMismatch {
                            what: "the element count",
                            rank: q as Rank,
                            ours: want as u64,
                            theirs: d.count as u64,
                        });
                    } else {
                        // SAFETY: q's piece has `want` elements and stays until we release
                        // q; our receive buffer holds q's place (checked locally) and only we
                        // write it.
                        unsafe {
                            copy_bytes(comm, d.send, at_mut(a.recv, a.offset(q), elem), want * elem)
                        };
                    }
                }
                s.release(q);
            }
        }
    }
    s.finish()
}

fn elem_of<T>() -> usize {
    std::mem::size_of::<T>()
}

impl Process<'_> {
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
    pub fn gather_into<S: Buffer + ?Sized>(&self, send: &S) -> Result<()> {
        self.gather_nonroot(Kind::Gather, send.as_slice())
    }

    /// The root's part in a gather: its own `send` and every other rank's go to `recv`
    /// (at least `size * send.len()` elements) in rank order. On another rank this is
    /// [`gather_into`](Process::gather_into).
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] for a short `recv`; as [`gather_into`](Process::gather_into).
    ///
    /// # Examples
    ///
    /// See [`gather_into`](Process::gather_into).
    pub fn gather_into_root<S, R>(&self, send: &S, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        if self.rank != self.comm.rank() {
            return self.gather_into(send);
        }
        let (send, recv) = (send.as_slice(), recv.as_mut_slice());
        let n = self.comm.size() as usize;
        let a = Args {
            kind: Kind::Gather,
            root: self.rank,
            elem: elem_of::<S::Item>(),
            send: send.as_ptr().cast(),
            count: send.len(),
            recv: recv.as_mut_ptr().cast(),
            layout: None,
            local: need("the receive buffer", n * send.len(), recv.len()),
        };
        gather_impl(self.comm, a)
    }

    /// The root's part in a gather whose own piece is already in place in `recv`, at
    /// `root * count` where `count = recv.len() / size` (MPI's `MPI_Gather` with
    /// `MPI_IN_PLACE` at the root).
    ///
    /// On a rank that is not the root, `recv` is that rank's piece, all of it, as MPI's
    /// non-root send buffer: the call is [`gather_into`](Process::gather_into)`(recv)` (as
    /// [`reduce_in_place_root`](Process::reduce_in_place_root) is `reduce_into`), so every
    /// rank may make the same call, the non-roots with a buffer of `count` elements.
    ///
    /// # Errors
    ///
    /// As [`gather_into`](Process::gather_into): a non-root buffer that is not `count` long
    /// is [`Error::CollectiveMismatch`].
    ///
    /// ```
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
    pub fn gather_in_place_root<R: BufferMut + ?Sized>(&self, recv: &mut R) -> Result<()> {
        let recv = recv.as_mut_slice();
        let n = self.comm.size() as usize;
        let count = recv.len() / n;
        if self.rank != self.comm.rank() {
            // As MPI's non-root send buffer: all of it.
            return self.gather_into(recv);
        }
        let a = Args {
            kind: Kind::Gather,
            root: self.rank,
            elem: elem_of::<R::Item>(),
            send: std::ptr::null(),
            count,
            recv: recv.as_mut_ptr().cast(),
            layout: None,
            local: Ok(()),
        };
        gather_impl(self.comm, a)
    }

    /// A non-root rank's part in a gather with a count per rank (MPI's `MPI_Gatherv`): its
    /// `send` goes where the root's displacement for it says.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveMismatch`] when `send.len()` is not the root's count for this rank;
    /// as [`gather_into`](Process::gather_into).
    ///
    /// # Examples
    ///
    /// ```
    /// let out = pip_comm::run(3, |world| {
    ///     let root = world.process_at_rank(0);
    ///     let mine = vec![world.rank() as i16; world.rank() as usize + 1];
    ///     if world.rank() == 0 {
    ///         let counts = [1, 2, 3];
    ///         let displs = pip_comm::collective::displacements(&counts);
    ///         let mut all = [0i16; 6];
    ///         root.gather_varcount_into_root(&mine[..], &mut all[..], &counts, &displs).unwrap();
    ///         all
    ///     } else {
    ///         root.gather_varcount_into(&mine[..]).unwrap();
    ///         [0; 6]
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(out[0], [0, 1, 1, 2, 2, 2]);
    /// ```
    pub fn gather_varcount_into<S: Buffer + ?Sized>(&self, send: &S) -> Result<()> {
        self.gather_nonroot(Kind::Gatherv, send.as_slice())
    }

    /// The root's part in a gather with a count per rank: rank `r`'s piece (`counts[r]`
    /// elements) goes to `recv[displs[r]..]`. On another rank this is
    /// [`gather_varcount_into`](Process::gather_varcount_into).
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] when `counts` or `displs` have fewer than `size` entries or
    /// a piece does not fit `recv`; [`Error::CollectiveMismatch`] when `send.len()` is not
    /// `counts[root]`.
    ///
    /// # Examples
    ///
    /// See [`gather_varcount_into`](Process::gather_varcount_into).
    pub fn gather_varcount_into_root<S, R>(
        &self,
        send: &S,
        recv: &mut R,
        counts: &[usize],
        displs: &[usize],
    ) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        if self.rank != self.comm.rank() {
            return self.gather_varcount_into(send);
        }
        let (send, recv) = (send.as_slice(), recv.as_mut_slice());
        let n = self.comm.size() as usize;
        let local =
            check_layout("the receive buffer", counts, displs, n, recv.len()).and_then(|()| {
                if counts[self.rank as usize] == send.len() {
                    Ok(())
                } else {
                    Err(Error::CollectiveMismatch {
                        what: "the element count",
                        rank: self.rank,
                        ours: send.len() as u64,
                        theirs: counts[self.rank as usize] as u64,
                    })
                }
            });
        let a = Args {
            kind: Kind::Gatherv,
            root: self.rank,
            elem: elem_of::<S::Item>(),
            send: send.as_ptr().cast(),
            count: send.len(),
            recv: recv.as_mut_ptr().cast(),
            layout: Some((counts, displs)),
            local,
        };
        gather_impl(self.comm, a)
    }

    fn gather_nonroot<T: Equivalence>(&self, kind: Kind, send: &[T]) -> Result<()> {
        let comm = self.comm;
        let local = if self.rank == comm.rank() {
            Err(Error::RootVariantRequired {
                collective: "gather",
                rank: self.rank,
            })
        } else {
            comm.check_root(self.rank)
        };
        let a = Args {
            kind,
            root: self.rank,
            elem: elem_of::<T>(),
            send: send.as_ptr().cast(),
            count: send.len(),
            recv: std::ptr::null_mut(),
            layout: None,
            local,
        };
        gather_impl(comm, a)
    }
}

impl Communicator {
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
    /// let out = pip_comm::run(3, |world| {
    ///     let mut all = [0u64; 3];
    ///     world.all_gather_into(&(world.rank() as u64 * 2), &mut all[..]).unwrap();
    ///     all
    /// })
    /// .unwrap();
    /// assert!(out.iter().all(|a| *a == [0, 2, 4]));
    /// ```
    pub fn all_gather_into<S, R>(&self, send: &S, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        let (send, recv) = (send.as_slice(), recv.as_mut_slice());
        let a = Args {
            kind: Kind::Allgather,
            root: 0,
            elem: elem_of::<S::Item>(),
            send: send.as_ptr().cast(),
            count: send.len(),
            recv: recv.as_mut_ptr().cast(),
            layout: None,
            local: need(
                "the receive buffer",
                self.size() as usize * send.len(),
                recv.len(),
            ),
        };
        gather_impl(self, a)
    }

    /// [`all_gather_into`](Communicator::all_gather_into) where each rank's piece is already
    /// in place in `buf`, at `rank * count` with `count = buf.len() / size`.
    ///
    /// ```
    /// pip_comm::run(4, |world| {
    ///     let mut all = [0i32; 4];
    ///     all[world.rank() as usize] = world.rank() * 3;
    ///     world.all_gather_in_place(&mut all[..]).unwrap();
    ///     assert_eq!(all, [0, 3, 6, 9]);
    /// })
    /// .unwrap();
    /// ```
    pub fn all_gather_in_place<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<()> {
        let buf = buf.as_mut_slice();
        let count = buf.len() / self.size() as usize;
        let mine = at(
            buf.as_ptr().cast(),
            self.rank() as usize * count,
            elem_of::<B::Item>(),
        );
        let a = Args {
            kind: Kind::Allgather,
            root: 0,
            elem: elem_of::<B::Item>(),
            send: std::ptr::null(),
            count,
            recv: buf.as_mut_ptr().cast(),
            layout: None,
            local: Ok(()),
        };
        gather_impl_in_place(self, a, mine)
    }

    /// Gathers every rank's `send` (rank `r` sends `counts[r]` elements) into every rank's
    /// `recv` at `displs[r]` (MPI's `MPI_Allgatherv`). Every rank passes the same `counts` and
    /// `displs`.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] when `counts`/`displs` are short or a piece does not fit;
    /// [`Error::CollectiveMismatch`] when a rank's `send.len()` is not its count.
    ///
    /// # Examples
    ///
    /// ```
    /// let out = pip_comm::run(3, |world| {
    ///     let counts = [2, 0, 1];
    ///     let displs = [1, 0, 0];
    ///     let mine = vec![world.rank() as u8 + 1; counts[world.rank() as usize]];
    ///     let mut all = [0u8; 3];
    ///     world.all_gather_varcount_into(&mine[..], &mut all[..], &counts, &displs).unwrap();
    ///     all
    /// })
    /// .unwrap();
    /// assert!(out.iter().all(|a| *a == [3, 1, 1]));
    /// ```
    pub fn all_gather_varcount_into<S, R>(
        &self,
        send: &S,
        recv: &mut R,
        counts: &[usize],
        displs: &[usize],
    ) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        let (send, recv) = (send.as_slice(), recv.as_mut_slice());
        let n = self.size() as usize;
        let me = self.rank() as usize;
        let local =
            check_layout("the receive buffer", counts, displs, n, recv.len()).and_then(|()| {
                if counts[me] == send.len() {
                    Ok(())
                } else {
                    Err(Error::CollectiveMismatch {
                        what: "the element count",
                        rank: me as Rank,
                        ours: send.len() as u64,
                        theirs: counts[me] as u64,
                    })
                }
            });
        let ok = local.is_ok();
        let a = Args {
            kind: Kind::Allgatherv,
            root: 0,
            elem: elem_of::<S::Item>(),
            send: send.as_ptr().cast(),
            count: send.len(),
            recv: recv.as_mut_ptr().cast(),
            layout: ok.then_some((counts, displs)),
            local,
        };
        gather_impl(self, a)
    }
}

/// An in-place all-gather: publishes our piece inside `recv` as our send buffer.
fn gather_impl_in_place(comm: &Communicator, a: Args<'_>, mine: *const u8) -> Result<()> {
    // Others read our piece at `mine` while we write the other places of the same buffer:
    // disjoint ranges. Our own piece needs no copy.
    let mut desc = Desc::new(a.kind, a.root, a.elem, a.count);
    desc.send = mine;
    desc.recv = a.recv;
    let mut s = Session::begin(comm, desc, Ok(()));
    s.agree(&desc)?;
    if !s.ok() {
        return s.finish();
    }
    let (me, n) = (s.me, s.n);
    for k in 1..n {
        let q = (me + k) % n;
        let d = s.enter(q)?;
        if s.check_peer(q, &d, &desc, true, false) {
            // SAFETY: q's piece (count elements) stays until we release q; q's place in our
            // buffer is written by us alone and read by nobody.
            unsafe {
                copy_bytes(
                    comm,
                    d.send,
                    at_mut(a.recv, q as usize * a.count, a.elem),
                    a.count * a.elem,
                )
            };
        }
        s.release(q);
    }
    s.finish()
}
