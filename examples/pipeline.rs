//! `pipeline`: a zero-copy pipeline with `send_vec` (see `comm/pipeline.rs`), as a PiP task.
//!
//! ```text
//! cargo build --release --workspace --bins --examples
//! target/release/pip-exec -n 4 target/release/examples/libpipeline.so [ARGS]
//! cargo run --release --example comm_run -- pipeline 4 [ARGS]     # the same as thread ranks
//! ```
#[path = "comm/pipeline.rs"]
mod body;
include!("comm/task.rs");
comm_task!("pipeline", body);
