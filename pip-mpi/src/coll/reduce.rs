//! The reductions: `MPI_Reduce`, `MPI_Allreduce`, `MPI_Reduce_scatter_block`,
//! `MPI_Reduce_scatter`, `MPI_Scan`, `MPI_Exscan`.
//!
//! Every one comes down to [`reduce`] on buffers in the datatype's own layout: pip-comm's
//! typed reduction when the type and operation allow it (the fast path, decided from the
//! datatype and the operation alone, so that every rank takes the same path), else the
//! general path: the packed inputs are gathered with pip-comm and folded in rank order with
//! [`crate::op::apply_on`] (see the parent module). The reduce-scatters reduce the whole
//! vector on every rank and keep their block. In-place forms copy the receive buffer into a
//! temporary input first.

use super::{Bytes, Typed};
use crate::comm::Comm;
use crate::datatype::{self, Basic};
use crate::error::Result;
use crate::handle::Handle;
use crate::op::{self, Predefined};
use pip_comm::prelude::*;
use pip_comm::Reducible;
use std::ffi::{c_int, c_void};

/// Which reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Red {
    /// To one root.
    Reduce(c_int),
    /// To every rank.
    All,
    /// Rank `r` gets ranks `0..=r`.
    Scan,
    /// Rank `r` gets ranks `0..r` (rank 0's result is left as it was).
    Exscan,
}

/// `t.n` elements of `t.dt` in a temporary laid out as the datatype lays them out.
pub(super) struct Native {
    buf: Vec<u8>,
    /// The offset of the first element's start in `buf` (blocks may lie before it).
    shift: usize,
}

impl Native {
    /// Zeroed room for `t`.
    pub(super) fn new(t: &Typed) -> Native {
        let dt = &t.dt;
        let last = (t.n.max(1) - 1) as isize * dt.extent;
        let lo = dt.blocks.iter().map(|b| b.0).min().unwrap_or(0).min(0) + last.min(0);
        let hi = dt
            .blocks
            .iter()
            .map(|b| b.0 + b.1 as isize)
            .max()
            .unwrap_or(0)
            .max(0)
            + last.max(0);
        Native {
            buf: vec![0u8; (hi - lo) as usize],
            shift: (-lo) as usize,
        }
    }

    /// The start of the first element.
    pub(super) fn ptr(&mut self) -> *mut u8 {
        self.buf.as_mut_ptr().wrapping_add(self.shift)
    }

    /// A copy of `t` at `p`.
    ///
    /// # Safety
    ///
    /// `p` holds `t.n` readable elements of `t.dt`.
    pub(super) unsafe fn copy_of(p: *const c_void, t: &Typed) -> Native {
        let mut n = Native::new(t);
        // SAFETY: forwarded from the caller; `n` has room for `t`.
        unsafe { datatype::unpack(&t.dt, Bytes::new(p, t).get(), n.ptr()) };
        n
    }
}

/// Reduces every rank's `t` at `send` with `op` into `recv` as `red` says (`recv` is unused
/// on a non-root of [`Red::Reduce`]).
///
/// # Safety
///
/// `send` holds `t` readable and `recv` `t` writable elements (where used); distinct buffers.
pub(super) unsafe fn reduce(
    c: &Comm,
    red: Red,
    op: Handle,
    t: &Typed,
    send: *const u8,
    recv: *mut u8,
) -> Result<()> {
    // SAFETY: forwarded from the caller.
    if unsafe { fast(c, red, op, t, send, recv)? } {
        return Ok(());
    }
    // SAFETY: forwarded from the caller.
    let data = unsafe { Bytes::new(send.cast(), t) };
    let (me, n, len) = (c.rank() as usize, c.size() as usize, data.get().len());
    let mut all = vec![0u8; len * n];
    let ranks = match red {
        Red::Reduce(root) => {
            let at = c.pc.process_at_rank(root);
            if c.rank() != root {
                at.gather_into(data.get())?;
                return Ok(());
            }
            at.gather_into_root(data.get(), &mut all[..])?;
            0..n
        }
        Red::All | Red::Scan | Red::Exscan => {
            c.pc.all_gather_into(data.get(), &mut all[..])?;
            match red {
                Red::All => 0..n,
                Red::Scan => 0..me + 1,
                _ => 0..me,
            }
        }
    };
    // SAFETY: forwarded from the caller.
    unsafe { fold(op, t, &all, len, ranks, recv) }
}

/// Folds the packed inputs `all` (`len` bytes per rank) of `ranks` as
/// `x(first) op (... op x(last))` into `recv`; nothing for no ranks.
///
/// # Safety
///
/// `recv` holds `t` writable elements.
pub(super) unsafe fn fold(
    op: Handle,
    t: &Typed,
    all: &[u8],
    len: usize,
    ranks: std::ops::Range<usize>,
    recv: *mut u8,
) -> Result<()> {
    let Some(last) = ranks.clone().last() else {
        return Ok(());
    };
    let mut acc = Native::new(t);
    let mut x = Native::new(t);
    // SAFETY: `acc` and `x` have room for `t`; each rank's input is `len` packed bytes of it.
    unsafe {
        datatype::unpack(&t.dt, &all[last * len..][..len], acc.ptr());
        for r in ranks.rev().skip(1) {
            datatype::unpack(&t.dt, &all[r * len..][..len], x.ptr());
            op::apply_on(op, t.h, &t.dt, t.n, x.ptr(), acc.ptr())?;
        }
        let mut out = Vec::new();
        datatype::pack(&t.dt, t.n, acc.ptr(), &mut out);
        datatype::unpack(&t.dt, &out, recv);
    }
    Ok(())
}

/// pip-comm's typed reduction, when `t` is contiguous of one integer or floating-point kind
/// and `op` one of pip-comm's operations; `Ok(false)` otherwise.
///
/// # Safety
///
/// As [`reduce`].
unsafe fn fast(
    c: &Comm,
    red: Red,
    op: Handle,
    t: &Typed,
    send: *const u8,
    recv: *mut u8,
) -> Result<bool> {
    use Basic::*;
    let Some((b, per)) = t.dt.basic else {
        return Ok(false);
    };
    if !t.dt.is_contiguous() {
        return Ok(false);
    }
    let sys = match op::predefined(op)? {
        Some(Predefined::Sum) => SystemOperation::sum(),
        Some(Predefined::Prod) => SystemOperation::product(),
        Some(Predefined::Min) => SystemOperation::min(),
        Some(Predefined::Max) => SystemOperation::max(),
        Some(Predefined::Band) => SystemOperation::bitwise_and(),
        Some(Predefined::Bor) => SystemOperation::bitwise_or(),
        Some(Predefined::Bxor) => SystemOperation::bitwise_xor(),
        Some(Predefined::Land) => SystemOperation::logical_and(),
        Some(Predefined::Lor) => SystemOperation::logical_or(),
        Some(Predefined::Lxor) => SystemOperation::logical_xor(),
        _ => return Ok(false),
    };
    let n = t.n * per;
    // SAFETY: a contiguous type of `per` elements of `b` is `n` values of the matching Rust
    // type at each buffer (forwarded from the caller).
    unsafe {
        match b {
            Char | I8 => typed::<i8>(c, red, sys, n, send, recv),
            U8 | Byte => typed::<u8>(c, red, sys, n, send, recv),
            I16 => typed::<i16>(c, red, sys, n, send, recv),
            U16 => typed::<u16>(c, red, sys, n, send, recv),
            WChar | I32 => typed::<i32>(c, red, sys, n, send, recv),
            U32 => typed::<u32>(c, red, sys, n, send, recv),
            I64 => typed::<i64>(c, red, sys, n, send, recv),
            U64 => typed::<u64>(c, red, sys, n, send, recv),
            F32 => typed::<f32>(c, red, sys, n, send, recv),
            F64 => typed::<f64>(c, red, sys, n, send, recv),
            _ => return Ok(false),
        }?;
    }
    Ok(true)
}

/// A `&[T]` view of `n` values at `p`, or an aligned copy when `p` is not aligned for `T`.
///
/// # Safety
///
/// `p` holds `n` readable `T`s for `'a`.
unsafe fn values<'a, T: Copy + Default>(p: *const u8, n: usize) -> std::borrow::Cow<'a, [T]> {
    if n == 0 {
        return std::borrow::Cow::Borrowed(&[]);
    }
    if (p as usize) % std::mem::align_of::<T>() == 0 {
        // SAFETY: forwarded from the caller; aligned.
        return std::borrow::Cow::Borrowed(unsafe { std::slice::from_raw_parts(p.cast::<T>(), n) });
    }
    let mut v = vec![T::default(); n];
    // SAFETY: forwarded from the caller; `v` has room for `n` values.
    unsafe {
        std::ptr::copy_nonoverlapping(p, v.as_mut_ptr().cast::<u8>(), n * std::mem::size_of::<T>())
    };
    std::borrow::Cow::Owned(v)
}

/// The typed reduction on `n` values of `T`.
///
/// # Safety
///
/// `send` holds `n` readable and `recv` `n` writable `T`s (where used).
unsafe fn typed<T: Reducible + Copy + Default>(
    c: &Comm,
    red: Red,
    sys: SystemOperation,
    n: usize,
    send: *const u8,
    recv: *mut u8,
) -> Result<()> {
    // SAFETY: forwarded from the caller.
    let s = unsafe { values::<T>(send, n) };
    if let Red::Reduce(root) = red {
        if c.rank() != root {
            c.pc.process_at_rank(root).reduce_into(&s[..], sys)?;
            return Ok(());
        }
    }
    let w = n * std::mem::size_of::<T>();
    let direct = n > 0 && (recv as usize) % std::mem::align_of::<T>() == 0;
    let mut copy = Vec::new();
    let r: &mut [T] = if direct {
        // SAFETY: forwarded from the caller; aligned, and distinct from `send`.
        unsafe { std::slice::from_raw_parts_mut(recv.cast::<T>(), n) }
    } else {
        copy = vec![T::default(); n];
        if red == Red::Exscan && n > 0 {
            // SAFETY: forwarded from the caller: rank 0's result is its buffer as it was.
            unsafe { std::ptr::copy_nonoverlapping(recv, copy.as_mut_ptr().cast::<u8>(), w) };
        }
        &mut copy
    };
    match red {
        Red::Reduce(root) => {
            c.pc.process_at_rank(root)
                .reduce_into_root(&s[..], r, sys)?
        }
        Red::All => c.pc.all_reduce_into(&s[..], r, sys)?,
        Red::Scan => c.pc.scan_into(&s[..], r, sys)?,
        Red::Exscan => c.pc.exclusive_scan_into(&s[..], r, sys)?,
    }
    if !direct && n > 0 {
        // SAFETY: forwarded from the caller: `recv` has room for `n` values.
        unsafe { std::ptr::copy_nonoverlapping(copy.as_ptr().cast::<u8>(), recv, w) };
    }
    Ok(())
}
