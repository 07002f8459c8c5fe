//! # pip-mpi: MPI for C programs whose ranks are PiP tasks
//!
//! `libmpi.so` and `include/mpi.h`: the MPI 3.1 C interface over pip-comm. An MPI program built
//! with pip-rs's `mpicc` is a PiP task; `pip-exec -n N prog` (or `mpiexec -n N prog`) runs N of
//! them in one address space, and each `MPI_` call maps onto pip-comm, so matching, the
//! single-copy protocols and the collectives stay in one place. A program started on its own
//! (no pip-exec) is a singleton world of one rank, as MPI's singleton init.
//!
//! ```text
//! target/debug/mpicc -o hello hello.c
//! target/debug/mpiexec -n 4 ./hello
//! ```
//!
//! # The library is shared, the state is per rank
//!
//! `libmpi.so` is an ordinary shared library: in pip-core's default isolation every task's
//! image resolves it to the one copy in the process, so its statics are shared by all ranks
//! (in namespace isolation each task has its own copy). Everything that belongs to a rank
//! (its communicators, datatypes, requests, windows, error handlers, attached buffer) is
//! therefore kept in thread-locals of the rank's main thread, the thread that called
//! `MPI_Init` (in pip-core's process mode a task runs on the thread-local storage of its own
//! host thread, so the same holds). Handles are ints that index the calling rank's tables, so
//! `MPI_COMM_WORLD` means "this rank's world". MPI is called from that thread only: the library
//! provides `MPI_THREAD_FUNNELED`.
//!
//! # Layers
//!
//! * [`error`]: error classes, the codes that carry a message, error handlers, and [`error::call`],
//!   which every `MPI_` function runs its body through (argument errors become an MPI error code,
//!   a panic becomes `MPI_ERR_INTERN`, never an unwind into C).
//! * [`state`]: the rank's phase (before `MPI_Init`, running, finalized) and the handle tables.
//! * [`handle`]: the constant values of `mpi.h`, mirrored for the Rust side.
//! * `env`, `errhandler`, `info`: the environment, error handlers and info objects.
//! * `comm`, `group`, `topo`: communicators, groups and topologies.
//! * `datatype`: predefined and derived datatypes, packing and unpacking.
//! * `request`, `p2p`: point-to-point, requests and their completion.
//! * `op`, `coll`: reduction operations and the collectives (blocking and non-blocking).
//! * `win`: one-sided communication, as loads and stores in the shared address space.
#![deny(unsafe_op_in_unsafe_fn)]
// The C interface keeps MPI's names (MPI_Send, ...), and its functions take raw pointers
// from C: every `extern "C"` function checks them as the standard allows and is documented
// in mpi.h and docs/mpi.md.
#![allow(non_snake_case)]
#![allow(clippy::missing_safety_doc)]

pub mod error;
pub mod handle;
pub mod state;

mod comm;
mod datatype;
mod env;
mod errhandler;
mod group;
mod info;
mod p2p;
mod request;
mod topo;

mod coll;
mod op;

mod win;
