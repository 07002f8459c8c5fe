//! Everything most programs need, in one import: `use pip_comm::prelude::*`.
//!
//! The traits of `pip_comm::traits` (whose methods are the API: `rank`, `process_at_rank`, `send`,
//! `receive`, the collectives) and the common types and constants.
//!
//! ```
//! use pip_comm::prelude::*;
//!
//! pip_comm::run(2, |world| {
//!     let peer = world.process_at_rank(1 - world.rank());
//!     peer.send(&[world.rank(); 2]).unwrap();
//!     let (v, status): (Vec<Rank>, Status) = peer.receive_vec().unwrap();
//!     assert_eq!((v, status.source), (vec![1 - world.rank(); 2], 1 - world.rank()));
//! })
//! .unwrap();
//! ```

pub use crate::collective::{CommunicatorCollectives, Root};
pub use crate::comm::Communicator;
pub use crate::datatype::{Buffer, BufferMut};
pub use crate::p2p::{Destination, Source};
pub use crate::{
    AnyProcess, Color, Equivalence, Partition, PartitionMut, Process, Rank, SimpleCommunicator,
    Status, SystemOperation, Tag, UserOperation, ANY_SOURCE, ANY_TAG,
};
