//! The atomics that protocol code uses: `std::sync::atomic` normally, `loom::sync::atomic`
//! when built with `--cfg loom`, so that the same code is model-checked.
//!
//! Only code that loom should check needs these; under loom they exist only inside a
//! `loom::model` run, and their constructors are not `const`.
//!
//! ```
//! use pip_core::sync::atomic::{AtomicU32, Ordering};
//! let word = AtomicU32::new(1);
//! assert_eq!(word.fetch_add(1, Ordering::Relaxed), 1);
//! ```

#[cfg(loom)]
pub use loom::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub use std::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
