//! `stencil`: a 2-D halo-exchange stencil (see `comm/stencil.rs`), as a PiP task.
//!
//! ```text
//! cargo build --release --workspace --bins --examples
//! target/release/pip-exec -n 4 target/release/examples/libstencil.so [ARGS]
//! cargo run --release --example comm_run -- stencil 4 [ARGS]     # the same as thread ranks
//! ```
#[path = "comm/stencil.rs"]
mod body;
include!("comm/task.rs");
comm_task!("stencil", body);
