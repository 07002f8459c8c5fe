//! The benchmark binaries (and criterion benches) that spawn PiP tasks are roots: they export `exit` so that a task's
//! `exit()` ends only that task.
fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=exit");
    println!("cargo:rustc-link-arg-benches=-Wl,--export-dynamic-symbol=exit");
    println!("cargo:rerun-if-changed=build.rs");
}
