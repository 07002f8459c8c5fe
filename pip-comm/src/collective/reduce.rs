//! Reductions: reduce, all-reduce, inclusive and exclusive scan.
//!
//! Payloads that fit the communicator's collective lines take the `small` path (its
//! `reduce.rs`). Medium payloads: each rank that needs a result reads every input it needs
//! straight from the other ranks' send buffers and folds them itself (one publication, no
//! copies). Large
//! payloads (at least [`LARGE`](super::LARGE) bytes, decided from the leader's count): the
//! vector is cut into one segment per rank; each rank folds its segment of all inputs into the
//! result (the root's receive buffer for a reduce, its own for an all-reduce), so the ranks
//! share the work; an all-reduce then copies the other segments from their owners once they
//! have signalled the end of that phase.
//!
//! The fold is `x0 ∘ (x1 ∘ (... ∘ xk))`, the order of a serial computation over ranks, so
//! non-commutative (associative) user operations give the serial result.

use super::{copy_bytes, need, small, Desc, Kind, Session};
use crate::datatype::{Buffer, BufferMut, Equivalence};
use crate::world::SimpleCommunicator;
use crate::{Error, Operation, Process, Rank, Result};

/// Folds `inputs[..]` over elements `lo..hi` into a new vector.
///
/// # Safety
///
/// Every input is readable for `hi` elements and not written meanwhile in `lo..hi`.
unsafe fn fold<T: Equivalence, O: Operation<T> + ?Sized>(
    inputs: &[*const T],
    lo: usize,
    hi: usize,
    op: &O,
) -> Vec<T> {
    let len = hi - lo;
    let Some((&last, rest)) = inputs.split_last() else {
        return Vec::new();
    };
    // SAFETY: the caller guarantees the inputs are readable and stable in `lo..hi`.
    let piece = |p: *const T| unsafe { std::slice::from_raw_parts(p.add(lo), len) };
    let mut acc = piece(last).to_vec();
    for &p in rest.iter().rev() {
        op.apply(piece(p), &mut acc);
    }
    acc
}

/// The segment of a `count`-element vector that rank `q` of `n` folds.
fn segment(count: usize, n: u32, q: u32) -> (usize, usize) {
    let at = |k: u32| ((count as u128 * k as u128) / n as u128) as usize;
    (at(q), at(q + 1))
}

/// The arguments of one rank to a reduction.
struct Args<T> {
    kind: Kind,
    root: Rank,
    send: *const T,
    count: usize,
    /// The result buffer (null where the rank gets no result).
    recv: *mut T,
    /// The send buffer is the receive buffer.
    in_place: bool,
    local: Result<()>,
}

/// Writes `acc` into `out` at element `lo`.
///
/// # Safety
///
/// `out` is writable for `lo + acc.len()` elements, reserved for this rank there.
unsafe fn put<T: Equivalence>(comm: &SimpleCommunicator, acc: &[T], out: *mut T, lo: usize) {
    // SAFETY: forwarded; `acc` is our own vector.
    unsafe {
        copy_bytes(
            comm,
            acc.as_ptr().cast(),
            out.add(lo).cast(),
            std::mem::size_of_val(acc),
        )
    }
}

/// One rank's reduction: publishes its arguments, agrees on the plan, then folds (small
/// payloads and scans: [`fold_whole`]; large: [`fold_segments`]).
fn reduce_impl<T: Equivalence, O: Operation<T> + ?Sized>(
    comm: &SimpleCommunicator,
    mut a: Args<T>,
    op: &O,
) -> Result<()> {
    let elem = std::mem::size_of::<T>();
    let align = std::mem::align_of::<T>();
    if matches!(a.kind, Kind::Allreduce | Kind::Reduce) && small::fits(comm, align, a.count * elem)
    {
        if let Some(c) = small::Call::begin(comm)? {
            let r = small::Reduction {
                kind: a.kind,
                root: a.root,
                send: a.send,
                count: a.count,
                recv: a.recv,
                local: std::mem::replace(&mut a.local, Ok(())),
            };
            // SAFETY: the buffers come from slices of `count` elements (a short receive buffer
            // is in `local`, and then nothing is written); it fits (checked).
            return unsafe { small::reduce(c, r, op) };
        }
    }
    let local = std::mem::replace(&mut a.local, Ok(())).and_then(|()| op.check());
    let mut desc = Desc::new(a.kind, a.root, elem, a.count);
    desc.op = op.code();
    desc.send = a.send.cast();
    desc.recv = a.recv.cast();
    let mut s = Session::begin(comm, desc, local)?;
    let plan = s.agree(&desc)?;
    if !s.ok() {
        return s.finish();
    }
    let me = s.me;
    match plan.kind {
        Kind::Scan | Kind::Exscan => {
            // Ranks 0..=me (inclusive scan) or 0..me (exclusive) are the inputs.
            let upto = if plan.kind == Kind::Scan { me + 1 } else { me };
            // Later ranks read our buffer as our input when in place.
            fold_whole(comm, s, &desc, &a, upto, a.in_place, op)
        }
        _ if !plan.large => {
            if plan.kind == Kind::Reduce && me != plan.root {
                return s.finish();
            }
            // The others read an in-place all-reduce's buffer as our input (an in-place
            // reduce's root is read by nobody in this plan).
            let read_by_others = a.in_place && plan.kind == Kind::Allreduce;
            let n = s.n;
            fold_whole(comm, s, &desc, &a, n, read_by_others, op)
        }
        _ => fold_segments(comm, s, &desc, &a, plan.kind, plan.root, op),
    }
}

/// Enters the slots of ranks `0..upto` and returns their send buffers (ours for `me`), their
/// receive buffers when `with_outputs` (else an empty vector, which does not allocate: the
/// small-message path calls this once per collective), and whether every peer's arguments
/// matched ours (`false`: the mismatch is recorded).
fn enter_inputs<T>(
    s: &mut Session<'_>,
    desc: &Desc,
    a: &Args<T>,
    upto: u32,
    with_outputs: bool,
) -> Result<(Vec<*const T>, Vec<*mut T>, bool)> {
    let mut inputs = Vec::with_capacity(upto as usize);
    let mut outputs = Vec::with_capacity(if with_outputs { upto as usize } else { 0 });
    let mut ok = true;
    for q in 0..upto {
        let (send, recv) = if q == s.me {
            (a.send, a.recv)
        } else {
            let d = s.enter(q)?;
            ok &= s.check_peer(q, &d, desc, true, true);
            (d.send.cast(), d.recv.cast())
        };
        inputs.push(send);
        if with_outputs {
            outputs.push(recv);
        }
    }
    Ok((inputs, outputs, ok))
}

/// Folds the whole vector of ranks `0..upto`'s inputs into our receive buffer; when others
/// read that buffer as our input (`read_by_others`), writes only once they are done.
fn fold_whole<T: Equivalence, O: Operation<T> + ?Sized>(
    comm: &SimpleCommunicator,
    mut s: Session<'_>,
    desc: &Desc,
    a: &Args<T>,
    upto: u32,
    read_by_others: bool,
    op: &O,
) -> Result<()> {
    let (inputs, _, ok) = enter_inputs(&mut s, desc, a, upto, false)?;
    if !ok || inputs.is_empty() {
        return s.finish();
    }
    // SAFETY: every input was published for `count` elements (checked) by a rank whose slot
    // we entered, and nobody writes inputs until its readers are done.
    let acc = unsafe { fold(&inputs, 0, a.count, op) };
    if read_by_others {
        s.finish()?;
        // SAFETY: our own receive buffer of `count` elements, read by nobody now.
        unsafe { put(comm, &acc, a.recv, 0) };
        Ok(())
    } else {
        // SAFETY: our own receive buffer of `count` elements, read by nobody.
        unsafe { put(comm, &acc, a.recv, 0) };
        s.finish()
    }
}

/// A large reduction: each rank folds its segment of all inputs into the target (the root's
/// receive buffer, or its own for an all-reduce); an all-reduce then copies the other
/// segments from their owners once they have signalled the end of that phase.
fn fold_segments<T: Equivalence, O: Operation<T> + ?Sized>(
    comm: &SimpleCommunicator,
    mut s: Session<'_>,
    desc: &Desc,
    a: &Args<T>,
    kind: Kind,
    root: u32,
    op: &O,
) -> Result<()> {
    let (me, n, count) = (s.me, s.n, a.count);
    let (inputs, outputs, ok) = enter_inputs(&mut s, desc, a, n, true)?;
    let target = if kind == Kind::Reduce {
        outputs[root as usize]
    } else {
        a.recv
    };
    let (lo, hi) = segment(count, n, me);
    if ok {
        // SAFETY: inputs as in `fold_whole`; in segment `lo..hi` only this rank writes (its own
        // segment of the target), after folding.
        let acc = unsafe { fold(&inputs, lo, hi, op) };
        // SAFETY: the target (ours, or the root's, entered) holds `count` elements (checked by
        // its owner); segment `lo..hi` is ours alone.
        unsafe { put(comm, &acc, target, lo) };
    }
    if kind == Kind::Allreduce {
        s.set_stage();
        if ok {
            for q in (0..n).filter(|&q| q != me) {
                s.wait_stage(q)?;
                let (lo, hi) = segment(count, n, q);
                // SAFETY: rank q folded its segment into its receive buffer (stage acquired)
                // and writes nothing there any more; our buffer's segment is read by nobody
                // now (q was the only rank reading it, in its fold).
                unsafe {
                    copy_bytes(
                        comm,
                        outputs[q as usize].add(lo).cast(),
                        a.recv.add(lo).cast(),
                        (hi - lo) * std::mem::size_of::<T>(),
                    )
                };
            }
        }
    }
    s.finish()
}

/// The body of `all_reduce_into` (documented on the trait).
pub(crate) fn all_reduce_into<S, R, O>(
    comm: &SimpleCommunicator,
    send: &S,
    recv: &mut R,
    op: O,
) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
    O: Operation<S::Item>,
{
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let local = need("the receive buffer", send.len(), recv.len());
    let a = Args {
        kind: Kind::Allreduce,
        root: 0,
        send: send.as_ptr(),
        count: send.len(),
        recv: recv.as_mut_ptr(),
        in_place: false,
        local,
    };
    reduce_impl(comm, a, &op)
}

/// The body of `all_reduce_in_place` (documented on the trait).
pub(crate) fn all_reduce_in_place<B, O>(comm: &SimpleCommunicator, buf: &mut B, op: O) -> Result<()>
where
    B: BufferMut + ?Sized,
    O: Operation<B::Item>,
{
    let buf = buf.as_mut_slice();
    let a = Args {
        kind: Kind::Allreduce,
        root: 0,
        send: buf.as_ptr(),
        count: buf.len(),
        recv: buf.as_mut_ptr(),
        in_place: true,
        local: Ok(()),
    };
    reduce_impl(comm, a, &op)
}

/// The body of `scan_into` (documented on the trait).
pub(crate) fn scan_into<S, R, O>(
    comm: &SimpleCommunicator,
    send: &S,
    recv: &mut R,
    op: O,
) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
    O: Operation<S::Item>,
{
    scan_impl(comm, Kind::Scan, send.as_slice(), recv.as_mut_slice(), &op)
}

/// The body of `exclusive_scan_into` (documented on the trait).
pub(crate) fn exclusive_scan_into<S, R, O>(
    comm: &SimpleCommunicator,
    send: &S,
    recv: &mut R,
    op: O,
) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
    O: Operation<S::Item>,
{
    scan_impl(
        comm,
        Kind::Exscan,
        send.as_slice(),
        recv.as_mut_slice(),
        &op,
    )
}

/// The body of `scan_in_place` (documented on the trait).
pub(crate) fn scan_in_place<B, O>(comm: &SimpleCommunicator, buf: &mut B, op: O) -> Result<()>
where
    B: BufferMut + ?Sized,
    O: Operation<B::Item>,
{
    scan_in_place_impl(comm, Kind::Scan, buf.as_mut_slice(), &op)
}

/// The body of `exclusive_scan_in_place` (documented on the trait).
pub(crate) fn exclusive_scan_in_place<B, O>(
    comm: &SimpleCommunicator,
    buf: &mut B,
    op: O,
) -> Result<()>
where
    B: BufferMut + ?Sized,
    O: Operation<B::Item>,
{
    scan_in_place_impl(comm, Kind::Exscan, buf.as_mut_slice(), &op)
}

fn scan_impl<T: Equivalence, O: Operation<T> + ?Sized>(
    comm: &SimpleCommunicator,
    kind: Kind,
    send: &[T],
    recv: &mut [T],
    op: &O,
) -> Result<()> {
    let a = Args {
        kind,
        root: 0,
        send: send.as_ptr(),
        count: send.len(),
        recv: recv.as_mut_ptr(),
        in_place: false,
        local: need("the receive buffer", send.len(), recv.len()),
    };
    reduce_impl(comm, a, op)
}

fn scan_in_place_impl<T: Equivalence, O: Operation<T> + ?Sized>(
    comm: &SimpleCommunicator,
    kind: Kind,
    buf: &mut [T],
    op: &O,
) -> Result<()> {
    let a = Args {
        kind,
        root: 0,
        send: buf.as_ptr(),
        count: buf.len(),
        recv: buf.as_mut_ptr(),
        in_place: true,
        local: Ok(()),
    };
    reduce_impl(comm, a, op)
}

/// The body of `reduce_into` (documented on the trait).
pub(crate) fn reduce_into<S, O>(root: &Process<'_>, send: &S, op: O) -> Result<()>
where
    S: Buffer + ?Sized,
    O: Operation<S::Item>,
{
    let comm = root.comm;
    let send = send.as_slice();
    let local = if root.rank == comm.rank() {
        Err(Error::RootVariantRequired {
            collective: "reduce",
            rank: root.rank,
        })
    } else {
        comm.check_root(root.rank)
    };
    let a = Args {
        kind: Kind::Reduce,
        root: root.rank,
        send: send.as_ptr(),
        count: send.len(),
        recv: std::ptr::null_mut(),
        in_place: false,
        local,
    };
    reduce_impl(comm, a, &op)
}

/// The body of `reduce_into_root` (documented on the trait).
pub(crate) fn reduce_into_root<S, R, O>(
    root: &Process<'_>,
    send: &S,
    recv: &mut R,
    op: O,
) -> Result<()>
where
    S: Buffer + ?Sized,
    R: BufferMut<Item = S::Item> + ?Sized,
    O: Operation<S::Item>,
{
    let comm = root.comm;
    if root.rank != comm.rank() {
        return reduce_into(root, send, op);
    }
    let (send, recv) = (send.as_slice(), recv.as_mut_slice());
    let a = Args {
        kind: Kind::Reduce,
        root: root.rank,
        send: send.as_ptr(),
        count: send.len(),
        recv: recv.as_mut_ptr(),
        in_place: false,
        local: need("the receive buffer", send.len(), recv.len()),
    };
    reduce_impl(comm, a, &op)
}

/// The body of `reduce_in_place_root` (documented on the trait).
pub(crate) fn reduce_in_place_root<B, O>(root: &Process<'_>, buf: &mut B, op: O) -> Result<()>
where
    B: BufferMut + ?Sized,
    O: Operation<B::Item>,
{
    let comm = root.comm;
    if root.rank != comm.rank() {
        return reduce_into(root, buf.as_mut_slice(), op);
    }
    let buf = buf.as_mut_slice();
    let a = Args {
        kind: Kind::Reduce,
        root: root.rank,
        send: buf.as_ptr(),
        count: buf.len(),
        recv: buf.as_mut_ptr(),
        in_place: true,
        local: Ok(()),
    };
    reduce_impl(comm, a, &op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_the_vector() {
        for count in [0usize, 1, 5, 100, 1001] {
            for n in 1..9u32 {
                let mut next = 0;
                for q in 0..n {
                    let (lo, hi) = segment(count, n, q);
                    assert_eq!(lo, next);
                    assert!(hi >= lo);
                    next = hi;
                }
                assert_eq!(next, count);
            }
        }
    }
}
