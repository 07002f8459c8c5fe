//! What a receive got ([`Status`]) and what a probe found ([`ProbeStatus`]), and how the
//! length of a message that arrived becomes a status or an error ([`status_sized`]).

use crate::datatype::Equivalence;
use crate::error::{Error, Result};
use crate::rank::{Rank, Tag};

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
