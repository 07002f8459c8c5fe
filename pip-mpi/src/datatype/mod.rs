//! Datatypes: the predefined C types and derived types, described by their *blocks*.
//!
//! A datatype is the list of contiguous byte runs of one element (`blocks`: offset from the
//! element's start, length), in the order of its type map, with adjacent runs merged; its size
//! (the sum of the runs), and its lower bound and extent (the stride between consecutive
//! elements of a buffer). A type whose single run starts at 0 and whose extent equals its size
//! is *contiguous*: `count` elements are one run of `count * size` bytes, which is sent as it
//! is (pip-comm's single-copy path). Any other type is packed into a contiguous buffer before
//! sending and unpacked after receiving ([`pack`], [`unpack`]); packing copies a run at a time,
//! runs that continue each other across elements merged, so a type whose one run is as long
//! as its extent is still a single copy, and a matrix column one copy per row.
//!
//! A null buffer is `MPI_BOTTOM` (address 0): it is right only with a type whose displacements
//! are absolute addresses, which [`check_data`] tells from a mistake.
//!
//! `basic` names the one predefined type every byte of the element belongs to, when there is
//! one, and how many of it an element holds: the reductions and accumulates use it to apply a
//! predefined operation to a derived type (`MPI_SUM` on a vector of doubles).
//!
//! How the constructors compute a new type's blocks and bounds (MPI's lower bound, upper bound
//! and extent, the true bounds of the data, and the alignment padding of structs) is told in
//! [`derived`]; the C functions are in `functions` (constructors, commit, free, names),
//! `queries` (sizes, extents, addresses, `MPI_Get_count`/`MPI_Get_elements`) and `packing`
//! (`MPI_Pack`, `MPI_Unpack`, `MPI_Pack_size`).

pub mod derived;
mod functions;
mod packing;
mod predefined;
mod queries;
#[cfg(test)]
mod tests;

// The communication families pack and unpack through these.
#[allow(unused_imports)]
pub use packing::{pack, pack_into, unpack};
pub use predefined::Basic;

use crate::error::{fail, Result, MPI_ERR_TYPE};
use crate::handle::{Handle, MPI_DATATYPE_NULL, PREDEFINED_TYPES};
use crate::state::Table;
use std::cell::RefCell;
use std::rc::Rc;

/// A datatype (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Datatype {
    /// The contiguous runs of one element: (byte offset from the element's start, length).
    pub blocks: Vec<(isize, usize)>,
    /// Bytes of data in one element.
    pub size: usize,
    /// The lower bound.
    pub lb: isize,
    /// The extent: the distance between consecutive elements.
    pub extent: isize,
    /// The predefined type of every byte, and how many of it one element holds.
    pub basic: Option<(Basic, usize)>,
    /// The lowest byte offset of the data (`MPI_Type_get_true_extent`; 0 without data).
    pub true_lb: isize,
    /// One past the highest byte offset of the data (0 without data).
    pub true_ub: isize,
    /// True if the bounds were set by `MPI_Type_create_resized` (in MPI's terms, the type map
    /// holds lower- and upper-bound markers): they are kept as given, without padding, by the
    /// types built from this one.
    pub explicit_bounds: bool,
    /// The alignment of the element: the largest C alignment of its predefined parts (a
    /// struct's extent is padded to a multiple of it, as C pads a struct).
    pub align: usize,
    /// The sizes of the basic elements of one element in type-map order, run-length encoded
    /// as (size in bytes, how many in a row), for `MPI_Get_elements`.
    pub elements: Vec<(usize, usize)>,
    /// Predefined types cannot be freed or committed again.
    pub predefined: bool,
    /// Set by `MPI_Type_commit`; only committed types may be used in communication.
    pub committed: bool,
    /// `MPI_Type_get_name`'s answer.
    pub name: String,
}

impl Datatype {
    /// True if `count` elements are one run of `count * size` bytes starting at the buffer.
    pub fn is_contiguous(&self) -> bool {
        self.extent == self.size as isize
            && (self.size == 0 || self.blocks.len() == 1 && self.blocks[0] == (0, self.size))
    }

    /// The upper bound: `lb + extent`.
    pub fn ub(&self) -> isize {
        self.lb + self.extent
    }

    /// The number of bytes of `count` elements' data.
    pub fn bytes(&self, count: usize) -> Result<usize> {
        self.size.checked_mul(count).ok_or_else(|| {
            crate::error::Error::new(
                crate::error::MPI_ERR_COUNT,
                format!("{count} elements of {} bytes overflow", self.size),
            )
        })
    }
}

/// Fails with `MPI_ERR_BUFFER` if `count` elements of `t` at `buf` would touch the first page
/// of memory: a null buffer is only right as `MPI_BOTTOM` with a type whose displacements are
/// absolute addresses (from `MPI_Get_address`). `what` names the argument.
pub fn check_data<T>(buf: *const T, t: &Datatype, count: usize, what: &str) -> Result<()> {
    const FIRST_PAGE: isize = 4096;
    if count == 0 || t.size == 0 {
        return Ok(());
    }
    let first = (buf as isize).wrapping_add(t.true_lb);
    if (0..FIRST_PAGE).contains(&first) {
        return fail(
            crate::error::MPI_ERR_BUFFER,
            format!(
                "{what} is {buf:p} and the datatype's data starts {} bytes from it: a null buffer \
                 (MPI_BOTTOM) needs a datatype of absolute addresses (MPI_Get_address)",
                t.true_lb
            ),
        );
    }
    Ok(())
}

thread_local! {
    static DERIVED: RefCell<Table<Rc<Datatype>>> =
        const { RefCell::new(Table::new(PREDEFINED_TYPES as usize + 1)) };
}

/// The datatype of handle `h` (a predefined one, or a derived one of this rank).
pub fn get(h: Handle) -> Result<Rc<Datatype>> {
    if let Some(t) = predefined::get(h) {
        return Ok(t);
    }
    DERIVED.with(|t| t.borrow().get(h).cloned()).map_or_else(
        || {
            if h == MPI_DATATYPE_NULL {
                fail(MPI_ERR_TYPE, "the datatype is MPI_DATATYPE_NULL")
            } else {
                fail(MPI_ERR_TYPE, format!("{h} is not a datatype of this rank"))
            }
        },
        Ok,
    )
}

/// The datatype of handle `h`, an argument named `what` in the error message.
pub fn get_arg(h: Handle, what: &str) -> Result<Rc<Datatype>> {
    get(h).map_err(|e| crate::error::Error::new(e.class, format!("{what}: {}", e.message)))
}

/// The size of `h` if it is a predefined type whose elements are contiguous, without looking
/// at the rank's tables (see [`predefined::contiguous_size`]).
pub fn contiguous_predefined_size(h: Handle) -> Option<usize> {
    predefined::contiguous_size(h)
}

/// The datatype of handle `h`, which must be committed (for communication).
pub fn get_committed(h: Handle) -> Result<Rc<Datatype>> {
    let t = get(h)?;
    if !t.committed {
        return fail(
            MPI_ERR_TYPE,
            format!("datatype {h} is not committed: call MPI_Type_commit before using it"),
        );
    }
    Ok(t)
}

/// Stores a derived datatype and returns its handle.
pub fn insert(t: Datatype) -> Handle {
    DERIVED.with(|d| d.borrow_mut().insert(Rc::new(t)))
}

/// Replaces the datatype of handle `h` (by `MPI_Type_commit` and `MPI_Type_set_name`; a
/// predefined type may only be renamed).
pub fn replace(h: Handle, t: Datatype) -> Result<()> {
    if predefined::get(h).is_some() {
        return predefined::rename(h, t.name);
    }
    DERIVED.with(|d| match d.borrow_mut().get_mut(h) {
        Some(slot) => {
            *slot = Rc::new(t);
            Ok(())
        }
        None => fail(
            MPI_ERR_TYPE,
            format!("{h} is not a derived datatype of this rank"),
        ),
    })
}

/// Frees the derived datatype of handle `h`.
pub fn remove(h: Handle) -> Result<()> {
    if predefined::get(h).is_some() {
        return fail(MPI_ERR_TYPE, "a predefined datatype cannot be freed");
    }
    DERIVED
        .with(|d| d.borrow_mut().remove(h))
        .map(|_| ())
        .ok_or_else(|| {
            crate::error::Error::new(MPI_ERR_TYPE, format!("{h} is not a datatype of this rank"))
        })
}

/// Drops every derived datatype; called by `MPI_Finalize`.
pub fn finalize() {
    let all = DERIVED.with(|d| {
        std::mem::replace(
            &mut *d.borrow_mut(),
            Table::new(PREDEFINED_TYPES as usize + 1),
        )
    });
    drop(all);
}
