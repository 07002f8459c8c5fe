//! The numbers that name ranks and messages: [`Rank`], [`Tag`] and their wildcards.
//!
//! They sit at the bottom of the crate (every layer speaks them); the public paths are the
//! crate root's (`pip_comm::Rank`, ...).

/// A rank number. Ranks of a communicator of size `n` are `0..n`.
pub type Rank = i32;

/// A message tag: `0..=MAX_TAG`, or [`ANY_TAG`] in a receive.
pub type Tag = i32;

/// Receive from any source (as `process_at_rank(ANY_SOURCE)`;
/// [`Communicator::any_process`](crate::Communicator::any_process) says the same).
pub const ANY_SOURCE: Rank = -2;

/// Receive with any tag.
pub const ANY_TAG: Tag = -1;

/// The largest user tag. Larger tags are reserved for pip-comm itself.
pub const MAX_TAG: Tag = (1 << 30) - 1;
