//! Integration tests and the `launch` example are PiP roots: they must export their `exit` so that a
//! task calling `exit()` ends only that task, and `__cxa_atexit` and `on_exit` so that a task's
//! exit handlers run when that task ends (see docs/architecture.md).
fn main() {
    for symbol in ["exit", "__cxa_atexit", "on_exit"] {
        println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic-symbol={symbol}");
        println!("cargo:rustc-link-arg-examples=-Wl,--export-dynamic-symbol={symbol}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
