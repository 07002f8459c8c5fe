//! The benchmark binaries (and criterion benches) that spawn PiP tasks are roots: they export `exit` so that a task's
//! `exit()` ends only that task, and `__cxa_atexit` and `on_exit` so that its exit handlers run when it ends.
fn main() {
    for symbol in ["exit", "__cxa_atexit", "on_exit"] {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={symbol}");
        println!("cargo:rustc-link-arg-benches=-Wl,--export-dynamic-symbol={symbol}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
