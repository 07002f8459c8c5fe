//! `imbalanced`: work stealing at work (see `comm/imbalanced.rs`), as a PiP task.
//!
//! ```text
//! cargo build --release --workspace --bins --examples
//! target/release/pip-exec -n 4 target/release/examples/libimbalanced.so [ARGS]
//! cargo run --release --example comm_run -- imbalanced 4 [ARGS]     # the same as thread ranks
//! ```
#[path = "comm/imbalanced.rs"]
mod body;
include!("comm/task.rs");
comm_task!("imbalanced", body);
