//! The errors of pip-comm: one enum, with a variant per way an operation can fail.

use crate::rank::{Rank, Tag, MAX_TAG};

/// What went wrong in a pip-comm operation.
///
/// Every variant carries what is needed to act on it: the ranks, tags and sizes involved.
///
/// ```
/// let e = pip_comm::Error::Truncated { sender: 1, tag: 7, message_len: 10, buffer_len: 4 };
/// assert_eq!(
///     e.to_string(),
///     "message truncated: rank 1 sent 10 elements with tag 7 but the receive buffer holds 4 \
///      (the first 4 were received, the rest dropped)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rank was listed twice among the members of a new communicator
    /// ([`create_from_members`](crate::traits::Communicator::create_from_members)).
    #[error("rank {rank} is listed twice among the members of the new communicator")]
    DuplicateMember {
        /// The rank listed twice.
        rank: Rank,
    },

    /// A rank outside `0..size` was named as a destination or source.
    #[error("rank {rank} is out of range: the communicator has {size} ranks (0..{size})")]
    RankOutOfRange {
        /// The rank given.
        rank: Rank,
        /// The size of the communicator.
        size: Rank,
    },

    /// [`ANY_SOURCE`](crate::ANY_SOURCE), a wildcard for receives, was named where one rank
    /// is needed: the destination of a send, the root of a collective.
    #[error(
        "ANY_SOURCE cannot be {what}: it is a wildcard for receives only; name a rank in \
         0..{size}"
    )]
    AnySourceNotAllowed {
        /// Where it was given: "the destination of a send", "the root of a collective".
        what: &'static str,
        /// The size of the communicator.
        size: Rank,
    },

    /// A tag outside `0..=MAX_TAG` (or [`ANY_TAG`](crate::ANY_TAG) where a wildcard is not
    /// allowed, as in a send).
    #[error("tag {tag} is invalid: user tags are 0..={MAX_TAG} (and ANY_TAG only when receiving)")]
    InvalidTag {
        /// The tag given.
        tag: Tag,
    },

    /// The matched message is longer than the receive buffer. As in MPI, the message is
    /// consumed: the buffer holds its first `buffer_len` elements and the rest is dropped. No
    /// other message is affected.
    #[error(
        "message truncated: rank {sender} sent {message_len} elements with tag {tag} but the \
         receive buffer holds {buffer_len} (the first {buffer_len} were received, the rest dropped)"
    )]
    Truncated {
        /// The sender.
        sender: Rank,
        /// The message's tag.
        tag: Tag,
        /// The message's length, in elements of the receive type (rounded up).
        message_len: usize,
        /// The receive buffer's length, in elements.
        buffer_len: usize,
    },

    /// The matched message is not a whole number of elements of the receive type (it was sent
    /// with a different element type). The message is consumed; the whole elements were
    /// received.
    #[error(
        "rank {sender} sent {message_bytes} bytes with tag {tag}, which is not a whole number of \
         {element_size}-byte elements"
    )]
    PartialElement {
        /// The sender.
        sender: Rank,
        /// The message's tag.
        tag: Tag,
        /// The message's length in bytes.
        message_bytes: usize,
        /// The size of the receive type.
        element_size: usize,
    },

    /// Another rank of the world panicked; the world cannot make progress any more.
    #[error("rank {rank} panicked, so the world was aborted")]
    Aborted {
        /// The rank that panicked first.
        rank: Rank,
    },

    /// A rank run by [`run`](crate::run) panicked (the first one that did).
    #[error("rank {rank} panicked: {message}")]
    RankPanicked {
        /// The rank.
        rank: Rank,
        /// The panic message, when it was a string.
        message: String,
    },

    /// A world of this many ranks cannot be made.
    #[error("a world needs 1..={max} ranks, not {size}")]
    InvalidSize {
        /// The size asked for.
        size: usize,
        /// The largest size supported.
        max: usize,
    },

    /// `pip_comm::world()` was already called in this task.
    #[error(
        "pip-comm's world was already initialised in this task (call world() once and keep it)"
    )]
    AlreadyInitialized,

    /// `pip_comm::world()` was called outside a PiP task.
    #[error("pip_comm::world() works only in a PiP task (run the program with pip-exec); use pip_comm::run for thread ranks")]
    NotATask,

    /// The world state found in the job was laid out by a different build of pip-comm (for
    /// example two different programs in one MPMD job, built against different versions).
    #[error(
        "pip-comm layout mismatch with task 0's world: {field} is {theirs} there and {ours} here \
         (every program in the job must be built with the same pip-comm)"
    )]
    LayoutMismatch {
        /// What differs.
        field: &'static str,
        /// Our value.
        ours: u64,
        /// The value in task 0's world.
        theirs: u64,
    },

    /// A synchronous send to this rank itself that no posted receive takes: it could never
    /// complete (post a non-blocking receive first).
    #[error(
        "synchronous send to this rank itself with tag {tag} would never complete: no posted \
         receive takes it (post an immediate receive first, or use a standard send)"
    )]
    SynchronousSendToSelf {
        /// The send's tag.
        tag: Tag,
    },

    /// `send_vec` in a job whose ranks do not share one allocator (PiP tasks with `namespace`
    /// isolation: each task has its own libc and malloc, so memory must never be freed by
    /// another task). The `Vec` is given back in the [`SendVecError`](crate::SendVecError).
    #[error(
        "send_vec needs every rank to allocate from one heap, but these PiP tasks have private \
         libcs (namespace isolation); send the contents with send() instead"
    )]
    OwnershipTransferUnavailable,

    /// A non-blocking operation was cancelled, because the scope it belonged to ended with a
    /// panic before the operation could complete; or a receive matched a message whose
    /// sender cancelled it that way at the same moment.
    #[error("the operation was cancelled: a request scope ended by a panic")]
    Cancelled,

    /// A request whose error was already returned (by `Request::test`) was tested or
    /// waited on again.
    #[error(
        "this request already returned its error to an earlier test; it has nothing more to \
         report (drop it)"
    )]
    RequestFinished,

    /// Requests of different worlds were waited on together (a rank that holds communicators
    /// of two worlds must wait for each world's requests separately).
    #[error("requests from different worlds cannot be waited on together")]
    MixedWorlds,

    /// A `split` color that is negative but not [`UNDEFINED`](crate::UNDEFINED).
    #[error("split color {color} is invalid: colors are >= 0, or UNDEFINED for no communicator")]
    InvalidColor {
        /// The color given.
        color: i32,
    },

    /// Every communicator context is in use (about half a billion communicators were made).
    #[error("no communicator context is left ({max} were handed out)")]
    ContextsExhausted {
        /// The number of contexts.
        max: u32,
    },

    /// The ranks of a collective disagree on a number that must be the same everywhere (the
    /// root, the element count or size; see also
    /// [`CollectiveNameMismatch`](Error::CollectiveNameMismatch)). The
    /// rank that sees the difference reports it; the collective still ends on every rank, but
    /// no data moved to or from the disagreeing ranks.
    #[error(
        "collective argument mismatch: {what} is {ours} on this rank but {theirs} on rank {rank}"
    )]
    CollectiveMismatch {
        /// What differs: "the root", "the element count", "the element size".
        what: &'static str,
        /// The other rank (of the communicator).
        rank: Rank,
        /// This rank's value.
        ours: u64,
        /// The other rank's value.
        theirs: u64,
    },

    /// A collective's buffer or count array is too short for what the call needs.
    #[error("collective buffer too small: {what} holds {len} elements but {needed} are needed")]
    CollectiveBuffer {
        /// Which buffer.
        what: &'static str,
        /// Elements needed.
        needed: usize,
        /// Elements given.
        len: usize,
    },

    /// The ranks of a collective disagree on something named rather than counted: which
    /// collective they called, or the reduction operation. As
    /// [`CollectiveMismatch`](Error::CollectiveMismatch), the rank that sees the difference
    /// reports it and the collective still ends on every rank.
    #[error(
        "collective argument mismatch: {what} is {ours} on this rank but {theirs} on rank {rank} \
         (every rank must make the same call)"
    )]
    CollectiveNameMismatch {
        /// What differs: "the collective" or "the operation".
        what: &'static str,
        /// The other rank (of the communicator).
        rank: Rank,
        /// This rank's: a collective's name (`all_reduce`, `gather_varcount`, ...) or an
        /// operation's (`sum`, `max`, ..., `a user operation`).
        ours: &'static str,
        /// The other rank's.
        theirs: &'static str,
    },

    /// A buffer whose length must be a whole number of pieces, one per rank, is not (the send
    /// buffer of `all_to_all_into`: `size * count` elements).
    #[error(
        "collective buffer length: {what} holds {len} elements, which is not a multiple of the \
         communicator size {size}; it must hold size * count elements, one piece of count \
         elements per rank"
    )]
    CollectiveBufferNotMultiple {
        /// Which buffer.
        what: &'static str,
        /// Elements given.
        len: usize,
        /// The size of the communicator.
        size: usize,
    },

    /// Another rank's arguments to the same collective were wrong (it returned an error of its
    /// own), so this rank's result is incomplete.
    #[error(
        "rank {rank} gave wrong arguments to the collective, so this rank's result is incomplete"
    )]
    CollectivePeer {
        /// The other rank (of the communicator).
        rank: Rank,
    },

    /// The root of a rooted collective called the variant for the other ranks (the root
    /// must pass its receive or send buffer: `..._root`).
    #[error("rank {rank} is the root of {collective}, so it must call the _root variant")]
    RootVariantRequired {
        /// The collective.
        collective: &'static str,
        /// The root.
        rank: Rank,
    },

    /// A rank that is not the root called `scatter_in_place_root`. As with MPI's
    /// `MPI_IN_PLACE`, only the root scatters in place; the other ranks call `scatter_into`
    /// with their receive buffer. The collective still ends on every rank.
    #[error(
        "rank {rank} called {collective}_in_place_root, but the root is rank {root}: only the \
         root works in place; the other ranks call {collective}_into with their receive buffer"
    )]
    InPlaceNotAtRoot {
        /// The collective.
        collective: &'static str,
        /// The root.
        root: Rank,
        /// The rank that called.
        rank: Rank,
    },

    /// A built-in reduction that is not defined for the element type (bitwise and logical
    /// operations on floating-point numbers).
    #[error("the reduction {op} is not defined for elements of type {ty}")]
    InvalidOperation {
        /// The operation.
        op: &'static str,
        /// The element type.
        ty: &'static str,
    },

    /// An error from the PiP runtime (finding the task's identity, exporting or importing the
    /// world).
    #[error("PiP runtime: {0}")]
    Pip(#[from] pip_core::Error),
}

/// `Result` with pip-comm's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
