//! Requests: the rank's table of operations in flight, behind one small trait.
//!
//! Every non-blocking operation (a point-to-point send or receive, a persistent request once
//! started, a step-by-step non-blocking collective) is a [`Pending`] stored under an
//! `MPI_Request` handle. The completion calls (`MPI_Wait`, `MPI_Test` and their `all`, `any`,
//! `some` forms) poll the pending operations and, when none can finish yet, wait on pip-comm's
//! wait loop (spin, yield, then sleep until a peer's message or completion wakes the rank)
//! with the operations' [`Pending::ready`] as the check before sleeping.

use crate::error::Result;
use crate::handle::{Handle, MpiStatus};
use crate::state::Table;
use std::cell::RefCell;

/// One operation in flight.
pub trait Pending {
    /// Advances the operation without blocking; `Some(outcome)` once it is complete (the
    /// status to report, or the error).
    fn poll(&mut self) -> Option<Result<MpiStatus>>;

    /// True when polling may complete the operation or move it on (checked before the rank
    /// sleeps; it must be true whenever a peer has done what the operation waits for).
    fn ready(&self) -> bool;

    /// `MPI_Cancel`: true if the operation was cancelled (it then completes with a status
    /// whose cancelled flag is set); false if it cannot be.
    fn cancel(&mut self) -> bool {
        false
    }
}

thread_local! {
    static REQUESTS: RefCell<Table<Box<dyn Pending>>> = const { RefCell::new(Table::new(1)) };
}

/// Stores an operation in flight and returns its handle.
pub fn insert(p: Box<dyn Pending>) -> Handle {
    REQUESTS.with(|t| t.borrow_mut().insert(p))
}

/// Drops every request; called by `MPI_Finalize`.
pub fn finalize() {
    let all = REQUESTS.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(1)));
    drop(all);
}
