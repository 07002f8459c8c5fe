//! Scatter: each rank copies its piece straight out of the root's send buffer.

use super::{at, check_layout, copy_bytes, need, Desc, Kind, Session};
use crate::datatype::{Buffer, BufferMut, Equivalence};
use crate::world::Communicator;
use crate::{Error, Process, Rank, Result};

/// One rank's arguments to a scatter.
struct Args<'a> {
    kind: Kind,
    root: Rank,
    elem: usize,
    /// The root's send buffer (null elsewhere).
    send: *const u8,
    /// This rank's receive buffer (null for an in-place root).
    recv: *mut u8,
    /// Elements to receive (the uniform count for `Scatter`).
    count: usize,
    /// The root's counts and displacements (`Scatterv`).
    layout: Option<(&'a [usize], &'a [usize])>,
    local: Result<()>,
}

fn scatter_impl(comm: &Communicator, a: Args<'_>) -> Result<()> {
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
    let (me, elem) = (s.me, a.elem);
    let uniform = a.kind == Kind::Scatter;
    if me == plan.root {
        if !a.recv.is_null() {
            let off = match a.layout {
                Some((_, displs)) => displs[me as usize],
                None => me as usize * a.count,
            };
            // SAFETY: our own send buffer holds our piece (checked locally); our receive
            // buffer is ours.
            unsafe { copy_bytes(comm, at(a.send, off, elem), a.recv, a.count * elem) };
        }
    } else {
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
                // SAFETY: the root's send buffer holds our piece at `off` (checked by the root
                // before publishing) until we release its slot; our buffer is ours.
                unsafe { copy_bytes(comm, at(d.send, off, elem), a.recv, a.count * elem) };
            }
        }
        s.release(root);
    }
    s.finish()
}

fn elem_of<T>() -> usize {
    std::mem::size_of::<T>()
}

impl Process<'_> {
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
    pub fn scatter_into<R: BufferMut + ?Sized>(&self, recv: &mut R) -> Result<()> {
        self.scatter_nonroot(Kind::Scatter, recv.as_mut_slice())
    }

    /// The root's part in a scatter: `send` (at least `size * recv.len()` elements) is cut in
    /// rank order; the root's own piece goes to `recv`. On another rank this is
    /// [`scatter_into`](Process::scatter_into).
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] for a short `send`; as [`scatter_into`](Process::scatter_into).
    ///
    /// # Examples
    ///
    /// See [`scatter_into`](Process::scatter_into).
    pub fn scatter_into_root<S, R>(&self, send: &S, recv: &mut R) -> Result<()>
    where
        S: Buffer + ?Sized,
        R: BufferMut<Item = S::Item> + ?Sized,
    {
        if self.rank != self.comm.rank() {
            return self.scatter_into(recv);
        }
        let (send, recv) = (send.as_slice(), recv.as_mut_slice());
        let n = self.comm.size() as usize;
        let a = Args {
            kind: Kind::Scatter,
            root: self.rank,
            elem: elem_of::<S::Item>(),
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            count: recv.len(),
            layout: None,
            local: need("the send buffer", n * recv.len(), send.len()),
        };
        scatter_impl(self.comm, a)
    }

    /// The root's part in a scatter that keeps its own piece in `send` (in place): pieces are
    /// `send.len() / size` elements (MPI's `MPI_Scatter` with `MPI_IN_PLACE` at the root).
    /// The other ranks call [`scatter_into`](Process::scatter_into).
    ///
    /// # Errors
    ///
    /// [`Error::InPlaceNotAtRoot`] on a rank that is not the root (the root then gets
    /// [`Error::CollectivePeer`]); as [`scatter_into`](Process::scatter_into).
    ///
    /// ```
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
    pub fn scatter_in_place_root<S: Buffer + ?Sized>(&self, send: &S) -> Result<()> {
        let send = send.as_slice();
        let n = self.comm.size() as usize;
        if self.rank != self.comm.rank() {
            let local = self
                .comm
                .check_root(self.rank)
                .and(Err(Error::InPlaceNotAtRoot {
                    collective: "scatter",
                    root: self.rank,
                    rank: self.comm.rank(),
                }));
            let mut none: [S::Item; 0] = [];
            return self.scatter_nonroot_with(Kind::Scatter, &mut none[..], local);
        }
        let a = Args {
            kind: Kind::Scatter,
            root: self.rank,
            elem: elem_of::<S::Item>(),
            send: send.as_ptr().cast(),
            recv: std::ptr::null_mut(),
            count: send.len() / n,
            layout: None,
            local: Ok(()),
        };
        scatter_impl(self.comm, a)
    }

    /// A non-root rank's part in a scatter with a count per rank (MPI's `MPI_Scatterv`):
    /// `recv` gets the root's piece for this rank, whose count must be `recv.len()`.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveMismatch`] when the root's count for this rank is not `recv.len()`;
    /// as [`scatter_into`](Process::scatter_into).
    ///
    /// # Examples
    ///
    /// ```
    /// let out = pip_comm::run(3, |world| {
    ///     let root = world.process_at_rank(0);
    ///     let mut mine = vec![0u16; world.rank() as usize];
    ///     if world.rank() == 0 {
    ///         let counts = [0, 1, 2];
    ///         let displs = [0, 2, 0];
    ///         root.scatter_varcount_into_root(&[7u16, 8, 9][..], &mut mine[..], &counts, &displs)
    ///             .unwrap();
    ///     } else {
    ///         root.scatter_varcount_into(&mut mine[..]).unwrap();
    ///     }
    ///     mine
    /// })
    /// .unwrap();
    /// assert_eq!(out, [vec![], vec![9], vec![7, 8]]);
    /// ```
    pub fn scatter_varcount_into<R: BufferMut + ?Sized>(&self, recv: &mut R) -> Result<()> {
        self.scatter_nonroot(Kind::Scatterv, recv.as_mut_slice())
    }

    /// The root's part in a scatter with a count per rank: rank `r` gets `counts[r]` elements
    /// from `send[displs[r]..]`; the root's own piece goes to `recv`. On another rank this is
    /// [`scatter_varcount_into`](Process::scatter_varcount_into). The arguments come in the
    /// order of every varcount call: the buffers (send, receive), then the layout.
    ///
    /// # Errors
    ///
    /// [`Error::CollectiveBuffer`] when `counts`/`displs` are short or a piece lies outside
    /// `send`; [`Error::CollectiveMismatch`] when `recv.len()` is not `counts[root]`.
    ///
    /// # Examples
    ///
    /// See [`scatter_varcount_into`](Process::scatter_varcount_into).
    pub fn scatter_varcount_into_root<S, R>(
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
            return self.scatter_varcount_into(recv);
        }
        let (send, recv) = (send.as_slice(), recv.as_mut_slice());
        let n = self.comm.size() as usize;
        let me = self.rank as usize;
        let local = check_layout("the send buffer", counts, displs, n, send.len()).and_then(|()| {
            if counts[me] == recv.len() {
                Ok(())
            } else {
                Err(Error::CollectiveMismatch {
                    what: "the element count",
                    rank: self.rank,
                    ours: recv.len() as u64,
                    theirs: counts[me] as u64,
                })
            }
        });
        let ok = local.is_ok();
        let a = Args {
            kind: Kind::Scatterv,
            root: self.rank,
            elem: elem_of::<S::Item>(),
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            count: recv.len(),
            layout: ok.then_some((counts, displs)),
            local,
        };
        scatter_impl(self.comm, a)
    }

    fn scatter_nonroot<T: Equivalence>(&self, kind: Kind, recv: &mut [T]) -> Result<()> {
        let comm = self.comm;
        let local = if self.rank == comm.rank() {
            Err(Error::RootVariantRequired {
                collective: "scatter",
                rank: self.rank,
            })
        } else {
            comm.check_root(self.rank)
        };
        self.scatter_nonroot_with(kind, recv, local)
    }

    /// A non-root rank's part in a scatter, failed or not as `local` says (a failed part
    /// still takes part, so that no rank waits for it forever).
    fn scatter_nonroot_with<T: Equivalence>(
        &self,
        kind: Kind,
        recv: &mut [T],
        local: Result<()>,
    ) -> Result<()> {
        let comm = self.comm;
        let a = Args {
            kind,
            root: self.rank,
            elem: elem_of::<T>(),
            send: std::ptr::null(),
            recv: recv.as_mut_ptr().cast(),
            count: recv.len(),
            layout: None,
            local,
        };
        scatter_impl(comm, a)
    }
}
