//! The type constructors: how a derived type's blocks, bounds and extent follow from its parts.
//!
//! # One rule for every constructor
//!
//! Every constructor lays out *pieces*: a piece is `count` consecutive copies of an old type
//! (copy `k` at `disp + k * old.extent`) placed at byte displacement `disp`. A contiguous
//! type is one piece; a vector or hvector one piece per block (`disp = i * stride`); an
//! indexed type one piece per block; a struct one piece per block, each with its own old type.
//! [`build`] turns the pieces into a [`Datatype`]:
//!
//! * **blocks**: the old type's runs of every copy, in type-map order (piece by piece, copy
//!   by copy), a run that starts where the previous one ends merged into it. A block of
//!   copies of a dense old type (one run as long as its extent) is one run.
//! * **size**: the sum of the copies' sizes.
//! * **lower and upper bound** (MPI 3.1 section 4.1.7): each piece with copies spans from
//!   `disp + old.lb` (plus `(count - 1) * old.extent` when that is negative) to `disp + old.ub`
//!   (plus it when positive). The new lb is the least and the ub the greatest of these, except
//!   that when some piece's old type has *explicit bounds* (it was made by
//!   `MPI_Type_create_resized`: in the standard's words its type map holds lb and ub markers)
//!   only those pieces count, and the new type has explicit bounds too.
//! * **padding (the standard's epsilon)**: a struct without explicit bounds has its extent
//!   rounded up to a multiple of its alignment, the largest alignment of its parts' C types,
//!   as C pads a struct: `{double; char}` has extent 16. The other constructors add none: their
//!   bounds come from the old type's bounds, which are already padded (as MPICH and Open MPI
//!   do; for a vector of a padded struct with a stride that is no multiple of the struct's
//!   alignment the two libraries differ from each other, and pip-rs agrees with MPICH).
//! * **true bounds**: the least and greatest byte of the blocks (0 and 0 without data).
//! * **basic**: the one predefined kind of every piece's old type, when they share one.
//! * **elements**: the basic elements of the pieces' copies, in order, run-length encoded.
//!
//! A type without pieces holding copies has bounds 0 and 0 and no data.
//!
//! A type is stored as its runs, so one with more than [`MAX_RUNS`] separate runs per element
//! is refused (`MPI_ERR_UNSUPPORTED_OPERATION`) rather than filling memory.
//!
//! `MPI_Type_create_resized` keeps the data and sets lb and extent as given (explicit bounds);
//! `MPI_Type_dup` copies the type without its name. New types are not committed.

use super::Datatype;
use crate::error::{fail, Error, Result, MPI_ERR_ARG, MPI_ERR_UNSUPPORTED_OPERATION};

/// The most separate runs (and pieces) one element of a type may have: 16 Mi runs take 256 MiB.
pub const MAX_RUNS: usize = 1 << 24;

fn too_many(runs: usize) -> Error {
    Error::new(
        MPI_ERR_UNSUPPORTED_OPERATION,
        format!(
            "the type would have {runs} separate runs of data per element; pip-rs describes a \
             type by its runs and allows at most {MAX_RUNS}"
        ),
    )
}

/// `count` consecutive copies of `old` at byte displacement `disp`.
#[derive(Debug, Clone, Copy)]
pub struct Piece<'a> {
    /// Where the first copy starts, in bytes from the new element's start.
    pub disp: isize,
    /// How many copies, each `old.extent` after the previous one.
    pub count: usize,
    /// The type copied.
    pub old: &'a Datatype,
}

fn overflow() -> Error {
    Error::new(
        MPI_ERR_ARG,
        "the displacements or counts overflow the address space (MPI_Aint)",
    )
}

/// `a + b * c` in byte displacements, failing on overflow.
fn offset(a: isize, b: isize, c: isize) -> Result<isize> {
    b.checked_mul(c)
        .and_then(|bc| a.checked_add(bc))
        .ok_or_else(overflow)
}

/// Appends run `(off, len)` to `blocks`, merged into the last run if it continues it.
fn push_run(blocks: &mut Vec<(isize, usize)>, off: isize, len: usize) {
    if len == 0 {
        return;
    }
    if let Some(last) = blocks.last_mut() {
        if last.0 + last.1 as isize == off {
            last.1 += len;
            return;
        }
    }
    blocks.push((off, len));
}

/// Appends `n` repetitions of element list `run` to `out`, run-length encoded.
fn push_elements(out: &mut Vec<(usize, usize)>, run: &[(usize, usize)], n: usize) {
    let mut push = |size: usize, many: usize| {
        if many == 0 {
            return;
        }
        match out.last_mut() {
            Some(last) if last.0 == size => last.1 += many,
            _ => out.push((size, many)),
        }
    };
    if let [(size, many)] = run {
        push(*size, many * n);
        return;
    }
    for _ in 0..n {
        for &(size, many) in run {
            push(size, many);
        }
    }
}

/// The blocks of the pieces' copies, in type-map order (see the module documentation).
fn blocks_of(pieces: &[Piece]) -> Result<Vec<(isize, usize)>> {
    // The runs and element runs the pieces may make, before making them.
    let mut runs = pieces.len();
    for p in pieces {
        let dense = p.old.blocks.len() == 1 && p.old.extent == p.old.blocks[0].1 as isize;
        let per_copy = if dense { 0 } else { p.old.blocks.len() };
        let per_copy = per_copy.max(if p.old.elements.len() > 1 {
            p.old.elements.len()
        } else {
            0
        });
        runs = runs.saturating_add(p.count.saturating_mul(per_copy));
    }
    if runs > MAX_RUNS {
        return Err(too_many(runs));
    }
    let mut blocks = Vec::new();
    for p in pieces {
        let old = p.old;
        let dense = old.blocks.len() == 1 && old.extent == old.blocks[0].1 as isize;
        if dense {
            let (off, len) = old.blocks[0];
            let total = len.checked_mul(p.count).ok_or_else(overflow)?;
            push_run(&mut blocks, offset(p.disp, 1, off)?, total);
            continue;
        }
        for k in 0..p.count {
            let base = offset(p.disp, k as isize, old.extent)?;
            for &(off, len) in &old.blocks {
                push_run(&mut blocks, offset(base, 1, off)?, len);
            }
        }
    }
    Ok(blocks)
}

/// The span (lb, ub) of the copies of one piece.
fn span(p: &Piece) -> Result<(isize, isize)> {
    let reach = offset(0, p.count as isize - 1, p.old.extent)?;
    let lb = offset(p.disp, 1, p.old.lb)?
        .checked_add(reach.min(0))
        .ok_or_else(overflow)?;
    let ub = offset(p.disp, 1, p.old.ub())?
        .checked_add(reach.max(0))
        .ok_or_else(overflow)?;
    Ok((lb, ub))
}

/// The new type made of `pieces`; `padded` for a struct (see the module documentation).
pub fn build(pieces: &[Piece], padded: bool) -> Result<Datatype> {
    let blocks = blocks_of(pieces)?;
    let mut size = 0usize;
    let mut elements = Vec::new();
    for p in pieces {
        size = p
            .old
            .size
            .checked_mul(p.count)
            .and_then(|s| s.checked_add(size))
            .ok_or_else(overflow)?;
        push_elements(&mut elements, &p.old.elements, p.count);
    }
    let used: Vec<&Piece> = pieces.iter().filter(|p| p.count > 0).collect();
    let explicit = used.iter().any(|p| p.old.explicit_bounds);
    let mut bounds: Option<(isize, isize)> = None;
    for p in used.iter().filter(|p| p.old.explicit_bounds || !explicit) {
        let (lb, ub) = span(p)?;
        bounds = Some(bounds.map_or((lb, ub), |(l, u)| (l.min(lb), u.max(ub))));
    }
    let (lb, mut ub) = bounds.unwrap_or((0, 0));
    let align = used.iter().map(|p| p.old.align).max().unwrap_or(1);
    if padded && !explicit {
        let rem = (ub - lb).rem_euclid(align as isize);
        if rem != 0 {
            ub = ub.checked_add(align as isize - rem).ok_or_else(overflow)?;
        }
    }
    let true_lb = blocks.iter().map(|b| b.0).min().unwrap_or(0);
    let true_ub = blocks.iter().map(|b| b.0 + b.1 as isize).max().unwrap_or(0);
    let kinds = pieces
        .iter()
        .map(|p| p.old.basic.map(|(k, n)| (k, n * p.count)));
    let basic = kinds.reduce(|a, b| match (a, b) {
        (Some((ka, na)), Some((kb, nb))) if ka == kb => Some((ka, na + nb)),
        _ => None,
    });
    Ok(Datatype {
        blocks,
        size,
        lb,
        extent: ub - lb,
        basic: basic.flatten(),
        true_lb,
        true_ub,
        explicit_bounds: explicit,
        align,
        elements,
        predefined: false,
        committed: false,
        name: String::new(),
    })
}

/// `MPI_Type_contiguous`: `count` copies of `old`, one after the other.
pub fn contiguous(count: usize, old: &Datatype) -> Result<Datatype> {
    build(
        &[Piece {
            disp: 0,
            count,
            old,
        }],
        false,
    )
}

/// `MPI_Type_create_hvector` (and `MPI_Type_vector`, whose stride is `stride * old.extent`):
/// `count` blocks of `blocklength` copies, block `i` at byte `i * stride`.
pub fn hvector(
    count: usize,
    blocklength: usize,
    stride: isize,
    old: &Datatype,
) -> Result<Datatype> {
    if count > MAX_RUNS {
        return Err(too_many(count));
    }
    let pieces = (0..count)
        .map(|i| {
            Ok(Piece {
                disp: offset(0, i as isize, stride)?,
                count: blocklength,
                old,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    build(&pieces, false)
}

/// `MPI_Type_create_hindexed` (and `MPI_Type_indexed` and `MPI_Type_create_indexed_block`,
/// whose displacements are in multiples of `old.extent`): block `i` of `blocklengths[i]`
/// copies at byte `displacements[i]`.
pub fn hindexed(
    blocklengths: &[usize],
    displacements: &[isize],
    old: &Datatype,
) -> Result<Datatype> {
    let pieces: Vec<Piece> = blocklengths
        .iter()
        .zip(displacements)
        .map(|(&count, &disp)| Piece { disp, count, old })
        .collect();
    build(&pieces, false)
}

/// `MPI_Type_create_struct`: block `i` of `blocklengths[i]` copies of `types[i]` at byte
/// `displacements[i]`, padded as C pads a struct.
pub fn structure(
    blocklengths: &[usize],
    displacements: &[isize],
    types: &[&Datatype],
) -> Result<Datatype> {
    let pieces: Vec<Piece> = blocklengths
        .iter()
        .zip(displacements)
        .zip(types)
        .map(|((&count, &disp), &old)| Piece { disp, count, old })
        .collect();
    build(&pieces, true)
}

/// `MPI_Type_create_resized`: `old`'s data with lower bound `lb` and extent `extent`.
pub fn resized(old: &Datatype, lb: isize, extent: isize) -> Result<Datatype> {
    if lb.checked_add(extent).is_none() {
        return fail(
            MPI_ERR_ARG,
            format!("lb {lb} + extent {extent} overflows MPI_Aint"),
        );
    }
    Ok(Datatype {
        lb,
        extent,
        explicit_bounds: true,
        predefined: false,
        committed: false,
        name: String::new(),
        ..old.clone()
    })
}

/// `MPI_Type_dup`: a copy of `old` (committed if `old` is), without its name.
pub fn dup(old: &Datatype) -> Datatype {
    Datatype {
        predefined: false,
        name: String::new(),
        ..old.clone()
    }
}

/// Multiplies element displacements by `extent` (for `MPI_Type_indexed` and
/// `MPI_Type_create_indexed_block`).
pub fn scale(displacements: &[i32], extent: isize) -> Result<Vec<isize>> {
    displacements
        .iter()
        .map(|&d| offset(0, d as isize, extent))
        .collect()
}
