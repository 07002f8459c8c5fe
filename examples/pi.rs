//! `pi`: pi by reduction (see `comm/pi.rs`), as a PiP task.
//!
//! ```text
//! cargo build --release --workspace --bins --examples
//! target/release/pip-exec -n 4 target/release/examples/libpi.so [ARGS]
//! cargo run --release --example comm_run -- pi 4 [ARGS]     # the same as thread ranks
//! ```
#[path = "comm/pi.rs"]
mod body;
include!("comm/task.rs");
comm_task!("pi", body);
