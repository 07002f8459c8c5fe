//! # pip-comm: MPI-style messaging over one address space
//!
//! The communication layer of pip-rs. It is being built (see the project's issues); for now it
//! re-exports the pip-core synchronisation it will build on.
pub use pip_core::Barrier;
