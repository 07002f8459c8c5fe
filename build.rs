//! Integration tests and the `launch` example are PiP roots: they must export their `exit` so that a
//! task calling `exit()` ends only that task (see docs/architecture.md).
fn main() {
    println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic-symbol=exit");
    println!("cargo:rustc-link-arg-examples=-Wl,--export-dynamic-symbol=exit");
    println!("cargo:rerun-if-changed=build.rs");
}
