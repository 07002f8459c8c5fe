//! Point-to-point messaging in the style of rsmpi: blocking send and receive, synchronous
//! send, probe, matched probe, send-receive, and ownership transfer of a `Vec`.
//!
//! `world.process_at_rank(r)` names a peer ([`Process`]); `world.any_process()` names any
//! ([`AnyProcess`]). Both receive through the [`Source`] trait, written once; a `Process` also
//! sends through [`Destination`]. Sends go eagerly through a ring slot up to
//! [`SimpleCommunicator::eager_limit`] bytes, and by single-copy rendezvous above it (the send
//! then returns once the receiver has copied the data). A send to oneself is buffered.
//! Receives follow MPI matching ([`crate::matching`]). Non-blocking operations return
//! requests of [`crate::request`].
//!
//! The files: `source.rs` and `destination.rs` (the traits), `typed.rs` (a communicator's
//! checked, typed operations on top of the endpoint, which the traits call), `sendrecv.rs`
//! (send-receive), `matched.rs` (matched probes and their [`Message`]s).

mod destination;
mod matched;
mod sendrecv;
mod source;
mod typed;

pub use destination::Destination;
pub use matched::Message;
pub use sendrecv::{send_receive_into, send_receive_into_with_tags, send_receive_replace_into};
pub use source::Source;
pub(crate) use typed::zeroed;

use crate::datatype::Equivalence;
use crate::traits::sealed::{AsRoot, Peer};
use crate::world::SimpleCommunicator;
use crate::{Error, Result};

pub use crate::rank::{Rank, Tag, ANY_SOURCE, ANY_TAG, MAX_TAG};

/// What a completed receive got: from whom, with which tag, how many elements.
///
/// ```
/// use pip_comm::prelude::*;
/// pip_comm::run(2, |world| {
///     if world.rank() == 0 {
///         world.process_at_rank(1).send_with_tag(&[1u16, 2, 3], 9).unwrap();
///     } else {
///         let mut buf = [0u16; 8];
///         let status = world.any_process().receive_into(&mut buf[..]).unwrap();
///         assert_eq!(status, pip_comm::Status { source: 0, tag: 9, count: 3 });
///     }
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status {
    /// The sender's rank.
    pub source: Rank,
    /// The message's tag.
    pub tag: Tag,
    /// The number of elements received (of the receive's element type).
    pub count: usize,
}

impl Status {
    /// The sender's rank (rsmpi's name).
    pub fn source_rank(&self) -> Rank {
        self.source
    }

    /// The message's tag.
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// The number of elements received.
    pub fn count(&self) -> usize {
        self.count
    }
}

/// What a probe found: a message that a receive would get next, still waiting to be received.
///
/// ```
/// use pip_comm::prelude::*;
/// pip_comm::run(2, |world| {
///     if world.rank() == 0 {
///         world.process_at_rank(1).send_with_tag(&[1u32, 2, 3], 4).unwrap();
///     } else {
///         let p = world.any_process().probe().unwrap();
///         assert_eq!((p.source, p.tag, p.bytes), (0, 4, 12));
///         assert_eq!(p.count::<u32>(), Some(3));
///         let mut buf = vec![0u32; p.count::<u32>().unwrap()];
///         world.process_at_rank(p.source).receive_into(&mut buf[..]).unwrap();
///     }
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeStatus {
    /// The sender's rank.
    pub source: Rank,
    /// The message's tag.
    pub tag: Tag,
    /// The message's length in bytes.
    pub bytes: usize,
}

impl ProbeStatus {
    /// The message's length in elements of `T`, or `None` if it is not a whole number of them.
    pub fn count<T: Equivalence>(&self) -> Option<usize> {
        match std::mem::size_of::<T>() {
            0 => Some(0),
            size => (self.bytes % size == 0).then_some(self.bytes / size),
        }
    }
}

/// The status of a receive of `len` bytes into `capacity` elements of `size` bytes, or the
/// error it amounts to.
pub(crate) fn status_sized(
    source: Rank,
    tag: Tag,
    len: usize,
    capacity: usize,
    size: usize,
) -> Result<Status> {
    if size == 0 {
        return Ok(Status {
            source,
            tag,
            count: 0,
        });
    }
    if len > capacity * size {
        return Err(Error::Truncated {
            sender: source,
            tag,
            message_len: len.div_ceil(size),
            buffer_len: capacity,
        });
    }
    if len % size != 0 {
        return Err(Error::PartialElement {
            sender: source,
            tag,
            message_bytes: len,
            element_size: size,
        });
    }
    Ok(Status {
        source,
        tag,
        count: len / size,
    })
}

/// A peer rank, named by [`Communicator::process_at_rank`]: send to it ([`Destination`]),
/// receive from it ([`Source`]), or use it as the root of a collective
/// ([`Root`](crate::traits::Root)).
///
/// [`Communicator::process_at_rank`]: crate::traits::Communicator::process_at_rank
#[derive(Debug, Clone, Copy)]
pub struct Process<'a> {
    pub(crate) comm: &'a SimpleCommunicator,
    pub(crate) rank: Rank,
}

impl Process<'_> {
    /// The peer's rank.
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(2, |world| assert_eq!(world.process_at_rank(1).rank(), 1)).unwrap();
    /// ```
    pub fn rank(&self) -> Rank {
        self.rank
    }
}

/// Any rank, named by [`Communicator::any_process`]: receive ([`Source`]) the first matching
/// message from whoever sent it.
///
/// [`Communicator::any_process`]: crate::traits::Communicator::any_process
#[derive(Debug, Clone, Copy)]
pub struct AnyProcess<'a> {
    pub(crate) comm: &'a SimpleCommunicator,
}

impl Peer for Process<'_> {
    fn peer(&self) -> (&SimpleCommunicator, Rank) {
        (self.comm, self.rank)
    }
}

impl Peer for AnyProcess<'_> {
    fn peer(&self) -> (&SimpleCommunicator, Rank) {
        (self.comm, ANY_SOURCE)
    }
}

impl AsRoot for Process<'_> {
    fn as_root(&self) -> Process<'_> {
        *self
    }
}

impl Source for Process<'_> {}
impl Source for AnyProcess<'_> {}
impl Destination for Process<'_> {}
