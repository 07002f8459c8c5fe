//! pip-exec is a PiP root: it exports `exit` so that a task's `exit()` ends only that task, and
//! pip-core's C bridge so that C tasks linked with libpip.so (the PiP C API) find their root
//! (see `pip_core::bridge`).
fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=exit");
    for bridge in [
        "pip_rs_current_task",
        "pip_rs_task_thread",
        "pip_rs_task_kill",
    ] {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={bridge}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
