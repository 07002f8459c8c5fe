//! The numbers that name ranks and messages: [`Rank`], [`Tag`] and their wildcards.
//!
//! They sit at the bottom of the crate (every layer speaks them); the public paths are the
//! crate root's (`pip_comm::Rank`, ...).
//!
//! # Conversions
//!
//! The API numbers ranks with [`Rank`], an `i32` as in MPI (so that wildcards such as
//! [`ANY_SOURCE`] are ranks too). The engine underneath numbers world ranks with `u32`
//! (indices into the shared world block). A rank crosses between the two only through the
//! functions below: a rank that reaches the engine has been checked against the
//! communicator's size first (`SimpleCommunicator::destination` and `source_filter`, in
//! `p2p/typed.rs`), and a rank the engine hands back is below
//! `MAX_RANKS` (pip-core's task limit), so neither direction can wrap; the conversions still
//! assert it in debug builds.

/// A rank number. Ranks of a communicator of size `n` are `0..n`.
pub type Rank = i32;

/// A message tag: `0..=MAX_TAG`, or [`ANY_TAG`] in a receive.
pub type Tag = i32;

/// Receive from any source (as `process_at_rank(ANY_SOURCE)`;
/// `comm.any_process()` says the same).
pub const ANY_SOURCE: Rank = -2;

/// Receive with any tag.
pub const ANY_TAG: Tag = -1;

/// The largest user tag. Larger tags are reserved for pip-comm itself.
pub const MAX_TAG: Tag = (1 << 30) - 1;

/// The public rank of an internal rank or size (always at most `MAX_RANKS`).
#[inline]
pub(crate) fn public(r: u32) -> Rank {
    debug_assert!(r as usize <= pip_core::MAX_TASKS, "rank {r} out of range");
    r as Rank
}

/// The internal rank of a public rank that was checked to be in `0..size`.
#[inline]
pub(crate) fn internal(r: Rank) -> u32 {
    debug_assert!(r >= 0, "rank {r} used unchecked");
    r as u32
}

/// A checked public rank or size as an index (into per-rank arrays) or a length.
#[inline]
pub(crate) fn index(r: Rank) -> usize {
    internal(r) as usize
}

/// The public rank of a position in a per-rank array (below the communicator's size).
#[inline]
pub(crate) fn of_index(i: usize) -> Rank {
    debug_assert!(i <= pip_core::MAX_TASKS, "rank index {i} out of range");
    i as Rank
}
