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
//!
//! # Posted receives
//!
//! Non-blocking receives (and a blocking receive issued while some are outstanding) are
//! *posted*: queued, in the order they were issued, in the rank's [`Posted`] queue. Every
//! message that arrives is offered to the posted receives first (the earliest that accepts it
//! takes it) and goes to the unexpected queue only if none does; a new receive searches the
//! unexpected queue first and is posted only if nothing there matches. So a message never sits
//! in the unexpected queue while a posted receive would accept it, and MPI's order holds
//! across blocking and non-blocking operations: receives are matched in the order they were
//! issued, messages in the order they were sent.
//!
//! Sources here are *world* ranks, and every message and filter carries the communicator
//! context, so communicators never see each other's messages.

use crate::owned::OwnedVec;
use crate::rank::{Rank, Tag, ANY_SOURCE, ANY_TAG};
use crate::rendezvous::RndvCtl;
use std::collections::VecDeque;
use std::ptr::NonNull;

/// What a receive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Filter {
    /// The communicator context.
    pub(crate) ctx: u32,
    /// A world rank, or [`ANY_SOURCE`].
    pub(crate) source: Rank,
    /// A tag, or [`ANY_TAG`].
    pub(crate) tag: Tag,
}

impl Filter {
    /// True if the filter accepts a message of context `ctx` from `source` with `tag`.
    #[inline]
    pub(crate) fn accepts(&self, ctx: u32, source: Rank, tag: Tag) -> bool {
        self.ctx == ctx
            && (self.source == ANY_SOURCE || self.source == source)
            && (self.tag == ANY_TAG || self.tag == tag)
    }
}

/// Where the bytes of a queued message are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// Copied out of an eager slot (or sent by a rank to itself).
    Eager(Vec<u8>),
    /// Still in the sender's buffer: a rendezvous offer under this control (the sender waits
    /// for it).
    Rndv(NonNull<RndvCtl>),
    /// A `Vec` whose ownership the sender handed over.
    Owned(OwnedVec),
}

/// A message that arrived before a receive took it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    /// The communicator context.
    pub(crate) ctx: u32,
    /// The sender's world rank.
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
            .position(|p| filter.accepts(p.ctx, p.source, p.tag))?;
        self.queue.remove(i)
    }

    /// The earliest message that `filter` accepts, left in the queue (probe).
    pub(crate) fn find(&self, filter: Filter) -> Option<&Pending> {
        self.queue
            .iter()
            .find(|p| filter.accepts(p.ctx, p.source, p.tag))
    }

    /// Keeps only the messages for which `keep` holds.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&Pending) -> bool) {
        self.queue.retain(keep);
    }

    /// The number of queued messages.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// The queued messages, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Pending> {
        self.queue.iter()
    }
}

/// A posted receive: where the matched message goes and who waits for it.
#[derive(Debug)]
pub(crate) struct PostedRecv<R> {
    /// What the receive accepts.
    pub(crate) filter: Filter,
    /// Identifies the receive (to cancel it).
    pub(crate) id: u64,
    /// The receive's state, shared with its request.
    pub(crate) target: R,
}

/// A rank's posted receives, in the order they were issued.
#[derive(Debug)]
pub(crate) struct Posted<R> {
    queue: VecDeque<PostedRecv<R>>,
}

impl<R> Default for Posted<R> {
    fn default() -> Self {
        Posted {
            queue: VecDeque::new(),
        }
    }
}

impl<R> Posted<R> {
    /// True when no receive is posted.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Posts a receive after every earlier one.
    pub(crate) fn push(&mut self, r: PostedRecv<R>) {
        self.queue.push_back(r);
    }

    /// Removes and returns the earliest posted receive that accepts a message of context
    /// `ctx` from `source` with `tag`.
    pub(crate) fn take_for(&mut self, ctx: u32, source: Rank, tag: Tag) -> Option<PostedRecv<R>> {
        let i = self
            .queue
            .iter()
            .position(|p| p.filter.accepts(ctx, source, tag))?;
        self.queue.remove(i)
    }

    /// Removes the receive `id` if it is still posted (cancel). True if it was.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        match self.queue.iter().position(|p| p.id == id) {
            Some(i) => {
                self.queue.remove(i);
                true
            }
            None => false,
        }
    }

    /// The posted receives, earliest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PostedRecv<R>> {
        self.queue.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(source: Rank, tag: Tag, byte: u8) -> Pending {
        Pending {
            ctx: 0,
            source,
            tag,
            len: 1,
            body: Body::Eager(vec![byte]),
        }
    }

    #[test]
    fn filters_and_wildcards() {
        let f = Filter {
            ctx: 0,
            source: 2,
            tag: 5,
        };
        assert!(f.accepts(0, 2, 5));
        assert!(!f.accepts(0, 1, 5) && !f.accepts(0, 2, 4));
        assert!(!f.accepts(2, 2, 5), "another communicator's message");
        assert!(Filter {
            ctx: 0,
            source: ANY_SOURCE,
            tag: 5
        }
        .accepts(0, 7, 5));
        assert!(Filter {
            ctx: 0,
            source: 2,
            tag: ANY_TAG
        }
        .accepts(0, 2, 99));
        assert!(Filter {
            ctx: 0,
            source: ANY_SOURCE,
            tag: ANY_TAG
        }
        .accepts(0, 0, 0));
    }

    #[test]
    fn first_match_wins_and_others_keep_their_order() {
        let mut q = Unexpected::default();
        q.push(msg(1, 10, 0));
        q.push(msg(2, 20, 1));
        q.push(msg(1, 20, 2));
        q.push(msg(1, 10, 3));
        assert_eq!(
            q.take(Filter {
                ctx: 0,
                source: 1,
                tag: 20
            }),
            Some(msg(1, 20, 2))
        );
        assert_eq!(
            q.take(Filter {
                ctx: 0,
                source: ANY_SOURCE,
                tag: 20
            }),
            Some(msg(2, 20, 1))
        );
        assert_eq!(
            q.take(Filter {
                ctx: 0,
                source: 3,
                tag: ANY_TAG
            }),
            None
        );
        assert_eq!(
            q.take(Filter {
                ctx: 0,
                source: 1,
                tag: ANY_TAG
            }),
            Some(msg(1, 10, 0))
        );
        assert_eq!(q.len(), 1);
        assert_eq!(
            q.take(Filter {
                ctx: 0,
                source: ANY_SOURCE,
                tag: ANY_TAG
            }),
            Some(msg(1, 10, 3))
        );
        assert!(q.is_empty());
    }

    #[test]
    fn posted_receives_match_in_issue_order() {
        let mut p: Posted<char> = Posted::default();
        let f = |source, tag| Filter {
            ctx: 2,
            source,
            tag,
        };
        p.push(PostedRecv {
            filter: f(1, ANY_TAG),
            id: 1,
            target: 'a',
        });
        p.push(PostedRecv {
            filter: f(ANY_SOURCE, 5),
            id: 2,
            target: 'b',
        });
        p.push(PostedRecv {
            filter: f(1, 5),
            id: 3,
            target: 'c',
        });
        assert!(p.take_for(0, 1, 5).is_none(), "other context");
        assert_eq!(p.take_for(2, 3, 5).map(|r| r.target), Some('b'));
        assert_eq!(p.take_for(2, 1, 5).map(|r| r.target), Some('a'));
        assert!(p.remove(3));
        assert!(!p.remove(3));
        assert!(p.is_empty());
    }
}
