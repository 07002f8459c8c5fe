//! Ranks at the API and inside: the one place where they are converted.
//!
//! The API numbers ranks with [`Rank`], an `i32` as in MPI (so that wildcards such as
//! [`ANY_SOURCE`](crate::ANY_SOURCE) are ranks too). The engine underneath numbers world
//! ranks with `u32` (indices into the shared world block). A rank crosses between the two
//! only through these functions: a rank that reaches the engine has been checked against
//! the communicator's size first ([`SimpleCommunicator::destination`] and friends), and a
//! rank the engine hands back is below [`MAX_RANKS`](crate::MAX_RANKS), so neither
//! direction can wrap; the conversions still assert it in debug builds.
//!
//! [`SimpleCommunicator::destination`]: crate::SimpleCommunicator

/// A rank number. Ranks of a communicator of size `n` are `0..n`.
pub type Rank = i32;

/// The public rank of an internal rank or size (always below `MAX_RANKS`).
#[inline]
pub(crate) fn public(r: u32) -> Rank {
    debug_assert!(r as usize <= crate::MAX_RANKS, "rank {r} out of range");
    r as Rank
}

/// The internal rank of a public rank that was checked to be in `0..size`.
#[inline]
pub(crate) fn internal(r: Rank) -> u32 {
    debug_assert!(r >= 0, "rank {r} used unchecked");
    r as u32
}

/// A checked public rank as an index (into per-rank arrays).
#[inline]
pub(crate) fn index(r: Rank) -> usize {
    internal(r) as usize
}

/// The public rank of a position in a per-rank array (below the communicator's size).
#[inline]
pub(crate) fn of_index(i: usize) -> Rank {
    debug_assert!(i <= crate::MAX_RANKS, "rank index {i} out of range");
    i as Rank
}
