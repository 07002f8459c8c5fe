//! `launch`: a root written in Rust. It spawns the `hello` task four times (twice in each
//! execution mode), waits for each, and prints how each ended.
//!
//! ```text
//! cargo build --examples && cargo run --example launch
//! ```
use pip_rs::pip_core::{self, Mode, Root, Spawn};

fn main() -> Result<(), pip_core::Error> {
    // The task programs are built next to this example.
    let exe = std::env::current_exe().expect("current_exe");
    let hello = exe.with_file_name("libhello.so");
    for mode in [Mode::Thread, Mode::Process] {
        println!("-- {} mode", mode.as_str());
        let mut root = Root::builder(2).mode(mode).init()?;
        for _ in 0..2 {
            root.spawn(Spawn::program(&hello))?;
        }
        while let Ok((pipid, status)) = root.wait_any() {
            println!("root: task {pipid} {status}");
        }
        root.fin()?;
    }
    Ok(())
}
