//! Distributed graphs: `MPI_Dist_graph_create_adjacent` and the neighbour queries. The
//! communicator is a duplicate of the old one that stores the caller's in- and out-neighbours
//! ([`Topology::DistGraph`]); each rank knows only its own edges, as the standard says.

use super::{ints, write_ints, Topology};
use crate::comm::{derive, get, give, out, Comm};
use crate::error::{call_on, fail, On, Result, MPI_ERR_ARG, MPI_ERR_RANK, MPI_ERR_TOPOLOGY};
use crate::handle::{Handle, MPI_UNWEIGHTED, MPI_WEIGHTS_EMPTY};
use pip_comm::prelude::*;
use std::ffi::c_int;

/// Reads one side of a distributed graph: `degree` ranks of a communicator of `size` and
/// their weights (`None` for `MPI_UNWEIGHTED`).
///
/// # Safety
///
/// `ranks` and `weights` (unless a special value) are valid for reads of `degree` ints.
unsafe fn side(
    degree: c_int,
    ranks: *const c_int,
    weights: *const c_int,
    size: c_int,
    what: &str,
) -> Result<(Vec<c_int>, Option<Vec<c_int>>)> {
    let n = crate::state::count(degree, MPI_ERR_ARG, &format!("the {what} degree"))?;
    // SAFETY: the caller guarantees `degree` readable ints at `ranks`.
    let r = unsafe { ints(ranks, n, what)? };
    if let Some((i, bad)) = r.iter().enumerate().find(|(_, x)| !(0..size).contains(*x)) {
        return fail(
            MPI_ERR_RANK,
            format!("{what}[{i}] = {bad} is not in 0..{size}"),
        );
    }
    let w = match weights as usize {
        MPI_UNWEIGHTED => None,
        MPI_WEIGHTS_EMPTY => Some(Vec::new()),
        // SAFETY: the caller guarantees `degree` readable ints at `weights`.
        _ => Some(unsafe { ints(weights, n, &format!("{what} weights"))? }.to_vec()),
    };
    Ok((r.to_vec(), w))
}

/// `MPI_Dist_graph_create_adjacent`: a duplicate of `comm_old` that knows each rank's in- and
/// out-neighbours (`info` and `reorder` are ignored). Collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Dist_graph_create_adjacent(
    comm_old: Handle,
    indegree: c_int,
    sources: *const c_int,
    sourceweights: *const c_int,
    outdegree: c_int,
    destinations: *const c_int,
    destweights: *const c_int,
    info: Handle,
    _reorder: c_int,
    comm_dist_graph: *mut Handle,
) -> c_int {
    call_on("MPI_Dist_graph_create_adjacent", On::Comm(comm_old), || {
        let c = get(comm_old)?;
        out(comm_dist_graph)?;
        crate::info::check(info)?;
        let size = c.size();
        // SAFETY: MPI requires `indegree` and `outdegree` readable ints at the arrays.
        let ((sources, sw), (destinations, dw)) = unsafe {
            (
                side(indegree, sources, sourceweights, size, "sources")?,
                side(outdegree, destinations, destweights, size, "destinations")?,
            )
        };
        let given = |w: &Option<Vec<c_int>>| w.as_ref().is_some_and(|w| !w.is_empty());
        if (sw.is_none() && given(&dw)) || (dw.is_none() && given(&sw)) {
            return fail(
                MPI_ERR_ARG,
                "sourceweights and destweights must both be MPI_UNWEIGHTED or both weights",
            );
        }
        let pc = c.pc.duplicate()?;
        let topo = Topology::DistGraph {
            sources,
            destinations,
            weighted: sw.is_some() && dw.is_some(),
            source_weights: sw.unwrap_or_default(),
            dest_weights: dw.unwrap_or_default(),
        };
        give(derive(&c, Some(pc), Some(topo))?, comm_dist_graph)
    })
}

/// The distributed graph of communicator `comm`.
fn graph_of(c: &Comm) -> Result<&Topology> {
    match &c.topo {
        Some(t @ Topology::DistGraph { .. }) => Ok(t),
        _ => fail(
            MPI_ERR_TOPOLOGY,
            "the communicator has no distributed-graph topology",
        ),
    }
}

/// `MPI_Dist_graph_neighbors_count`: the caller's in- and out-degree, and whether the graph
/// has weights.
#[no_mangle]
pub unsafe extern "C" fn MPI_Dist_graph_neighbors_count(
    comm: Handle,
    indegree: *mut c_int,
    outdegree: *mut c_int,
    weighted: *mut c_int,
) -> c_int {
    call_on("MPI_Dist_graph_neighbors_count", On::Comm(comm), || {
        let c = get(comm)?;
        let Topology::DistGraph {
            sources,
            destinations,
            weighted: w,
            ..
        } = graph_of(&c)?
        else {
            unreachable!("graph_of gives a distributed graph")
        };
        give(sources.len() as c_int, indegree)?;
        give(destinations.len() as c_int, outdegree)?;
        give(c_int::from(*w), weighted)
    })
}

/// `MPI_Dist_graph_neighbors`: the caller's in- and out-neighbours (and their weights, if the
/// graph has weights and the arrays are not `MPI_UNWEIGHTED`).
#[no_mangle]
pub unsafe extern "C" fn MPI_Dist_graph_neighbors(
    comm: Handle,
    maxindegree: c_int,
    sources: *mut c_int,
    sourceweights: *mut c_int,
    maxoutdegree: c_int,
    destinations: *mut c_int,
    destweights: *mut c_int,
) -> c_int {
    call_on("MPI_Dist_graph_neighbors", On::Comm(comm), || {
        let c = get(comm)?;
        let Topology::DistGraph {
            sources: s,
            source_weights: sw,
            destinations: d,
            dest_weights: dw,
            weighted,
        } = graph_of(&c)?
        else {
            unreachable!("graph_of gives a distributed graph")
        };
        if maxindegree < s.len() as c_int || maxoutdegree < d.len() as c_int {
            return fail(
                MPI_ERR_ARG,
                format!(
                    "maxindegree = {maxindegree} / maxoutdegree = {maxoutdegree} are less than \
                     the degrees {} / {}",
                    s.len(),
                    d.len()
                ),
            );
        }
        let weights_out = |p: *mut c_int| {
            if *weighted && p as usize != MPI_UNWEIGHTED && p as usize != MPI_WEIGHTS_EMPTY {
                p
            } else {
                std::ptr::null_mut()
            }
        };
        // SAFETY: MPI requires room for `maxindegree` / `maxoutdegree` ints at the arrays, and
        // the degrees are at most those (checked).
        unsafe {
            write_ints(sources, s);
            write_ints(destinations, d);
            write_ints(weights_out(sourceweights), sw);
            write_ints(weights_out(destweights), dw);
        }
        Ok(())
    })
}
