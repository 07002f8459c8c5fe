//! The context of a copy of pip-core that no root attached: asked of the live root, through
//! its C bridge ([`crate::bridge`]), on every query.
//!
//! A copy of pip-core inside an ordinary shared library (a C API or MPI library that tasks
//! link) never gets a context of its own: the root attaches only the task's own image. Such a
//! copy finds the bridge function `pip_rs_current_task` with `dlsym` in the main program's
//! scope of the base link namespace (`dlmopen(LM_ID_BASE, NULL, RTLD_LAZY)`), which holds the
//! root program and its libraries: the root's own bridge when the root exports it (pip-exec
//! does), else the first copy in that scope, whose answer is "no root" unless a root lives in
//! it. The function pointer is looked up once; the answer, which depends on the calling thread,
//! is asked every time.

use crate::abi::RootAbi;
use std::ffi::{c_char, c_int, c_long, c_void, CStr};
use std::sync::OnceLock;

extern "C" {
    fn dlmopen(lmid: c_long, filename: *const c_char, flags: c_int) -> *mut c_void;
}

/// glibc's base link namespace.
const LM_ID_BASE: c_long = 0;

/// The signature of the bridge's `pip_rs_current_task`.
type CurrentTaskFn = unsafe extern "C" fn(*mut *const RootAbi) -> c_int;

/// The address of `name` in the main program's scope of the base link namespace (the root
/// program and its libraries), or null. This is how a copy of pip-core in a library finds the
/// live root's bridge functions.
///
/// ```
/// // A test program exports no bridge.
/// let f = pip_core::task::main_program_symbol(c"pip_rs_no_such_function");
/// assert!(f.is_null());
/// ```
pub fn main_program_symbol(name: &CStr) -> *mut c_void {
    // SAFETY: dlmopen with LM_ID_BASE and a null name returns a handle of the main program
    // (nothing is loaded); dlsym with that handle and a valid name only looks up.
    unsafe {
        let main = dlmopen(LM_ID_BASE, std::ptr::null(), libc::RTLD_LAZY);
        if main.is_null() {
            return std::ptr::null_mut();
        }
        libc::dlsym(main, name.as_ptr())
    }
}

/// The bridge's `pip_rs_current_task`, looked up once per copy of pip-core.
fn current_task_fn() -> Option<CurrentTaskFn> {
    static FUNCTION: OnceLock<Option<CurrentTaskFn>> = OnceLock::new();
    *FUNCTION.get_or_init(|| {
        let f = main_program_symbol(c"pip_rs_current_task");
        // SAFETY: the symbol is pip-core's bridge function, with this signature (a null
        // pointer becomes `None`).
        unsafe { std::mem::transmute::<*mut c_void, Option<CurrentTaskFn>>(f) }
    })
}

/// The live root's ABI block and the caller's pipid (the root's id on a thread that is no
/// task's main thread), as the live root's bridge answers for the calling thread; `None`
/// without a live root, or when its ABI does not match this copy's.
pub(super) fn context() -> Option<(&'static RootAbi, c_int)> {
    let f = current_task_fn()?;
    let mut abi: *const RootAbi = std::ptr::null();
    // SAFETY: a bridge function; `abi` is a valid place to write.
    let id = unsafe { f(&mut abi) };
    // SAFETY: a live root's ABI block is leaked by pip-core, so it lives for the process; the
    // bridge writes null when there is none.
    let abi = unsafe { abi.as_ref() }?;
    abi.check().ok()?;
    Some((abi, id))
}
