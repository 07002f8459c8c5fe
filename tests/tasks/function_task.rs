//! A task with start functions only (no `main`): `task_function!` alone must still give the
//! object the entry point that says how to run it when it is run as a program.

fn seven(_arg: *mut std::ffi::c_void) -> i32 {
    7
}

fn eight(_arg: *mut std::ffi::c_void) -> i32 {
    8
}

pip_rs::pip_core::task_function!(seven_fn, seven);
pip_rs::pip_core::task_function!(eight_fn, eight);
