//! pip-exec is a PiP root: it exports `exit` so that a task's `exit()` ends only that task,
//! `__cxa_atexit` and `on_exit` so that a task's exit handlers run when that task ends, and
//! pip-core's C bridge so that C tasks linked with libpip.so (the PiP C API) find their root
//! (see `pip_core::bridge`).
fn main() {
    for symbol in ["exit", "__cxa_atexit", "on_exit"] {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={symbol}");
    }
    for bridge in [
        "pip_rs_current_task",
        "pip_rs_task_thread",
        "pip_rs_task_kill",
    ] {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={bridge}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
