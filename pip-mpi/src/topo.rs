//! Virtual topologies: Cartesian grids and distributed graphs, as far as the OSU benchmarks
//! and common programs use them.
//!
//! A topology is information attached to a communicator ([`crate::comm::Comm::topo`]); it
//! never changes how messages travel. `MPI_Cart_create` splits the ranks that fit in the grid
//! off the old communicator (in their old order: `reorder` is ignored, which the standard
//! allows) and gives the others `MPI_COMM_NULL`; `MPI_Dist_graph_create_adjacent` (in
//! [`graph`]) duplicates the old communicator and stores each rank's lists of neighbours. The
//! grid is row-major: the last dimension varies fastest, so rank `r`'s coordinates are the
//! digits of `r` in the mixed radix of `dims`.
//!
//! `MPI_Dims_create` shares the number of ranks among the free dimensions as evenly as it can:
//! of the factorisations into that many factors, the one whose largest and smallest factors
//! are closest, in non-increasing order.

use crate::comm::{derive, get, give, out, Comm};
use crate::error::{call, call_on, fail, On, Result};
use crate::error::{MPI_ERR_ARG, MPI_ERR_DIMS, MPI_ERR_RANK, MPI_ERR_TOPOLOGY};
use crate::handle::{Handle, MPI_CART, MPI_DIST_GRAPH, MPI_PROC_NULL, MPI_UNDEFINED};
use pip_comm::prelude::*;
use pip_comm::Color;
use std::ffi::c_int;

/// A communicator's virtual topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// A Cartesian grid of `dims` (product = size), periodic where `periods` says so.
    Cart {
        /// The extent of each dimension.
        dims: Vec<c_int>,
        /// Whether each dimension wraps around.
        periods: Vec<bool>,
    },
    /// A distributed graph: this rank's in- and out-neighbours, with weights if given.
    DistGraph {
        /// The ranks this rank receives from.
        sources: Vec<c_int>,
        /// The weight of each source edge (empty when unweighted).
        source_weights: Vec<c_int>,
        /// The ranks this rank sends to.
        destinations: Vec<c_int>,
        /// The weight of each destination edge (empty when unweighted).
        dest_weights: Vec<c_int>,
        /// False if `MPI_UNWEIGHTED` was given.
        weighted: bool,
    },
}

/// The grid of `comm`'s Cartesian topology (`MPI_ERR_TOPOLOGY` if it has none).
fn cart_of(c: &Comm) -> Result<(&[c_int], &[bool])> {
    match &c.topo {
        Some(Topology::Cart { dims, periods }) => Ok((dims, periods)),
        _ => fail(
            MPI_ERR_TOPOLOGY,
            "the communicator has no Cartesian topology",
        ),
    }
}

/// The coordinates of `rank` in a row-major grid of `dims`.
pub fn coords_of(dims: &[c_int], mut rank: c_int) -> Vec<c_int> {
    let mut coords = vec![0; dims.len()];
    for (c, &d) in coords.iter_mut().zip(dims).rev() {
        *c = rank % d;
        rank /= d;
    }
    coords
}

/// The rank at `coords` (wrapped in periodic dimensions; `MPI_ERR_RANK` for a coordinate
/// outside a non-periodic one).
pub fn rank_of(dims: &[c_int], periods: &[bool], coords: &[c_int]) -> Result<c_int> {
    let mut rank = 0;
    for (i, ((&d, &p), &c)) in dims.iter().zip(periods).zip(coords).enumerate() {
        let c = if p {
            c.rem_euclid(d)
        } else if (0..d).contains(&c) {
            c
        } else {
            return fail(
                MPI_ERR_RANK,
                format!("coords[{i}] = {c} is outside the non-periodic dimension 0..{d}"),
            );
        };
        rank = rank * d + c;
    }
    Ok(rank)
}

/// Fills the zero entries of `dims` so that the product is `nnodes` and the filled entries are
/// balanced and non-increasing (see the module documentation).
pub fn dims_create(nnodes: c_int, dims: &mut [c_int]) -> Result<()> {
    if nnodes <= 0 {
        return fail(MPI_ERR_ARG, format!("nnodes = {nnodes} is not positive"));
    }
    let mut fixed: i64 = 1;
    for (i, &d) in dims.iter().enumerate() {
        if d < 0 {
            return fail(MPI_ERR_DIMS, format!("dims[{i}] = {d} is negative"));
        }
        if d > 0 {
            fixed *= i64::from(d);
        }
    }
    if i64::from(nnodes) % fixed != 0 {
        return fail(
            MPI_ERR_DIMS,
            format!("the given dimensions' product {fixed} does not divide nnodes = {nnodes}"),
        );
    }
    let rest = i64::from(nnodes) / fixed;
    let free = dims.iter().filter(|&&d| d == 0).count();
    if free == 0 {
        return match rest {
            1 => Ok(()),
            _ => fail(
                MPI_ERR_DIMS,
                format!("the dimensions' product {fixed} is not nnodes = {nnodes}"),
            ),
        };
    }
    let filled = balanced(rest, free);
    let mut next = filled.into_iter();
    for d in dims.iter_mut().filter(|d| **d == 0) {
        *d = next.next().expect("one value per free dimension") as c_int;
    }
    Ok(())
}

/// The `k` factors of `n`, in non-increasing order, whose largest and smallest are closest
/// (among equally close ones, the one with the smallest largest factor): a depth-first search
/// over the divisors, each factor at least the k-th root of what is left to share and at most
/// the factor before it.
pub fn balanced(n: i64, k: usize) -> Vec<i64> {
    struct Search {
        divisors: Vec<i64>,
        best: Option<Vec<i64>>,
        now: Vec<i64>,
    }
    impl Search {
        fn spread(v: &[i64]) -> i64 {
            v[0] - v[v.len() - 1]
        }
        fn go(&mut self, left: i64, slots: usize, most: i64) {
            if slots == 0 {
                let better = |b: &Vec<i64>| {
                    let (now, old) = (Self::spread(&self.now), Self::spread(b));
                    now < old || (now == old && self.now < *b)
                };
                if left == 1 && self.best.as_ref().is_none_or(better) {
                    self.best = Some(self.now.clone());
                }
                return;
            }
            for i in (0..self.divisors.len()).rev() {
                let d = self.divisors[i];
                if d > most || left % d != 0 {
                    continue;
                }
                // d is the largest of the `slots` factors left: d^slots >= left.
                if (d as f64).powi(slots as i32) < left as f64 * (1.0 - 1e-12) {
                    break;
                }
                let first = self.now.first().copied().unwrap_or(d);
                // The factors only get smaller: the spread can only grow from here.
                if self
                    .best
                    .as_ref()
                    .is_some_and(|b| first - d > Self::spread(b))
                {
                    break;
                }
                self.now.push(d);
                self.go(left / d, slots - 1, d);
                self.now.pop();
            }
        }
    }
    let divisors: Vec<i64> = (1..=n)
        .take_while(|d| d * d <= n)
        .filter(|d| n % d == 0)
        .collect();
    let mut all: Vec<i64> = divisors.iter().flat_map(|&d| [d, n / d]).collect();
    all.sort_unstable();
    all.dedup();
    let mut s = Search {
        divisors: all,
        best: None,
        now: Vec::with_capacity(k),
    };
    s.go(n, k, n);
    s.best.expect("n, 1, 1, .. always works")
}

/// Reads `n` ints at `p` (none when `n` is 0).
///
/// # Safety
///
/// `p` is valid for reads of `n` ints when `n > 0`.
unsafe fn ints<'a>(p: *const c_int, n: usize, what: &str) -> Result<&'a [c_int]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return fail(MPI_ERR_ARG, format!("{what} is a null pointer"));
    }
    // SAFETY: the caller guarantees `n` readable ints at `p` (checked non-null).
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// Writes `v` to `n` ints at `p` (nothing when `p` is null).
///
/// # Safety
///
/// `p` is null or valid for writes of `v.len()` ints.
unsafe fn write_ints(p: *mut c_int, v: &[c_int]) {
    if !p.is_null() {
        // SAFETY: the caller guarantees room for `v.len()` ints at `p`.
        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len()) };
    }
}

/// `MPI_Dims_create`: fills the zero entries of `dims[0..ndims]` with a balanced factorisation
/// of `nnodes` (`MPI_ERR_DIMS` if the non-zero entries make it impossible).
#[no_mangle]
pub unsafe extern "C" fn MPI_Dims_create(nnodes: c_int, ndims: c_int, dims: *mut c_int) -> c_int {
    call("MPI_Dims_create", || {
        let n = crate::state::count(ndims, MPI_ERR_DIMS, "ndims")?;
        if n == 0 {
            return Ok(());
        }
        if dims.is_null() {
            return fail(MPI_ERR_ARG, "dims is a null pointer");
        }
        // SAFETY: MPI requires `ndims` readable and writable ints at `dims` (checked non-null).
        let dims = unsafe { std::slice::from_raw_parts_mut(dims, n) };
        dims_create(nnodes, dims)
    })
}

/// `MPI_Cart_create`: a communicator of the first `dims[0] * .. * dims[ndims-1]` ranks of
/// `comm_old` with a Cartesian topology (`MPI_COMM_NULL` for the other ranks; `reorder` is
/// ignored). Collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cart_create(
    comm_old: Handle,
    ndims: c_int,
    dims: *const c_int,
    periods: *const c_int,
    _reorder: c_int,
    comm_cart: *mut Handle,
) -> c_int {
    call_on("MPI_Cart_create", On::Comm(comm_old), || {
        let c = get(comm_old)?;
        out(comm_cart)?;
        let n = crate::state::count(ndims, MPI_ERR_DIMS, "ndims")?;
        // SAFETY: MPI requires `ndims` readable ints at `dims` and at `periods`.
        let (d, p) = unsafe { (ints(dims, n, "dims")?, ints(periods, n, "periods")?) };
        let mut size: i64 = 1;
        for (i, &x) in d.iter().enumerate() {
            if x <= 0 {
                return fail(MPI_ERR_DIMS, format!("dims[{i}] = {x} is not positive"));
            }
            size = size.saturating_mul(i64::from(x));
        }
        if size > i64::from(c.size()) {
            return fail(
                MPI_ERR_DIMS,
                format!(
                    "the grid has {size} ranks, more than the communicator's {}",
                    c.size()
                ),
            );
        }
        let color = if i64::from(c.rank()) < size {
            Color::with_value(0)
        } else {
            Color::undefined()
        };
        let pc = c.pc.split_by_color_with_key(color, c.rank())?;
        let topo = Topology::Cart {
            dims: d.to_vec(),
            periods: p.iter().map(|&x| x != 0).collect(),
        };
        give(derive(&c, pc, Some(topo))?, comm_cart)
    })
}

/// `MPI_Cart_coords`: the coordinates of `rank` in the grid.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cart_coords(
    comm: Handle,
    rank: c_int,
    maxdims: c_int,
    coords: *mut c_int,
) -> c_int {
    call_on("MPI_Cart_coords", On::Comm(comm), || {
        let c = get(comm)?;
        let (dims, _) = cart_of(&c)?;
        if !(0..c.size()).contains(&rank) {
            return fail(
                MPI_ERR_RANK,
                format!("rank {rank} is not in 0..{}", c.size()),
            );
        }
        if maxdims < dims.len() as c_int {
            return fail(
                MPI_ERR_ARG,
                format!(
                    "maxdims = {maxdims} is less than the grid's {} dimensions",
                    dims.len()
                ),
            );
        }
        let v = coords_of(dims, rank);
        if !v.is_empty() {
            // SAFETY: MPI requires room for `maxdims` ints at `coords` (checked non-null).
            unsafe { write_ints(out(coords)?, &v) };
        }
        Ok(())
    })
}

/// `MPI_Cart_rank`: the rank at `coords` (wrapped in periodic dimensions; `MPI_ERR_RANK`
/// outside a non-periodic one).
#[no_mangle]
pub unsafe extern "C" fn MPI_Cart_rank(
    comm: Handle,
    coords: *const c_int,
    rank: *mut c_int,
) -> c_int {
    call_on("MPI_Cart_rank", On::Comm(comm), || {
        let c = get(comm)?;
        let (dims, periods) = cart_of(&c)?;
        // SAFETY: MPI requires one readable int per dimension at `coords`.
        let given = unsafe { ints(coords, dims.len(), "coords")? };
        let r = rank_of(dims, periods, given)?;
        give(r, rank)
    })
}

/// `MPI_Cart_get`: the grid's dimensions and periods, and the caller's coordinates.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cart_get(
    comm: Handle,
    maxdims: c_int,
    dims: *mut c_int,
    periods: *mut c_int,
    coords: *mut c_int,
) -> c_int {
    call_on("MPI_Cart_get", On::Comm(comm), || {
        let c = get(comm)?;
        let (d, p) = cart_of(&c)?;
        if maxdims < d.len() as c_int {
            return fail(
                MPI_ERR_ARG,
                format!(
                    "maxdims = {maxdims} is less than the grid's {} dimensions",
                    d.len()
                ),
            );
        }
        let p: Vec<c_int> = p.iter().map(|&x| c_int::from(x)).collect();
        let me = coords_of(d, c.rank());
        // SAFETY: MPI requires room for `maxdims` ints at each of the three arrays.
        unsafe {
            write_ints(dims, d);
            write_ints(periods, &p);
            write_ints(coords, &me);
        }
        Ok(())
    })
}

/// `MPI_Cart_shift`: the ranks `disp` steps before and after the caller along `direction`
/// (`MPI_PROC_NULL` past the edge of a non-periodic dimension).
#[no_mangle]
pub unsafe extern "C" fn MPI_Cart_shift(
    comm: Handle,
    direction: c_int,
    disp: c_int,
    rank_source: *mut c_int,
    rank_dest: *mut c_int,
) -> c_int {
    call_on("MPI_Cart_shift", On::Comm(comm), || {
        let c = get(comm)?;
        let (dims, periods) = cart_of(&c)?;
        let Some(dir) = usize::try_from(direction).ok().filter(|&d| d < dims.len()) else {
            return fail(
                MPI_ERR_ARG,
                format!("direction {direction} is not in 0..{}", dims.len()),
            );
        };
        let me = coords_of(dims, c.rank());
        let neighbour = |step: i64| {
            let mut at = me.clone();
            let moved = i64::from(at[dir]) + step;
            let d = i64::from(dims[dir]);
            if !periods[dir] && !(0..d).contains(&moved) {
                return MPI_PROC_NULL;
            }
            at[dir] = moved.rem_euclid(d) as c_int;
            rank_of(dims, periods, &at).unwrap_or(MPI_PROC_NULL)
        };
        let (source, dest) = (neighbour(-i64::from(disp)), neighbour(i64::from(disp)));
        give(source, rank_source)?;
        give(dest, rank_dest)
    })
}

/// `MPI_Cartdim_get`: the number of dimensions of the grid.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cartdim_get(comm: Handle, ndims: *mut c_int) -> c_int {
    call_on("MPI_Cartdim_get", On::Comm(comm), || {
        let c = get(comm)?;
        let (dims, _) = cart_of(&c)?;
        give(dims.len() as c_int, ndims)
    })
}

/// `MPI_Topo_test`: `MPI_CART`, `MPI_DIST_GRAPH`, or `MPI_UNDEFINED` for no topology.
#[no_mangle]
pub unsafe extern "C" fn MPI_Topo_test(comm: Handle, status: *mut c_int) -> c_int {
    call_on("MPI_Topo_test", On::Comm(comm), || {
        let c = get(comm)?;
        let kind = match c.topo {
            Some(Topology::Cart { .. }) => MPI_CART,
            Some(Topology::DistGraph { .. }) => MPI_DIST_GRAPH,
            None => MPI_UNDEFINED,
        };
        give(kind, status)
    })
}

mod graph;

#[cfg(test)]
mod tests;
