//! All-to-all: each rank copies its piece of every peer's send buffer straight into its own
//! receive buffer.

use super::{at, at_mut, check_layout, copy_bytes, need, small, Desc, Kind, Session};
use crate::datatype::{Buffer, BufferMut};
use crate::world::SimpleCommunicator;
use crate::{Error, Result};

/// The layout of one rank's pieces: counts and displacements, or a uniform count.
#[derive(Clone, Copy)]
enum Layout<'a> {
    Uniform(usize),
    Var(&'a [usize], &'a [usize]),
}

impl Layout<'_> {
    fn piece(&self, q: usize) -> (usize, usize) {
        match *self {
            Layout::Uniform(c) => (q * c, c),
            Layout::Var(counts, displs) => (displs[q], counts[q]),
        }
    }
}

fn all_to_all_impl(
    comm: &SimpleCommunicator,
    elem: usize,
    send: *const u8,
    sendl: Layout<'_>,
    recv: *mut u8,
    recvl: Layout<'_>,
    local: Result<()>,
) -> Result<()> {
    let (kind, count) = match sendl {
        Layout::Uniform(c) => (Kind::Alltoall, c),
        Layout::Var(..) => (Kind::Alltoallv, 0),
    };
    let piece = count * elem;
    if kind == Kind::Alltoall && small::fits(comm, 1, piece.saturating_mul(comm.n as usize)) {
        if let Some(c) = small::Call::begin(comm)? {
            let b = small::Args {
                root: 0,
                send,
                recv,
                piece,
                count,
                elem,
                local,
            };
            // SAFETY: both buffers hold `size` pieces (short ones are in `local`, and then
            // nothing is read or written); that fits.
            return unsafe { small::all_to_all(c, b) };
        }
    }
    let mut desc = Desc::new(kind, 0, elem, count);
    desc.send = send;
    desc.recv = recv;
    if let Layout::Var(counts, displs) = sendl {
        desc.counts = counts.as_ptr();
        desc.displs = displs.as_ptr();
        desc.ncounts = counts.len().min(displs.len());
    }
    let mut s = Session::begin(comm, desc, local)?;
    s.agree(&desc)?;
    if !s.ok() {
        return s.finish();
    }
    let (me, n) = (s.me as usize, s.n as usize);
    let (soff, _) = sendl.piece(me);
    // Our own piece.
    {
        let (to, c) = recvl.piece(me);
        // SAFETY: both buffers are ours and hold these pieces (checked locally); they do not
        // overlap (an in-place all-to-all sends from a copy).
        unsafe { copy_bytes(comm, at(send, soff, elem), at_mut(recv, to, elem), c * elem) };
    }
    for k in 1..n {
        let q = (me + k) % n;
        let d = s.enter(q as u32)?;
        if s.check_peer(q as u32, &d, &desc, kind == Kind::Alltoall, false) {
            let (to, want) = recvl.piece(q);
            let from = match sendl {
                Layout::Uniform(c) => Some(me * c),
                Layout::Var(..) => {
                    // SAFETY: q keeps its arrays until we release its slot.
                    let (counts, displs) = unsafe { d.arrays() };
                    match (counts.get(me), displs.get(me)) {
                        (Some(&c), Some(&at)) if c == want => Some(at),
                        (c, _) => {
                            s.fail(Error::CollectiveMismatch {
                                what: "the element count",
                                rank: crate::rank::of_index(q),
                                ours: want as u64,
                                theirs: c.map_or(0, |&c| c as u64),
                            });
                            None
                        }
                    }
                }
            };
            if let Some(from) = from {
                // SAFETY: q's send buffer holds its piece for us at `from` (checked by q
                // before publishing) until we release q; our receive buffer holds q's place
                // (checked locally), written by us alone.
                unsafe {
                    copy_bytes(
                        comm,
                        at(d.send, from, elem),
                        at_mut(recv, to, elem),
                        want * elem,
                    )
                };
            }
        }
        s.release(q as u32);
    }
    s.finish()
}

/// The body of `all_to_all_into` (documented on the trait).
pub(crate) fn all_to_all_into<S, R>(comm: &SimpleCommunicator, send: &S, recv: &mut R) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
{
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let n = crate::rank::index(comm.size());
    let count = send.len() / n;
    let local = if send.len() % n != 0 {
        Err(Error::CollectiveBufferNotMultiple {
            what: "the send buffer",
            len: send.len(),
            size: n,
        })
    } else {
        need("the receive buffer", send.len(), recv.len())
    };
    all_to_all_impl(
        comm,
        std::mem::size_of::<S::Item>(),
        send.as_ptr().cast(),
        Layout::Uniform(count),
        recv.as_mut_ptr().cast(),
        Layout::Uniform(count),
        local,
    )
}

/// The body of `all_to_all_in_place` (documented on the trait).
pub(crate) fn all_to_all_in_place<B: BufferMut + ?Sized>(
    comm: &SimpleCommunicator,
    buf: &mut B,
) -> Result<()> {
    let buf = buf.as_mut_slice();
    let copy = buf.to_vec();
    all_to_all_into(comm, &copy[..], buf)
}

/// The body of `all_to_all_varcount_into` (documented on the trait).
pub(crate) fn all_to_all_varcount_into<S, R>(
    comm: &SimpleCommunicator,
    send: &S,
    recv: &mut R,
    send_counts: &[usize],
    send_displs: &[usize],
    recv_counts: &[usize],
    recv_displs: &[usize],
) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
{
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let n = crate::rank::index(comm.size());
    let local =
        check_layout("the send buffer", send_counts, send_displs, n, send.len()).and_then(|()| {
            check_layout(
                "the receive buffer",
                recv_counts,
                recv_displs,
                n,
                recv.len(),
            )
        });
    if let Err(e) = local {
        // Publish nothing usable: pieces would lie outside the buffers.
        return all_to_all_impl(
            comm,
            std::mem::size_of::<S::Item>(),
            send.as_ptr().cast(),
            Layout::Var(&[], &[]),
            recv.as_mut_ptr().cast(),
            Layout::Var(&[], &[]),
            Err(e),
        );
    }
    let me = crate::rank::index(comm.rank());
    let mine = if send_counts[me] == recv_counts[me] {
        Ok(())
    } else {
        Err(Error::CollectiveMismatch {
            what: "the element count",
            rank: crate::rank::of_index(me),
            ours: recv_counts[me] as u64,
            theirs: send_counts[me] as u64,
        })
    };
    all_to_all_impl(
        comm,
        std::mem::size_of::<S::Item>(),
        send.as_ptr().cast(),
        Layout::Var(send_counts, send_displs),
        recv.as_mut_ptr().cast(),
        Layout::Var(recv_counts, recv_displs),
        mine,
    )
}
