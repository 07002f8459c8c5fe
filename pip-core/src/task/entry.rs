//! The entry points: what a task's entry may return ([`TaskResult`]), and the macros that make
//! a `cdylib` a task program ([`task_main!`](crate::task_main),
//! [`task_function!`](crate::task_function)).

use super::{context, pip_rs_task_flush, TaskExit};
use std::ffi::{c_int, c_void};

/// What a task's entry may return: `()`, an exit code, or a `Result` (an `Err` prints the error
/// and gives exit code 1).
pub trait TaskResult {
    /// The exit code.
    fn into_code(self) -> i32;
}

impl TaskResult for () {
    fn into_code(self) -> i32 {
        0
    }
}

impl TaskResult for i32 {
    fn into_code(self) -> i32 {
        self
    }
}

impl<E: std::fmt::Debug> TaskResult for std::result::Result<(), E> {
    fn into_code(self) -> i32 {
        match self {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("Error: {e:?}");
                1
            }
        }
    }
}

fn finish<R: TaskResult>(f: impl FnOnce() -> R) -> c_int {
    let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.into_code(),
        Err(payload) if payload.is::<TaskExit>() => {
            payload.downcast_ref::<TaskExit>().map_or(0, |e| e.0)
        }
        Err(_) => {
            if let Ok((root, me)) = context() {
                // SAFETY: `root` is live; task_panicked only records a flag.
                unsafe { (root.ops.task_panicked)(root, me) };
            }
            101
        }
    };
    pip_rs_task_flush();
    code
}

/// Runs a task's main function; used by [`task_main!`](crate::task_main).
#[doc(hidden)]
pub fn run_main<R: TaskResult>(f: fn() -> R) -> c_int {
    finish(f)
}

/// Runs a task's named start function; used by [`task_function!`](crate::task_function).
#[doc(hidden)]
pub fn run_function<R: TaskResult>(arg: *mut c_void, f: fn(*mut c_void) -> R) -> c_int {
    finish(|| f(arg))
}

/// Makes this `cdylib` a task program: exports the C entry point `main` that runs `f`.
///
/// `f` is a `fn() -> R` where `R` is `()`, `i32` (the exit code) or `Result<(), E>`. An `Err`
/// gives exit code 1 after printing `Error: ` and the error's `Display` text to stderr, then a
/// `caused by:` line for each of its sources (see [`task_code`](crate::task_code)). Its
/// arguments are in [`pip_core::args()`](crate::args). A panic in `f` ends only this task, which
/// the root sees as [`ExitStatus::Panicked`](crate::ExitStatus::Panicked).
///
/// The crate must be built as a `cdylib` (`[lib] crate-type = ["cdylib"]`, or
/// `crate-type = ["cdylib"]` on an `[[example]]`). In a binary crate (`src/main.rs`, built by
/// Cargo) the macro stops the build with an error that says so.
///
/// ```no_run
/// fn run() -> i32 {
///     println!("task {:?} of {}", pip_core::pipid().unwrap(), pip_core::ntasks().unwrap());
///     0
/// }
/// pip_core::task_main!(run);
/// ```
#[macro_export]
macro_rules! task_main {
    ($f:path) => {
        // Cargo sets CARGO_BIN_NAME only when it compiles an executable.
        const _: () = if ::core::option_env!("CARGO_BIN_NAME").is_some() {
            ::core::panic!(
                "pip_core::task_main! is in a binary crate, but a task must be a shared object: \
                 move the code to src/lib.rs and add `[lib] crate-type = [\"cdylib\"]` to \
                 Cargo.toml (or `crate-type = [\"cdylib\"]` to its [[example]]), then run the \
                 built lib<name>.so with pip-exec"
            )
        };

        /// The task's entry point, exported as the C symbol `main` and called by the PiP root.
        /// Its Rust name is not `main`, so that the macro in a binary crate is reported as
        /// such, not as a `main` of the wrong type.
        #[export_name = "main"]
        pub extern "C-unwind" fn pip_rs_task_main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::task::run_main(|| $crate::__task_code!($f()))
        }
        $crate::__keep_direct_run_entry!();
    };
}

/// Exports a named start function `int NAME(void *arg)` that runs `f(arg)`; spawn it with
/// [`Spawn::function`](crate::Spawn::function) or `pip-exec -f NAME`. `f` returns what a
/// [`task_main!`](crate::task_main) entry may return, with the same exit codes and messages.
///
/// ```no_run
/// fn work(arg: *mut std::ffi::c_void) -> i32 {
///     arg as usize as i32
/// }
/// pip_core::task_function!(worker, work);
/// ```
#[macro_export]
macro_rules! task_function {
    ($name:ident, $f:path) => {
        /// A task start function, called by the PiP root.
        #[no_mangle]
        pub extern "C-unwind" fn $name(arg: *mut ::std::ffi::c_void) -> ::std::ffi::c_int {
            $crate::task::run_function(arg, |arg| $crate::__task_code!($f(arg)))
        }
        $crate::__keep_direct_run_entry!();
    };
}
