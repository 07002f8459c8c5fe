//! MPI matching: which message a receive takes, and the queue of messages that arrived before
//! a receive wanted them.
//!
//! A receive names a source (or any) and a tag (or any). MPI's rule: among the messages from
//! one source that match, the earliest sent is taken (messages never overtake each other
//! between one pair); between different sources there is no order.
//!
//! A rank's incoming messages sit in one ring per sender (see [`crate::eager`]), in send order.
//! When a receive must look past a message that it does not want, or when a waiting rank
//! drains its rings so that senders are never blocked behind it, that message moves to the
//! rank's private *unexpected queue*, in arrival order. Everything a sender sent earlier is
//! therefore either earlier in the unexpected queue or already received, so a receive searches
//! the queue first (first match wins) and only then the rings.

use crate::{Rank, Tag, ANY_SOURCE, ANY_TAG};
use std::collections::VecDeque;

/// What a receive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Filter {
    /// A rank, or [`ANY_SOURCE`].
    pub(crate) source: Rank,
    /// A tag, or [`ANY_TAG`].
    pub(crate) tag: Tag,
}

impl Filter {
    /// True if the filter accepts a message from `source` with `tag`.
    #[inline]
    pub(crate) fn accepts(&self, source: Rank, tag: Tag) -> bool {
        (self.source == ANY_SOURCE || self.source == source)
            && (self.tag == ANY_TAG || self.tag == tag)
    }
}

/// Where the bytes of a queued message are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// Copied out of an eager slot (or sent by a rank to itself).
    Eager(Vec<u8>),
    /// Still in the sender's buffer: a rendezvous offer (the sender waits for it).
    Rndv,
}

/// A message that arrived before a receive took it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) source: Rank,
    pub(crate) tag: Tag,
    /// The message's length in bytes.
    pub(crate) len: usize,
    pub(crate) body: Body,
}

/// A rank's unexpected messages, in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Unexpected {
    queue: VecDeque<Pending>,
}

impl Unexpected {
    /// True when no message waits.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Appends a message that just arrived.
    pub(crate) fn push(&mut self, p: Pending) {
        self.queue.push_back(p);
    }

    /// Removes and returns the earliest message that `filter` accepts.
    pub(crate) fn take(&mut self, filter: Filter) -> Option<Pending> {
        let i = self
            .queue
            .iter()
            .position(|p| filter.accepts(p.source, p.tag))?;
        self.queue.remove(i)
    }

    /// The number of queued messages.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(source: Rank, tag: Tag, byte: u8) -> Pending {
        Pending {
            source,
            tag,
            len: 1,
            body: Body::Eager(vec![byte]),
        }
    }

    #[test]
    fn filters_and_wildcards() {
        let f = Filter { source: 2, tag: 5 };
        assert!(f.accepts(2, 5));
        assert!(!f.accepts(1, 5) && !f.accepts(2, 4));
        assert!(Filter {
            source: ANY_SOURCE,
            tag: 5
        }
        .accepts(7, 5));
        assert!(Filter {
            source: 2,
            tag: ANY_TAG
        }
        .accepts(2, 99));
        assert!(Filter {
            source: ANY_SOURCE,
            tag: ANY_TAG
        }
        .accepts(0, 0));
    }

    #[test]
    fn first_match_wins_and_others_keep_their_order() {
        let mut q = Unexpected::default();
        q.push(msg(1, 10, 0));
        q.push(msg(2, 20, 1));
        q.push(msg(1, 20, 2));
        q.push(msg(1, 10, 3));
        assert_eq!(q.take(Filter { source: 1, tag: 20 }), Some(msg(1, 20, 2)));
        assert_eq!(
            q.take(Filter {
                source: ANY_SOURCE,
                tag: 20
            }),
            Some(msg(2, 20, 1))
        );
        assert_eq!(
            q.take(Filter {
                source: 3,
                tag: ANY_TAG
            }),
            None
        );
        assert_eq!(
            q.take(Filter {
                source: 1,
                tag: ANY_TAG
            }),
            Some(msg(1, 10, 0))
        );
        assert_eq!(q.len(), 1);
        assert_eq!(
            q.take(Filter {
                source: ANY_SOURCE,
                tag: ANY_TAG
            }),
            Some(msg(1, 10, 3))
        );
        assert!(q.is_empty());
    }
}
