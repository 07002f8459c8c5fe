//! # pip-comm: MPI-style messaging over one address space
//!
//! The communication layer of pip-rs. Ranks are either the tasks of a PiP job (one address
//! space, private statics per task) or threads of one program; either way every rank can read
//! every other rank's memory, so messages need no kernel and no shared-memory segment: small
//! ones are copied through a slot, large ones are copied once, straight from the sender's
//! buffer into the receiver's.
//!
//! The API follows rsmpi, the Rust MPI bindings, so MPI users feel at home: the operations
//! are the methods of rsmpi's traits ([`traits`]: `Communicator`, `Source`, `Destination`,
//! `Root`, `CommunicatorCollectives`), which one import brings in ([`prelude`]):
//!
//! ```
//! use pip_comm::prelude::*;
//! use pip_comm::{Status, ANY_TAG};
//!
//! let results = pip_comm::run(3, |world| -> pip_comm::Result<u64> {
//!     let (rank, size) = (world.rank(), world.size());
//!     if rank == 0 {
//!         // Collect one number from every other rank, in whatever order they come.
//!         let mut sum = 0;
//!         for _ in 1..size {
//!             let (v, status) = world.any_process().receive::<u64>()?;
//!             assert_eq!(status.tag, 7);
//!             sum += v;
//!         }
//!         Ok(sum)
//!     } else {
//!         world.process_at_rank(0).send_with_tag(&(rank as u64 * 10), 7)?;
//!         Ok(0)
//!     }
//! })
//! .unwrap();
//! assert_eq!(results[0].as_ref().unwrap(), &30);
//! # let _ = (Status { source: 0, tag: ANY_TAG, count: 0 },);
//! ```
//!
//! ## Getting a world
//!
//! * [`run`]`(n, |world| ..)` runs `n` ranks as scoped threads of the calling program and
//!   returns their results (or the first panic). The quick path for Rust programs and tests.
//! * [`world`](fn@world)`()` inside a PiP task (a `cdylib` launched by `pip-exec`): rank = pipid,
//!   size = number of tasks. Task 0 creates the shared state; every task checks that it was
//!   laid out by the same pip-comm build (the programs of an MPMD job may differ).
//! * [`singleton`]`()`: a world of one rank, owned by the caller (an MPI program started
//!   without a launcher).
//!
//! ## Names
//!
//! The communicator type is [`SimpleCommunicator`] (rsmpi's name), and `Communicator` is the
//! trait, as in rsmpi ([`traits::Communicator`]). Until 0.2.0 the type was called
//! `Communicator`; that name stays, deprecated, as an alias of the type for one release, and
//! so do the former method names (`dup`, `split`, `iprobe`, `sendrecv`, `isend`, `irecv`),
//! as deprecated aliases of rsmpi's (`duplicate`, `split_by_color_with_key`,
//! `immediate_probe`, [`send_receive_into`], `immediate_send`, `immediate_receive_into`).
//! Ranks are [`Rank`] (`i32`, as in MPI) everywhere in the API.
//!
//! ## Semantics
//!
//! * Blocking [`Destination::send`](traits::Destination::send) /
//!   [`Source::receive_into`](traits::Source::receive_into) /
//!   [`Source::receive_vec`](traits::Source::receive_vec) with tags (`0..=MAX_TAG`),
//!   [`ANY_SOURCE`] (or [`any_process`](traits::Communicator::any_process)) and [`ANY_TAG`],
//!   and a [`Status`] (source, tag, count). Matched probes
//!   ([`Source::matched_probe`](traits::Source::matched_probe)) take a message out of the
//!   queue for a later receive.
//! * Non-blocking operations in a [`request::scope`], which keeps their buffers borrowed;
//!   for language bindings whose caller keeps buffers alive itself, [`raw`]'s scope-free
//!   requests on byte pointers.
//! * MPI matching: messages from one sender that match a receive are taken in the order they
//!   were sent; nothing is ordered between senders.
//! * A message longer than the receive buffer is [`Error::Truncated`]: the buffer holds the
//!   message's start, the message is consumed, no other message is affected.
//! * Sends of at most [`SimpleCommunicator::eager_limit`] bytes return at once; larger sends return
//!   once the receiver has copied the data (MPI allows a standard send to block so). A program
//!   in which two ranks both send large messages to each other before receiving deadlocks, as
//!   it may with any MPI. While blocked, a rank keeps accepting eager messages into its queue,
//!   so eager traffic never deadlocks that way.
//!
//! ## Protocols and tuning
//!
//! See the modules' documentation for the shared-memory protocols: `eager` (per-pair rings of
//! slots), `rendezvous` (single copy, split between receiver and sender for large messages),
//! `wait` (spin, yield, futex sleep), `barrier`, `matching`. The tunables are environment
//! variables, read when the world is created (`PIP_COMM_EAGER_MAX`, `PIP_COMM_RING_SLOTS`,
//! `PIP_COMM_PAR_COPY_MIN`, `PIP_COMM_CHUNK`) or when a rank starts (`PIP_COMM_SPIN`,
//! `PIP_COMM_YIELD`); pip-comm's README lists them with their defaults and the measurements
//! behind them.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod barrier;
mod coll_lines;
mod coll_slot;
pub mod collective;
mod comm;
mod config;
mod datatype;
mod eager;
mod endpoint;
mod error;
mod matching;
mod owned;
mod p2p;
pub mod prelude;
mod rank;
pub mod raw;
mod rendezvous;
pub mod request;
mod shared;
mod status;
pub mod steal;
mod stealing;
mod sync;
pub mod traits;
mod wait;
mod waiter;
mod watchdog;
mod world;

pub use collective::{Operation, Reducible, SystemOperation, UserOperation};
pub use comm::{Color, Key, UNDEFINED};
pub use datatype::{Buffer, BufferMut, Equivalence, Partition, PartitionMut};
pub use error::{Error, Result};
pub use owned::SendVecError;
pub use p2p::{
    send_receive_into, send_receive_into_with_tags, send_receive_replace_into, AnyProcess, Message,
    ProbeStatus, Process, Status, Tag, ANY_SOURCE, ANY_TAG, MAX_TAG,
};
/// `#[derive(Equivalence)]` for `#[repr(C)]` structs without padding (see [`trait@Equivalence`]).
pub use pip_comm_derive::Equivalence;
pub use rank::Rank;
pub use world::{run, singleton, world, SimpleCommunicator, MAX_RANKS, WORLD_EXPORT_NAME};

/// The former name of [`SimpleCommunicator`]; `Communicator` is now the trait
/// ([`traits::Communicator`]), as in rsmpi.
#[deprecated(
    since = "0.2.0",
    note = "the type is `SimpleCommunicator`; `Communicator` is the trait in `pip_comm::traits`"
)]
pub type Communicator = SimpleCommunicator;

/// The exit code of a job that the deadlock watchdog ended (`PIP_COMM_DEADLOCK=abort`): every
/// rank waited for the watchdog's period (`PIP_COMM_WATCHDOG`, default 10 s) with no progress.
/// pip-exec exits with it too (the task that reported ends with it; the others are ended).
pub const DEADLOCK_EXIT_CODE: i32 = 86;

/// The pip-core synchronisation that the root and tasks share (re-exported for convenience).
pub use pip_core::Barrier as PipBarrier;
