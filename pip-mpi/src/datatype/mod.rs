//! Datatypes: the predefined C types and derived types, described by their *blocks*.
//!
//! A datatype is the list of contiguous byte runs of one element (`blocks`: offset from the
//! element's start, length), in the order of its type map, with adjacent runs merged; its size
//! (the sum of the runs), and its lower bound and extent (the stride between consecutive
//! elements of a buffer). A type whose single run starts at 0 and whose extent equals its size
//! is *contiguous*: `count` elements are one run of `count * size` bytes, which is sent as it
//! is (pip-comm's single-copy path). Any other type is packed into a contiguous buffer before
//! sending and unpacked after receiving ([`pack`], [`unpack`]).
//!
//! `basic` names the one predefined type every byte of the element belongs to, when there is
//! one, and how many of it an element holds: the reductions and accumulates use it to apply a
//! predefined operation to a derived type (`MPI_SUM` on a vector of doubles).

mod predefined;

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

/// Replaces the derived datatype of handle `h` (by `MPI_Type_commit` and `MPI_Type_set_name`).
pub fn replace(h: Handle, t: Datatype) -> Result<()> {
    DERIVED.with(|d| match d.borrow_mut().get_mut(h) {
        Some(slot) => {
            *slot = Rc::new(t);
            Ok(())
        }
        None => fail(MPI_ERR_TYPE, format!("{h} is not a derived datatype of this rank")),
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
        .ok_or_else(|| crate::error::Error::new(MPI_ERR_TYPE, format!("{h} is not a datatype of this rank")))
}

/// Drops every derived datatype; called by `MPI_Finalize`.
pub fn finalize() {
    let all = DERIVED.with(|d| std::mem::replace(&mut *d.borrow_mut(), Table::new(PREDEFINED_TYPES as usize + 1)));
    drop(all);
}

/// Appends the data of `count` elements of `t` at `src` to `out`, in type-map order.
///
/// # Safety
///
/// Every block of every element is readable.
pub unsafe fn pack(t: &Datatype, count: usize, src: *const u8, out: &mut Vec<u8>) {
    out.reserve(t.size * count);
    for i in 0..count {
        let base = src.wrapping_offset(i as isize * t.extent);
        for &(off, len) in &t.blocks {
            // SAFETY: the caller guarantees the block is readable.
            let run = unsafe { std::slice::from_raw_parts(base.wrapping_offset(off), len) };
            out.extend_from_slice(run);
        }
    }
}

/// Writes packed data `data` (as [`pack`] makes it) into elements of `t` at `dst`, as many
/// whole or partial elements as `data` holds.
///
/// # Safety
///
/// Every block of the elements that `data` covers is writable.
pub unsafe fn unpack(t: &Datatype, data: &[u8], dst: *mut u8) {
    let mut at = 0;
    let mut i = 0isize;
    while at < data.len() {
        let base = dst.wrapping_offset(i * t.extent);
        for &(off, len) in &t.blocks {
            let n = len.min(data.len() - at);
            if n == 0 {
                return;
            }
            // SAFETY: the caller guarantees the block is writable; `data` has `n` bytes at `at`.
            unsafe {
                std::ptr::copy_nonoverlapping(data.as_ptr().add(at), base.wrapping_offset(off), n)
            };
            at += n;
        }
        if t.blocks.is_empty() {
            return;
        }
        i += 1;
    }
}
