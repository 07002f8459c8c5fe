//! Gather and all-gather: each rank writes its piece straight into the root's receive buffer
//! (gather), or copies every peer's piece straight from the peer's send buffer (all-gather).

use super::{at, at_mut, check_layout, copy_bytes, need, small, Desc, Kind, Session};
use crate::datatype::{Buffer, BufferMut, Equivalence};
use crate::world::SimpleCommunicator;
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

/// One rank's gather or all-gather: publishes its arguments, agrees on the plan, then writes
/// its piece into the root's buffer (a non-root of a gather) or copies the peers' pieces into
/// its own (an all-gather).
fn gather_impl(comm: &SimpleCommunicator, a: Args<'_>) -> Result<()> {
    let piece = a.count * a.elem;
    if is_uniform(a.kind) && small::fits(comm, 1, piece) {
        if let Some(c) = small::Call::begin(comm)? {
            let all = a.kind == Kind::Allgather;
            let b = small::Args {
                root: a.root,
                send: a.send,
                recv: a.recv,
                piece,
                count: a.count,
                elem: a.elem,
                local: a.local,
            };
            // SAFETY: the buffers come from slices of these lengths (short ones are in
            // `local`, and then nothing is read or written); the piece fits.
            return unsafe {
                if all {
                    small::all_gather(c, b)
                } else {
                    small::gather(c, b)
                }
            };
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
    match a.kind {
        Kind::Gather | Kind::Gatherv if s.me != plan.root => {
            put_at_root(comm, &mut s, &desc, &a, plan.root)?;
        }
        Kind::Gather | Kind::Gatherv => {
            // The root: its own piece (unless in place); the others write theirs.
            copy_own_piece(comm, &a, s.me);
        }
        _ => {
            // All-gather: copy every peer's piece, starting after ourselves.
            copy_own_piece(comm, &a, s.me);
            copy_peers(comm, &mut s, &desc, &a)?;
        }
    }
    s.finish()
}

/// True for the gathers whose pieces all have the same length.
fn is_uniform(kind: Kind) -> bool {
    matches!(kind, Kind::Gather | Kind::Allgather)
}

/// A non-root's part of a gather: writes its piece into the root's receive buffer, where the
/// root's layout places it.
fn put_at_root(
    comm: &SimpleCommunicator,
    s: &mut Session<'_>,
    desc: &Desc,
    a: &Args<'_>,
    root: u32,
) -> Result<()> {
    let (me, elem, uniform) = (s.me, a.elem, is_uniform(a.kind));
    let d = s.enter(root)?;
    if s.check_peer(root, &d, desc, uniform, false) {
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
            // SAFETY: the root's receive buffer holds our piece at `off` (checked by the root
            // against its length before publishing); only we write there; our send buffer is
            // ours.
            unsafe { copy_bytes(comm, a.send, at_mut(d.recv, off, elem), a.count * elem) };
        }
    }
    s.release(root);
    Ok(())
}

/// Copies this rank's own piece into its receive buffer (unless it is there already: in
/// place).
fn copy_own_piece(comm: &SimpleCommunicator, a: &Args<'_>, me: u32) {
    if a.send.is_null() {
        return;
    }
    // SAFETY: our receive buffer holds our piece's place (checked locally).
    unsafe {
        copy_bytes(
            comm,
            a.send,
            at_mut(a.recv, a.offset(me), a.elem),
            a.count * a.elem,
        )
    };
}

/// An all-gather's copies: every peer's piece into its place in our receive buffer, starting
/// with the rank after ours (so that the ranks do not all read rank 0 first).
fn copy_peers(
    comm: &SimpleCommunicator,
    s: &mut Session<'_>,
    desc: &Desc,
    a: &Args<'_>,
) -> Result<()> {
    let (me, n, elem, uniform) = (s.me, s.n, a.elem, is_uniform(a.kind));
    for k in 1..n {
        let q = (me + k) % n;
        let d = s.enter(q)?;
        let want = match a.layout {
            Some((counts, _)) => counts[q as usize],
            None => a.count,
        };
        if s.check_peer(q, &d, desc, uniform, false) {
            if d.count != want {
                s.fail(Error::CollectiveMismatch {
                    what: "the element count",
                    rank: crate::rank::public(q),
                    ours: want as u64,
                    theirs: d.count as u64,
                });
            } else {
                // SAFETY: q's piece has `want` elements and stays until we release q; our
                // receive buffer holds q's place (checked locally) and only we write it.
                unsafe { copy_bytes(comm, d.send, at_mut(a.recv, a.offset(q), elem), want * elem) };
            }
        }
        s.release(q);
    }
    Ok(())
}

fn elem_of<T>() -> usize {
    std::mem::size_of::<T>()
}

/// The body of `gather_into` (documented on the trait).
pub(crate) fn gather_into<S: Buffer + ?Sized>(root: &Process<'_>, send: &S) -> Result<()> {
    gather_nonroot(root, Kind::Gather, send.as_slice())
}

/// The body of `gather_into_root` (documented on the trait).
pub(crate) fn gather_into_root<S, R>(root: &Process<'_>, send: &S, recv: &mut R) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
{
    if root.rank != root.comm.rank() {
        return gather_into(root, send);
    }
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let n = crate::rank::index(root.comm.size());
    let a = Args {
        kind: Kind::Gather,
        root: root.rank,
        elem: elem_of::<S::Item>(),
        send: send.as_ptr().cast(),
        count: send.len(),
        recv: recv.as_mut_ptr().cast(),
        layout: None,
        local: need("the receive buffer", n * send.len(), recv.len()),
    };
    gather_impl(root.comm, a)
}

/// The body of `gather_in_place_root` (documented on the trait).
pub(crate) fn gather_in_place_root<R: BufferMut + ?Sized>(
    root: &Process<'_>,
    recv: &mut R,
) -> Result<()> {
    let recv = recv.as_mut_slice();
    let n = crate::rank::index(root.comm.size());
    let count = recv.len() / n;
    if root.rank != root.comm.rank() {
        // As MPI's non-root send buffer: all of it.
        return gather_into(root, recv);
    }
    let a = Args {
        kind: Kind::Gather,
        root: root.rank,
        elem: elem_of::<R::Item>(),
        send: std::ptr::null(),
        count,
        recv: recv.as_mut_ptr().cast(),
        layout: None,
        local: Ok(()),
    };
    gather_impl(root.comm, a)
}

/// The body of `gather_varcount_into` (documented on the trait).
pub(crate) fn gather_varcount_into<S: Buffer + ?Sized>(root: &Process<'_>, send: &S) -> Result<()> {
    gather_nonroot(root, Kind::Gatherv, send.as_slice())
}

/// The body of `gather_varcount_into_root` (documented on the trait).
pub(crate) fn gather_varcount_into_root<S, R>(
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
        return gather_varcount_into(root, send);
    }
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let n = crate::rank::index(root.comm.size());
    let local = check_layout("the receive buffer", counts, displs, n, recv.len()).and_then(|()| {
        if counts[crate::rank::index(root.rank)] == send.len() {
            Ok(())
        } else {
            Err(Error::CollectiveMismatch {
                what: "the element count",
                rank: root.rank,
                ours: send.len() as u64,
                theirs: counts[crate::rank::index(root.rank)] as u64,
            })
        }
    });
    let a = Args {
        kind: Kind::Gatherv,
        root: root.rank,
        elem: elem_of::<S::Item>(),
        send: send.as_ptr().cast(),
        count: send.len(),
        recv: recv.as_mut_ptr().cast(),
        layout: Some((counts, displs)),
        local,
    };
    gather_impl(root.comm, a)
}

fn gather_nonroot<T: Equivalence>(root: &Process<'_>, kind: Kind, send: &[T]) -> Result<()> {
    let comm = root.comm;
    let local = if root.rank == comm.rank() {
        Err(Error::RootVariantRequired {
            collective: "gather",
            rank: root.rank,
        })
    } else {
        comm.check_root(root.rank)
    };
    let a = Args {
        kind,
        root: root.rank,
        elem: elem_of::<T>(),
        send: send.as_ptr().cast(),
        count: send.len(),
        recv: std::ptr::null_mut(),
        layout: None,
        local,
    };
    gather_impl(comm, a)
}

/// The body of `all_gather_into` (documented on the trait).
pub(crate) fn all_gather_into<S, R>(comm: &SimpleCommunicator, send: &S, recv: &mut R) -> Result<()>
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
            crate::rank::index(comm.size()) * send.len(),
            recv.len(),
        ),
    };
    gather_impl(comm, a)
}

/// The body of `all_gather_in_place` (documented on the trait).
pub(crate) fn all_gather_in_place<B: BufferMut + ?Sized>(
    comm: &SimpleCommunicator,
    buf: &mut B,
) -> Result<()> {
    let buf = buf.as_mut_slice();
    let count = buf.len() / crate::rank::index(comm.size());
    let mine = at(
        buf.as_ptr().cast(),
        crate::rank::index(comm.rank()) * count,
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
    gather_impl_in_place(comm, a, mine)
}

/// The body of `all_gather_varcount_into` (documented on the trait).
pub(crate) fn all_gather_varcount_into<S, R>(
    comm: &SimpleCommunicator,
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
    let n = crate::rank::index(comm.size());
    let me = crate::rank::index(comm.rank());
    let local = check_layout("the receive buffer", counts, displs, n, recv.len()).and_then(|()| {
        if counts[me] == send.len() {
            Ok(())
        } else {
            Err(Error::CollectiveMismatch {
                what: "the element count",
                rank: crate::rank::of_index(me),
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
    gather_impl(comm, a)
}

/// An in-place all-gather: publishes our piece inside `recv` as our send buffer.
fn gather_impl_in_place(comm: &SimpleCommunicator, a: Args<'_>, mine: *const u8) -> Result<()> {
    let piece = a.count * a.elem;
    if small::fits(comm, 1, piece) {
        if let Some(c) = small::Call::begin(comm)? {
            let b = small::Args {
                root: 0,
                send: mine,
                recv: a.recv,
                piece,
                count: a.count,
                elem: a.elem,
                local: Ok(()),
            };
            // SAFETY: our piece is inside `recv`, which holds `size` pieces.
            return unsafe { small::all_gather(c, b) };
        }
    }
    // Others read our piece at `mine` while we write the other places of the same buffer:
    // disjoint ranges. Our own piece needs no copy.
    let mut desc = Desc::new(a.kind, a.root, a.elem, a.count);
    desc.send = mine;
    desc.recv = a.recv;
    let mut s = Session::begin(comm, desc, Ok(()))?;
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
