//! pip-exec is a PiP root: it exports `exit` so that a task's `exit()` ends only that task.
fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=exit");
    println!("cargo:rerun-if-changed=build.rs");
}
