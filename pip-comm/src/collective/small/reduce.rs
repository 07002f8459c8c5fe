//! Small reductions: every rank stages its vector; every rank that needs the result (all of
//! them for an all-reduce, the root for a reduce) folds the staged vectors itself, in the
//! order of a serial computation over ranks, `x0 ∘ (x1 ∘ (... ∘ xk))`, straight into its
//! receive buffer.

use super::{shape, Call};
use crate::coll_slot::Kind;
use crate::datatype::Equivalence;
use crate::{Operation, Rank, Result};

/// One rank's arguments to a small reduction.
pub(crate) struct Reduction<T> {
    /// `Allreduce` or `Reduce`.
    pub(crate) kind: Kind,
    pub(crate) root: Rank,
    pub(crate) send: *const T,
    pub(crate) count: usize,
    /// The result buffer (null where the rank gets no result); may be `send`.
    pub(crate) recv: *mut T,
    /// This rank's own argument check.
    pub(crate) local: Result<()>,
}

/// One rank's small reduction: stages `count` elements of `send`, publishes, and, where the
/// rank gets a result, folds every rank's vector into `recv`.
///
/// # Safety
///
/// `send` is readable and `recv` (unless null) writable for `count` elements (they may be the
/// same buffer); `count * size_of::<T>()` fits a region (`super::fits`).
pub(crate) unsafe fn reduce<T: Equivalence, O: Operation<T> + ?Sized>(
    c: Call<'_>,
    a: Reduction<T>,
    op: &O,
) -> Result<()> {
    let Reduction {
        kind,
        root,
        send,
        count,
        recv,
        local,
    } = a;
    let elem = std::mem::size_of::<T>();
    let mine = shape(kind, root, count, elem, op.code());
    if let Err(e) = local.and_then(|()| op.check()) {
        c.publish(&mine, crate::coll_lines::FAILED);
        return Err(e);
    }
    // SAFETY: step 2: our own region, `count * elem` bytes fit (caller); `send` is readable
    // for them and is not in the region.
    unsafe { std::ptr::copy_nonoverlapping(send.cast::<u8>(), c.mine(), count * elem) };
    c.publish(&mine, 0);
    if kind == Kind::Reduce && root != c.me as Rank {
        return Ok(());
    }
    c.wait_all(&mine, true)?;
    let n = c.n;
    // SAFETY: every region holds `count` elements of `T` (the shapes matched), 16-byte aligned
    // (`T`'s alignment is at most 16), not written by anyone until we publish our next
    // collective (the coll_lines protocol); `recv` is ours, writable for `count` elements.
    unsafe {
        let input = |r: u32| std::slice::from_raw_parts(c.theirs(r).cast::<T>(), count);
        let out = std::slice::from_raw_parts_mut(recv, count);
        out.copy_from_slice(input(n - 1));
        for r in (0..n - 1).rev() {
            op.apply(input(r), out);
        }
    }
    Ok(())
}
