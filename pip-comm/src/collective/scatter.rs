//! Scatter: each rank copies its piece straight out of the root's send buffer.

use super::{at, check_layout, copy_bytes, need, small, Desc, Kind, Session};
use crate::datatype::{Buffer, BufferMut, Equivalence};
use crate::world::SimpleCommunicator;
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

fn scatter_impl(comm: &SimpleCommunicator, a: Args<'_>) -> Result<()> {
    let piece = a.count * a.elem;
    if a.kind == Kind::Scatter && small::fits(comm, 1, piece.saturating_mul(comm.n as usize)) {
        if let Some(c) = small::Call::begin(comm)? {
            let b = small::Args {
                root: a.root,
                send: a.send,
                recv: a.recv,
                piece,
                count: a.count,
                elem: a.elem,
                local: a.local,
            };
            // SAFETY: the root's send buffer holds `size` pieces and every receive buffer one
            // (short ones are in `local`, and then nothing is read or written); it fits.
            return unsafe { small::scatter(c, b) };
        }
    }
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
    let mut s = Session::begin(comm, desc, local)?;
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
                            rank: crate::rank::public(root),
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

/// The body of `scatter_into` (documented on the trait).
pub(crate) fn scatter_into<R: BufferMut + ?Sized>(root: &Process<'_>, recv: &mut R) -> Result<()> {
    scatter_nonroot(root, Kind::Scatter, recv.as_mut_slice())
}

/// The body of `scatter_into_root` (documented on the trait).
pub(crate) fn scatter_into_root<S, R>(root: &Process<'_>, send: &S, recv: &mut R) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
{
    if root.rank != root.comm.rank() {
        return scatter_into(root, recv);
    }
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let n = crate::rank::index(root.comm.size());
    let a = Args {
        kind: Kind::Scatter,
        root: root.rank,
        elem: elem_of::<S::Item>(),
        send: send.as_ptr().cast(),
        recv: recv.as_mut_ptr().cast(),
        count: recv.len(),
        layout: None,
        local: need("the send buffer", n * recv.len(), send.len()),
    };
    scatter_impl(root.comm, a)
}

/// The body of `scatter_in_place_root` (documented on the trait).
pub(crate) fn scatter_in_place_root<S: Buffer + ?Sized>(
    root: &Process<'_>,
    send: &S,
) -> Result<()> {
    let send = send.as_slice();
    let n = crate::rank::index(root.comm.size());
    if root.rank != root.comm.rank() {
        let local = root
            .comm
            .check_root(root.rank)
            .and(Err(Error::InPlaceNotAtRoot {
                collective: "scatter",
                root: root.rank,
                rank: root.comm.rank(),
            }));
        let mut none: [S::Item; 0] = [];
        return scatter_nonroot_with(root, Kind::Scatter, &mut none[..], local);
    }
    let a = Args {
        kind: Kind::Scatter,
        root: root.rank,
        elem: elem_of::<S::Item>(),
        send: send.as_ptr().cast(),
        recv: std::ptr::null_mut(),
        count: send.len() / n,
        layout: None,
        local: Ok(()),
    };
    scatter_impl(root.comm, a)
}

/// The body of `scatter_varcount_into` (documented on the trait).
pub(crate) fn scatter_varcount_into<R: BufferMut + ?Sized>(
    root: &Process<'_>,
    recv: &mut R,
) -> Result<()> {
    scatter_nonroot(root, Kind::Scatterv, recv.as_mut_slice())
}

/// The body of `scatter_varcount_into_root` (documented on the trait).
pub(crate) fn scatter_varcount_into_root<S, R>(
    root: &Process<'_>,
    send: &S,
    recv: &mut R,
    counts: &[usize],
    displs: &[usize],
) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
{
    if root.rank != root.comm.rank() {
        return scatter_varcount_into(root, recv);
    }
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let n = crate::rank::index(root.comm.size());
    let me = crate::rank::index(root.rank);
    let local = check_layout("the send buffer", counts, displs, n, send.len()).and_then(|()| {
        if counts[me] == recv.len() {
            Ok(())
        } else {
            Err(Error::CollectiveMismatch {
                what: "the element count",
                rank: root.rank,
                ours: recv.len() as u64,
                theirs: counts[me] as u64,
            })
        }
    });
    let ok = local.is_ok();
    let a = Args {
        kind: Kind::Scatterv,
        root: root.rank,
        elem: elem_of::<S::Item>(),
        send: send.as_ptr().cast(),
        recv: recv.as_mut_ptr().cast(),
        count: recv.len(),
        layout: ok.then_some((counts, displs)),
        local,
    };
    scatter_impl(root.comm, a)
}

fn scatter_nonroot<T: Equivalence>(root: &Process<'_>, kind: Kind, recv: &mut [T]) -> Result<()> {
    let comm = root.comm;
    let local = if root.rank == comm.rank() {
        Err(Error::RootVariantRequired {
            collective: "scatter",
            rank: root.rank,
        })
    } else {
        comm.check_root(root.rank)
    };
    scatter_nonroot_with(root, kind, recv, local)
}

/// A non-root rank's part in a scatter, failed or not as `local` says (a failed part
/// still takes part, so that no rank waits for it forever).
fn scatter_nonroot_with<T: Equivalence>(
    root: &Process<'_>,
    kind: Kind,
    recv: &mut [T],
    local: Result<()>,
) -> Result<()> {
    let comm = root.comm;
    let a = Args {
        kind,
        root: root.rank,
        elem: elem_of::<T>(),
        send: std::ptr::null(),
        recv: recv.as_mut_ptr().cast(),
        count: recv.len(),
        layout: None,
        local,
    };
    scatter_impl(comm, a)
}
