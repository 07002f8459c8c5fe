//! The [`Communicator`] trait (rank, size, naming peers) and communicators made from
//! communicators: [`Communicator::duplicate`] and [`Communicator::split_by_color`].
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
//! * `duplicate`: rank 0 takes a context pair and a block of collective lines (see
//!   `crate::coll_lines`) and sends both to every other rank (parent's `ctx + 1`).
//! * `split_by_color`: every rank sends its `(color, key)` to rank 0, which groups the ranks by color,
//!   orders each group by `(key, parent rank)`, takes a context pair and a block of collective
//!   lines per color and sends each rank its group's context, block and member list (as world
//!   ranks).
//!
//! One operation is collective over some ranks only:
//!
//! * `create_from_members` (MPI's `MPI_Comm_create_group`): only the listed members call it.
//!   The first member takes a context pair (and a block of collective lines) and sends them to
//!   the others on the parent's `ctx + 1` with the tag [`TAG_MEMBERS`] `+ tag`, so creations that run at the same time with overlapping
//!   members and different tags never take each other's context; every member already knows
//!   the member list, so nothing else is exchanged.
//!
//! The world communicator's barrier works on shared counters (see [`crate::barrier`]); a
//! derived communicator's barrier is a dissemination barrier of empty messages on its
//! `ctx + 1`: in round `k = 1, 2, 4, ...` each rank sends to `rank + k` and receives from
//! `rank - k` (mod size), `ceil(log2(size))` rounds.

use crate::coll_lines::{CommLines, NO_ENTRY};
use crate::endpoint::Mode;
use crate::error::{Error, Result};
use crate::matching::Filter;
use crate::p2p::{AnyProcess, Process};
use crate::rank::{self, Rank};
use crate::world::{Group, SimpleCommunicator};
#[allow(unused_imports)] // for the documentation's links
use crate::ANY_SOURCE;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// The color with which a rank asks [`Communicator::split_by_color`] for no communicator
/// (the value of [`Color::undefined`]).
pub const UNDEFINED: i32 = -32766;

/// The color a rank gives [`Communicator::split_by_color`]: the ranks of one color form a
/// new communicator; [`Color::undefined`] asks for none.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::Color;
/// assert_eq!(Color::with_value(3).value(), 3);
/// assert_eq!(Color::undefined().value(), pip_comm::UNDEFINED);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color(i32);

impl Color {
    /// The color `value` (non-negative; a negative one other than [`UNDEFINED`] makes
    /// `split_by_color` fail with [`Error::InvalidColor`]).
    pub fn with_value(value: i32) -> Color {
        Color(value)
    }

    /// No color: the rank takes part in the split but gets no communicator.
    pub fn undefined() -> Color {
        Color(UNDEFINED)
    }

    /// The color's value.
    pub fn value(&self) -> i32 {
        self.0
    }
}

/// A key that orders the ranks of one color in `split_by_color_with_key` (ties keep the
/// parent's order).
pub type Key = i32;

const TAG_DUP: i32 = 1;
const TAG_SPLIT: i32 = 2;
const TAG_SPLIT_REPLY: i32 = 3;
const TAG_BARRIER: i32 = 4;
/// The first internal tag of `create_from_members`, which adds the caller's tag (at most
/// [`MAX_TAG`](crate::MAX_TAG), so the sum fits an `i32`).
const TAG_MEMBERS: i32 = 1 << 30;

impl SimpleCommunicator {}

/// A group of ranks that exchange messages (rsmpi's `Communicator` trait): this rank's
/// number, the size, the peers, and new communicators made from this one. Implemented by
/// [`SimpleCommunicator`]; sealed (implemented by pip-comm's types only).
pub trait Communicator: AsSimple {
    /// This rank's number, `0..size()`.
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(2, |world| assert!(world.rank() < 2)).unwrap();
    /// ```
    fn rank(&self) -> Rank {
        rank::public(self.as_simple().me)
    }

    /// The number of ranks.
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(4, |world| assert_eq!(world.size(), 4)).unwrap();
    /// ```
    fn size(&self) -> Rank {
        rank::public(self.as_simple().n)
    }

    /// Names the peer `rank`: the destination of sends and the source of receives.
    /// [`ANY_SOURCE`] gives a receive-only wildcard, like [`Communicator::any_process`].
    /// Ranks are checked when used, with [`Error::RankOutOfRange`] (and
    /// [`Error::AnySourceNotAllowed`] for [`ANY_SOURCE`] as a send's destination or a root).
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(2, |world| {
    ///     let peer = world.process_at_rank(1 - world.rank());
    ///     peer.send(&world.rank()).unwrap();
    ///     let (v, _) = peer.receive::<i32>().unwrap();
    ///     assert_eq!(v, 1 - world.rank());
    ///     assert!(world.process_at_rank(5).send(&0u8).is_err());
    /// })
    /// .unwrap();
    /// ```
    fn process_at_rank(&self, rank: Rank) -> Process<'_> {
        Process {
            comm: self.as_simple(),
            rank,
        }
    }

    /// Names any source, for receives that take the first matching message from anyone.
    fn any_process(&self) -> AnyProcess<'_> {
        AnyProcess {
            comm: self.as_simple(),
        }
    }

    /// This rank itself (sends to oneself are buffered, never blocking).
    fn this_process(&self) -> Process<'_> {
        self.process_at_rank(self.rank())
    }

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
    /// use pip_comm::prelude::*;
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
    fn duplicate(&self) -> Result<SimpleCommunicator> {
        let comm = self.as_simple();
        let (ctx, entry) = if comm.me == 0 {
            comm.hand_out(comm.n, 1..comm.n, TAG_DUP)?
        } else {
            comm.handed(0, TAG_DUP)?
        };
        Ok(comm.derived(comm.me, comm.n, ctx, entry, comm.group.clone()))
    }

    /// Splits this communicator by `color` (MPI's `MPI_Comm_split`): the ranks that give the
    /// same color form a new communicator, numbered in the order of `key` (ties keep this
    /// communicator's order). A rank that gives [`Color::undefined`] gets `None`. Collective: every
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
    /// use pip_comm::prelude::*;
    /// let out = pip_comm::run(5, |world| {
    ///     // Even and odd ranks, numbered in reverse.
    ///     let color = Color::with_value(world.rank() % 2);
    ///     let half = world.split_by_color_with_key(color, -world.rank()).unwrap().unwrap();
    ///     (half.rank(), half.size())
    /// })
    /// .unwrap();
    /// assert_eq!(out, [(2, 3), (1, 2), (1, 3), (0, 2), (0, 3)]);
    /// ```
    fn split_by_color_with_key(
        &self,
        color: Color,
        key: Key,
    ) -> Result<Option<SimpleCommunicator>> {
        let comm = self.as_simple();
        let color = color.value();
        let given = color;
        let invalid = color < 0 && color != UNDEFINED;
        let color = if invalid { UNDEFINED } else { color };
        let reply = if comm.me == 0 {
            let mut entries = vec![(color, key, 0u32)];
            for r in 1..comm.n {
                let got = comm.internal_receive(r, TAG_SPLIT)?;
                entries.push((got[0] as i32, got[1] as i32, r));
            }
            let replies = comm.plan_split(&entries);
            for (r, reply) in replies.iter().enumerate().skip(1) {
                comm.internal_send(r as u32, TAG_SPLIT_REPLY, reply)?;
            }
            replies.into_iter().next().unwrap_or_default()
        } else {
            comm.internal_send(0, TAG_SPLIT, &[color as u32, key as u32])?;
            comm.internal_receive(0, TAG_SPLIT_REPLY)?
        };
        if invalid {
            return Err(Error::InvalidColor { color: given });
        }
        match reply.split_first() {
            None => Ok(None),
            Some((0, _)) => Err(comm.exhausted()),
            Some((&ctx, rest)) => {
                let (entry, members) = (rest[0], &rest[1..]);
                let me_world = comm.ep.me;
                let mut local = vec![-1 as Rank; comm.ep.n as usize];
                for (i, &w) in members.iter().enumerate() {
                    local[w as usize] = rank::of_index(i);
                }
                let me = local[me_world as usize];
                debug_assert!(me >= 0, "a rank is in its own group");
                let group = Group {
                    world: members.to_vec(),
                    local,
                };
                Ok(Some(comm.derived(
                    rank::internal(me),
                    members.len() as u32,
                    ctx,
                    entry,
                    Some(Rc::new(group)),
                )))
            }
        }
    }

    /// [`split_by_color_with_key`](Communicator::split_by_color_with_key) with the key 0:
    /// the ranks of one color keep this communicator's order (rsmpi's `split_by_color`).
    ///
    /// # Errors
    ///
    /// As [`Communicator::split_by_color_with_key`].
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(4, |world| {
    ///     let color = if world.rank() < 3 { Color::with_value(0) } else { Color::undefined() };
    ///     let first = world.split_by_color(color).unwrap();
    ///     assert_eq!(first.map(|c| c.size()), (world.rank() < 3).then_some(3));
    /// })
    /// .unwrap();
    /// ```
    fn split_by_color(&self, color: Color) -> Result<Option<SimpleCommunicator>> {
        self.split_by_color_with_key(color, 0)
    }

    /// A communicator of `members`, ranks of this communicator listed in the new one's order,
    /// made by the members alone (MPI's `MPI_Comm_create_group`): ranks outside `members` do not
    /// call it. `tag` tells apart creations that run at the same time on this communicator with
    /// overlapping members (as MPI requires, they must use different tags). A caller that is not
    /// a member gets `None` at once.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`] for a member outside this communicator,
    /// [`Error::DuplicateMember`] for a rank listed twice, [`Error::InvalidTag`] for a tag
    /// outside `0..=MAX_TAG` (all found before anything is sent), [`Error::ContextsExhausted`],
    /// [`Error::Aborted`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(4, |world| {
    ///     // Ranks 3 and 1 make a communicator; ranks 0 and 2 go on with other work.
    ///     if world.rank() % 2 == 1 {
    ///         let pair = world.create_from_members(&[3, 1], 7).unwrap().unwrap();
    ///         assert_eq!(pair.size(), 2);
    ///         assert_eq!(pair.rank(), if world.rank() == 3 { 0 } else { 1 });
    ///         pair.barrier().unwrap();
    ///     }
    /// })
    /// .unwrap();
    /// ```
    fn create_from_members(
        &self,
        members: &[Rank],
        tag: crate::Tag,
    ) -> Result<Option<SimpleCommunicator>> {
        let comm = self.as_simple();
        let world = comm.members_as_world(members)?;
        if !(0..=crate::MAX_TAG).contains(&tag) {
            return Err(Error::InvalidTag { tag });
        }
        let Some(me) = world.iter().position(|&w| w == comm.ep.me) else {
            return Ok(None);
        };
        let leader = rank::internal(members[0]);
        let (ctx, entry) = if me == 0 {
            let others = members[1..].iter().map(|&m| rank::internal(m));
            comm.hand_out(members.len() as u32, others, TAG_MEMBERS + tag)?
        } else {
            comm.handed(leader, TAG_MEMBERS + tag)?
        };
        let mut local = vec![-1 as Rank; comm.ep.n as usize];
        for (i, &w) in world.iter().enumerate() {
            local[w as usize] = rank::of_index(i);
        }
        let group = Group { world, local };
        Ok(Some(comm.derived(
            me as u32,
            members.len() as u32,
            ctx,
            entry,
            Some(Rc::new(group)),
        )))
    }

    /// The former name of [`Communicator::duplicate`].
    ///
    /// # Errors
    ///
    /// As [`Communicator::duplicate`].
    #[deprecated(since = "0.2.0", note = "use `duplicate`")]
    fn dup(&self) -> Result<SimpleCommunicator> {
        self.duplicate()
    }

    /// The former name of [`Communicator::split_by_color_with_key`] (with the color as a
    /// number).
    ///
    /// # Errors
    ///
    /// As [`Communicator::split_by_color_with_key`].
    #[deprecated(
        since = "0.2.0",
        note = "use `split_by_color_with_key(Color::with_value(color), key)`"
    )]
    fn split(&self, color: i32, key: Key) -> Result<Option<SimpleCommunicator>> {
        self.split_by_color_with_key(Color::with_value(color), key)
    }
}

/// The accessor behind [`Communicator`]'s provided methods; unreachable from other crates
/// (this module is private), so they cannot implement the trait.
pub trait AsSimple {
    /// The communicator itself.
    fn as_simple(&self) -> &SimpleCommunicator;
}

impl AsSimple for SimpleCommunicator {
    fn as_simple(&self) -> &SimpleCommunicator {
        self
    }
}

impl Communicator for SimpleCommunicator {}

impl SimpleCommunicator {
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
            let entry = if ctx != 0 {
                self.take_lines(members.len() as u32)
            } else {
                NO_ENTRY
            };
            let mut reply = vec![ctx, entry];
            reply.extend(members.iter().map(|&(_, r)| self.world_rank(r)));
            for &(_, r) in &members {
                replies[r as usize] = reply.clone();
            }
        }
        replies
    }

    /// A communicator of this rank sharing its engine, with the collective lines of pool
    /// entry `entry` (or none: [`NO_ENTRY`]).
    fn derived(
        &self,
        me: u32,
        n: u32,
        ctx: u32,
        entry: u32,
        group: Option<Rc<Group>>,
    ) -> SimpleCommunicator {
        let pool = &self.shared().lines;
        let lines = (entry != NO_ENTRY).then(|| CommLines::new(pool, entry as usize, self.ep.n));
        SimpleCommunicator {
            ep: self.ep.clone(),
            me,
            n,
            ctx,
            group,
            params: self.params,
            policy: self.policy,
            coll_seq: Default::default(),
            lines,
        }
    }

    /// The leader's part of making a communicator of `m` ranks: takes a context pair and a
    /// block of collective lines, and sends both to `others` (ranks of this communicator) on
    /// its internal context with `tag`. An exhausted context is sent as 0, so the others fail
    /// too, then reported.
    fn hand_out(&self, m: u32, others: impl Iterator<Item = u32>, tag: i32) -> Result<(u32, u32)> {
        let ctx = self.new_context();
        let entry = if ctx.is_ok() {
            self.take_lines(m)
        } else {
            NO_ENTRY
        };
        let words = [*ctx.as_ref().unwrap_or(&0), entry];
        for r in others {
            self.internal_send(r, tag, &words)?;
        }
        Ok((ctx?, entry))
    }

    /// A member's part: the context pair and block of lines that `leader` handed out with
    /// `tag` ([`hand_out`](Self::hand_out)).
    fn handed(&self, leader: u32, tag: i32) -> Result<(u32, u32)> {
        match self.internal_receive(leader, tag)?[..] {
            [c, entry] if c != 0 => Ok((c, entry)),
            _ => Err(self.exhausted()),
        }
    }

    /// Takes a block of collective lines for a new communicator of `m` ranks (the leader's
    /// part, see `crate::coll_lines`): its pool entry, or [`NO_ENTRY`] when none is free.
    fn take_lines(&self, m: u32) -> u32 {
        match self.shared().lines.take(m, self.ep.n) {
            Some(i) => i as u32,
            None => NO_ENTRY,
        }
    }

    /// The world ranks of `members` (ranks of this communicator), checked: each in range,
    /// none twice.
    fn members_as_world(&self, members: &[Rank]) -> Result<Vec<u32>> {
        let mut seen = vec![false; self.n as usize];
        let mut world = Vec::with_capacity(members.len());
        for &m in members {
            if m < 0 || m >= self.size() {
                return Err(Error::RankOutOfRange {
                    rank: m,
                    size: self.size(),
                });
            }
            let r = rank::internal(m);
            if std::mem::replace(&mut seen[r as usize], true) {
                return Err(Error::DuplicateMember { rank: m });
            }
            world.push(self.world_rank(r));
        }
        Ok(world)
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
            source: rank::public(self.world_rank(r)),
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
