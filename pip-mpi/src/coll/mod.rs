//! The collectives: blocking ones over pip-comm's shared-address-space collectives, and
//! non-blocking ones as schedules of point-to-point steps.
//!
//! # Blocking collectives
//!
//! Data movement (`MPI_Bcast`, gathers, scatters, all-to-alls) maps onto pip-comm's
//! collectives on `comm.pc` with `u8` elements: a contiguous datatype is passed where it lies
//! (`count * size` bytes, and for the `v` variants byte counts and byte displacements); any
//! other is packed into a temporary before and unpacked from one after ([`Bytes`],
//! [`Landing`], [`Pieces`]). The standard's matching rule (equal type signatures) makes the
//! byte counts of sender and receiver equal.
//!
//! Reductions take pip-comm's typed reductions when they can (a contiguous type of one
//! integer or floating-point kind with an arithmetic, bitwise or logical operation, at an
//! aligned address): its fast path. Everything else (user operations, `MPI_MINLOC`/`MAXLOC`,
//! complex and `MPI_C_BOOL`, derived types) takes the general path of `reduce`: the inputs are
//! gathered (packed) with pip-comm, unpacked into temporaries in the datatype's own layout,
//! and folded with [`crate::op::apply_on`] as `x0 op (x1 op (... op x(n-1)))`, which for an
//! associative but non-commutative user operation is the serial result.
//!
//! `MPI_IN_PLACE` is accepted wherever the standard allows it; the in-place forms copy the
//! affected part of the receive buffer into a temporary send buffer (pip-comm never sees two
//! views of one buffer).
//!
//! `MPI_Alltoallw` (per-peer datatypes) is built from raw non-blocking point-to-point on the
//! communicator's internal duplicate (`alltoallw`).
//!
//! # Non-blocking collectives
//!
//! See `schedule` (the protocol) and `nonblocking` (the schedules of each collective).

mod alltoallw;
mod blocking;
mod buffers;
mod nbc_api;
mod nonblocking;
mod reduce;
mod reductions;
mod schedule;
mod vector;

pub use buffers::{Bytes, Landing, Pieces};

use crate::comm::Comm;
use crate::datatype::{self, Datatype};
use crate::error::{fail, Result, MPI_ERR_BUFFER, MPI_ERR_COUNT, MPI_ERR_OP, MPI_ERR_ROOT};
use crate::handle::{Handle, MPI_IN_PLACE, MPI_NO_OP, MPI_REPLACE};
use std::ffi::{c_int, c_void};
use std::rc::Rc;

/// True if `p` is `MPI_IN_PLACE`.
pub fn in_place(p: *const c_void) -> bool {
    p as usize == MPI_IN_PLACE
}

/// A checked (count, datatype) argument pair: `n` elements of the committed type `dt` (handle `h`).
#[derive(Clone)]
pub struct Typed {
    /// The datatype's handle (for user operations).
    pub h: Handle,
    /// The datatype.
    pub dt: Rc<Datatype>,
    /// The element count.
    pub n: usize,
}

impl Typed {
    /// Checks `count` (`MPI_ERR_COUNT` if negative, naming `what`) and `datatype` (committed).
    pub fn new(count: c_int, datatype: Handle, what: &str) -> Result<Typed> {
        let n = crate::state::count(count, MPI_ERR_COUNT, what)?;
        let dt = datatype::get_committed(datatype)?;
        dt.bytes(n)?;
        Ok(Typed { h: datatype, dt, n })
    }

    /// The number of data bytes.
    pub fn bytes(&self) -> usize {
        self.dt.size * self.n
    }

    /// The same type with another count.
    pub fn with(&self, n: usize) -> Typed {
        Typed { n, ..self.clone() }
    }

    /// Fails with `MPI_ERR_BUFFER` if `p` is null while there is data (or `MPI_IN_PLACE`
    /// where it is not allowed), naming `what`.
    pub fn check_buffer(&self, p: *const c_void, what: &str) -> Result<()> {
        if self.bytes() > 0 && p.is_null() {
            return fail(
                MPI_ERR_BUFFER,
                format!("{what} is a null pointer with {} elements", self.n),
            );
        }
        if in_place(p) {
            return fail(
                MPI_ERR_BUFFER,
                format!("{what} cannot be MPI_IN_PLACE here"),
            );
        }
        Ok(())
    }
}

/// Checks the root argument: `MPI_ERR_ROOT` outside `0..size`.
pub fn check_root(comm: &Comm, root: c_int) -> Result<()> {
    if root < 0 || root >= comm.size() {
        return fail(
            MPI_ERR_ROOT,
            format!(
                "root {root} is not a rank of the communicator (size {})",
                comm.size()
            ),
        );
    }
    Ok(())
}

/// Checks a reduction's operation for the datatype: defined for it, and not `MPI_REPLACE`
/// or `MPI_NO_OP` (which belong to the one-sided accumulates).
pub fn check_op(op: Handle, t: &Typed) -> Result<()> {
    if op == MPI_REPLACE || op == MPI_NO_OP {
        return fail(
            MPI_ERR_OP,
            "MPI_REPLACE and MPI_NO_OP are for one-sided accumulates, not for reductions",
        );
    }
    crate::op::check(op, &t.dt)
}

/// Reads a C array of `n` ints (counts or displacements), failing with `class` on a null
/// array or a negative count when `counts` is set.
///
/// # Safety
///
/// `p` is null or points to `n` ints.
pub unsafe fn ints(p: *const c_int, n: usize, what: &str, counts: bool) -> Result<Vec<isize>> {
    if p.is_null() {
        return fail(
            crate::error::MPI_ERR_ARG,
            format!("{what} is a null pointer"),
        );
    }
    // SAFETY: the caller guarantees `n` ints at `p`.
    let v = unsafe { std::slice::from_raw_parts(p, n) };
    if counts {
        if let Some((r, c)) = v.iter().enumerate().find(|(_, c)| **c < 0) {
            return fail(MPI_ERR_COUNT, format!("{what}[{r}] is negative ({c})"));
        }
    }
    Ok(v.iter().map(|&x| x as isize).collect())
}

#[cfg(test)]
mod tests;
