//! The traits of pip-comm's API, in the shape of rsmpi's (`mpi::traits`): bring them in with
//! `use pip_comm::traits::*` (or `use pip_comm::prelude::*`, which adds the common types).
//!
//! | trait | implemented by | what |
//! |---|---|---|
//! | [`Communicator`] | [`SimpleCommunicator`] | rank, size, naming peers, `duplicate`, `split_by_color` |
//! | [`CommunicatorCollectives`] | [`SimpleCommunicator`] | the barrier and the collectives every rank takes part in equally (`all_*`, scans) |
//! | [`Root`] | [`Process`] | the collectives with a root (broadcast, gather, scatter, reduce) |
//! | [`Source`] | [`Process`], [`AnyProcess`] | receives, probes, matched probes, immediate receives |
//! | [`Destination`] | [`Process`] | sends, synchronous sends, `Vec` handover, immediate sends |
//!
//! Each operation is written once, in its trait, so a [`Process`] and an [`AnyProcess`]
//! receive the same way. The traits are *sealed*: pip-comm's own types implement them, and
//! other crates use them (generic code may take `impl Source` or `impl Communicator`) but
//! cannot implement them.
//!
//! # Naming
//!
//! rsmpi's trait and pip-comm's communicator type were both called `Communicator`. The type
//! is now [`SimpleCommunicator`] (rsmpi's name for a plain communicator) and the name
//! `Communicator` belongs to the trait, as in rsmpi; `pip_comm::Communicator` stays a
//! deprecated alias of the type for one release. Likewise the older method names (`dup`,
//! `split`, `iprobe`, `sendrecv`, `isend`, `irecv`, ...) remain as deprecated aliases of the
//! new ones.
//!
//! ```
//! use pip_comm::prelude::*;
//!
//! fn ring_shift<C: Communicator>(comm: &C, value: u64) -> pip_comm::Result<u64> {
//!     let (me, n) = (comm.rank(), comm.size());
//!     let next = comm.process_at_rank((me + 1) % n);
//!     let prev = comm.process_at_rank((me + n - 1) % n);
//!     let mut got = 0u64;
//!     pip_comm::send_receive_into(&value, &next, &mut got, &prev)?;
//!     Ok(got)
//! }
//!
//! let out = pip_comm::run(3, |world| ring_shift(&world, world.rank() as u64).unwrap()).unwrap();
//! assert_eq!(out, [2, 0, 1]);
//! ```
//!
//! [`SimpleCommunicator`]: crate::SimpleCommunicator
//! [`Process`]: crate::Process
//! [`AnyProcess`]: crate::AnyProcess

pub use crate::collective::{CommunicatorCollectives, Root};
pub use crate::comm::Communicator;
pub use crate::datatype::{Buffer, BufferMut, Equivalence};
pub use crate::p2p::{Destination, Source};
