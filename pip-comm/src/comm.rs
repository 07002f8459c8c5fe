//! Communicators made from communicators: [`Communicator::dup`] and [`Communicator::split`].
//!
//! # Contexts
//!
//! Every message carries a *context* (in its slot's state word, see [`crate::eager`]), and a
//! receive only ever matches messages of its own communicator's context, so communicators
//! never see each other's messages. Contexts come in pairs: a communicator's point-to-point
//! messages use the even one, `ctx`; its own traffic (handing out new contexts, the barrier of
//! a derived communicator) uses `ctx + 1`, so a user's `ANY_TAG` receive never takes it. The
//! world has contexts 0 and 1; new pairs come from a counter in the shared world block
//! (`next_ctx`, a relaxed `fetch_add`: only uniqueness matters), read by the new
//! communicator's leader, which sends the value to the others.
//!
//! # Creating one
//!
//! Both operations are collective over the parent communicator: every rank of it must call
//! them, in the same order as its other collective calls on that communicator.
//!
//! * `dup`: rank 0 takes a context pair and sends it to every other rank (parent's `ctx + 1`).
//! * `split`: every rank sends its `(color, key)` to rank 0, which groups the ranks by color,
//!   orders each group by `(key, parent rank)`, takes a context pair per color and sends each
//!   rank its group's context and member list (as world ranks).
//!
//! The world communicator's barrier works on shared counters (see [`crate::barrier`]); a
//! derived communicator's barrier is a dissemination barrier of empty messages on its
//! `ctx + 1`: in round `k = 1, 2, 4, ...` each rank sends to `rank + k` and receives from
//! `rank - k` (mod size), `ceil(log2(size))` rounds.

use crate::endpoint::Mode;
use crate::matching::Filter;
use crate::world::{Communicator, Group};
use crate::{Error, Rank, Result};
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// The color with which a rank asks [`Communicator::split`] for no communicator.
pub const UNDEFINED: i32 = -32766;

const TAG_DUP: i32 = 1;
const TAG_SPLIT: i32 = 2;
const TAG_SPLIT_REPLY: i32 = 3;
const TAG_BARRIER: i32 = 4;

impl Communicator {
    /// A new communicator with the same ranks in the same order and a matching space of its
    /// own (MPI's `MPI_Comm_dup`): messages sent on one are never received on the other.
    /// Collective: every rank of this communicator must call it.
    ///
    /// # Errors
    ///
    /// [`Error::ContextsExhausted`], [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// pip_comm::run(2, |world| {
    ///     let lib = world.dup().unwrap();
    ///     assert_eq!((lib.rank(), lib.size()), (world.rank(), world.size()));
    ///     let peer = 1 - world.rank();
    ///     // The same source and tag on two communicators: each receive gets its own message.
    ///     world.process_at_rank(peer).send_with_tag(&1u8, 0).unwrap();
    ///     lib.process_at_rank(peer).send_with_tag(&2u8, 0).unwrap();
    ///     assert_eq!(lib.process_at_rank(peer).receive::<u8>().unwrap().0, 2);
    ///     assert_eq!(world.process_at_rank(peer).receive::<u8>().unwrap().0, 1);
    /// })
    /// .unwrap();
    /// ```
    pub fn dup(&self) -> Result<Communicator> {
        let ctx = if self.me == 0 {
            let ctx = self.new_context();
            let word = [*ctx.as_ref().unwrap_or(&0)];
            for r in 1..self.n {
                self.internal_send(r, TAG_DUP, &word)?;
            }
            ctx?
        } else {
            match self.internal_receive(0, TAG_DUP)?.first() {
                Some(&c) if c != 0 => c,
                _ => return Err(self.exhausted()),
            }
        };
        Ok(self.derived(self.me, self.n, ctx, self.group.clone()))
    }

    /// Splits this communicator by `color` (MPI's `MPI_Comm_split`): the ranks that give the
    /// same color form a new communicator, numbered in the order of `key` (ties keep this
    /// communicator's order). A rank that gives [`UNDEFINED`] gets `None`. Collective: every
    /// rank of this communicator must call it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidColor`] for a negative color other than [`UNDEFINED`] (the rank still
    /// takes part, as if it gave `UNDEFINED`), [`Error::ContextsExhausted`],
    /// [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// let out = pip_comm::run(5, |world| {
    ///     // Even and odd ranks, numbered in reverse.
    ///     let half = world.split(world.rank() % 2, -world.rank()).unwrap().unwrap();
    ///     (half.rank(), half.size())
    /// })
    /// .unwrap();
    /// assert_eq!(out, [(2, 3), (1, 2), (1, 3), (0, 2), (0, 3)]);
    /// ```
    pub fn split(&self, color: i32, key: i32) -> Result<Option<Communicator>> {
        let given = color;
        let invalid = color < 0 && color != UNDEFINED;
        let color = if invalid { UNDEFINED } else { color };
        let reply = if self.me == 0 {
            let mut entries = vec![(color, key, 0u32)];
            for r in 1..self.n {
                let got = self.internal_receive(r, TAG_SPLIT)?;
                entries.push((got[0] as i32, got[1] as i32, r));
            }
            let replies = self.plan_split(&entries);
            for (r, reply) in replies.iter().enumerate().skip(1) {
                self.internal_send(r as u32, TAG_SPLIT_REPLY, reply)?;
            }
            replies.into_iter().next().unwrap_or_default()
        } else {
            self.internal_send(0, TAG_SPLIT, &[color as u32, key as u32])?;
            self.internal_receive(0, TAG_SPLIT_REPLY)?
        };
        if invalid {
            return Err(Error::InvalidColor { color: given });
        }
        match reply.split_first() {
            None => Ok(None),
            Some((0, _)) => Err(self.exhausted()),
            Some((&ctx, members)) => {
                let me_world = self.ep.me;
                let mut local = vec![-1 as Rank; self.ep.n as usize];
                for (i, &w) in members.iter().enumerate() {
                    local[w as usize] = i as Rank;
                }
                let me = local[me_world as usize];
                debug_assert!(me >= 0, "a rank is in its own group");
                let group = Group {
                    world: members.to_vec(),
                    local,
                };
                Ok(Some(self.derived(
                    me as u32,
                    members.len() as u32,
                    ctx,
                    Some(Rc::new(group)),
                )))
            }
        }
    }

    /// Rank 0's part of `split`: the reply for each rank (by this communicator's rank):
    /// empty for `UNDEFINED`, else the context (0 if none was left) and the members as world
    /// ranks in their new order.
    fn plan_split(&self, entries: &[(i32, i32, u32)]) -> Vec<Vec<u32>> {
        let mut replies = vec![Vec::new(); self.n as usize];
        let mut colors: Vec<i32> = entries
            .iter()
            .map(|e| e.0)
            .filter(|&c| c != UNDEFINED)
            .collect();
        colors.sort_unstable();
        colors.dedup();
        for color in colors {
            let mut members: Vec<(i32, u32)> = entries
                .iter()
                .filter(|e| e.0 == color)
                .map(|e| (e.1, e.2))
                .collect();
            members.sort_unstable();
            let ctx = self.new_context().unwrap_or(0);
            let mut reply = vec![ctx];
            reply.extend(members.iter().map(|&(_, r)| self.world_rank(r)));
            for &(_, r) in &members {
                replies[r as usize] = reply.clone();
            }
        }
        replies
    }

    /// A communicator of this rank sharing its engine.
    fn derived(&self, me: u32, n: u32, ctx: u32, group: Option<Rc<Group>>) -> Communicator {
        Communicator {
            ep: self.ep.clone(),
            me,
            n,
            ctx,
            group,
            params: self.params,
            policy: self.policy,
            coll_seq: Default::default(),
        }
    }

    /// Takes a fresh context pair from the world's counter.
    fn new_context(&self) -> Result<u32> {
        // SYNC(comm#contexts): contexts are handed out by one relaxed counter: only its value
        // matters, nothing is published with it.
        let ctx = self.shared().next_ctx.fetch_add(2, Ordering::Relaxed);
        if ctx >= crate::eager::MAX_CTX - 1 {
            return Err(self.exhausted());
        }
        Ok(ctx)
    }

    fn exhausted(&self) -> Error {
        Error::ContextsExhausted {
            max: crate::eager::MAX_CTX,
        }
    }

    /// Sends words to rank `r` on this communicator's internal context.
    fn internal_send(&self, r: u32, tag: i32, words: &[u32]) -> Result<()> {
        self.ep.send(
            self.world_rank(r),
            self.ctx + 1,
            tag,
            crate::datatype::bytes_of(words),
            Mode::Standard,
        )
    }

    /// Receives words from rank `r` on this communicator's internal context.
    fn internal_receive(&self, r: u32, tag: i32) -> Result<Vec<u32>> {
        let filter = Filter {
            ctx: self.ctx + 1,
            source: self.world_rank(r) as Rank,
            tag,
        };
        self.receive_vec_filter::<u32>(filter).map(|(v, _)| v)
    }

    /// The barrier of a derived communicator (see the module documentation).
    pub(crate) fn barrier_p2p(&self) -> Result<()> {
        let mut k = 1;
        while k < self.n {
            self.internal_send((self.me + k) % self.n, TAG_BARRIER, &[])?;
            self.internal_receive((self.me + self.n - k) % self.n, TAG_BARRIER)?;
            k *= 2;
        }
        Ok(())
    }
}
