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
//! The traits are sealed: their provided methods reach the peer through [`Peer`], a trait of
//! this private module that no other crate can name, let alone implement.
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

use crate::world::SimpleCommunicator;

pub use crate::rank::{Rank, Tag, ANY_SOURCE, ANY_TAG, MAX_TAG};
pub(crate) use crate::status::status_sized;
pub use crate::status::{ProbeStatus, Status};

/// A peer rank, named by `comm.process_at_rank(rank)`: send to it ([`Destination`]), receive
/// from it ([`Source`]), or use it as the root of a collective (`Root`).
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

/// Any rank, named by `comm.any_process()`: receive ([`Source`]) the first matching message
/// from whoever sent it.
#[derive(Debug, Clone, Copy)]
pub struct AnyProcess<'a> {
    pub(crate) comm: &'a SimpleCommunicator,
}

/// A named peer (or any peer): its communicator and rank ([`ANY_SOURCE`] for any). The
/// accessor behind [`Source`] and [`Destination`]; unreachable from other crates, so they
/// cannot implement those traits.
pub trait Peer {
    /// The communicator and the peer's rank.
    fn peer(&self) -> (&SimpleCommunicator, Rank);
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

impl Source for Process<'_> {}
impl Source for AnyProcess<'_> {}
impl Destination for Process<'_> {}
