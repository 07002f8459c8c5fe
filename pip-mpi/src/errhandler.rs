//! Error handlers of communicators: the predefined `MPI_ERRORS_ARE_FATAL` (handle 1, the
//! default) and `MPI_ERRORS_RETURN` (2), and the program's own, made by
//! `MPI_Comm_create_errhandler` (handles from 3 up in the rank's table).
//!
//! [`crate::error::raise`] applies a communicator's handler to an error; a user handler is
//! called as `handler(&comm, &code)` and the MPI function then returns the code.
//!
//! A user handler counts the handles the program holds: one from `MPI_Comm_create_errhandler`,
//! one more from each `MPI_Comm_get_errhandler` that returns it, one less at each
//! `MPI_Errhandler_free`. While the count is above zero the handle may be given to
//! communicators; the handler itself lives on while a communicator still uses it (it is
//! dropped at the last free if none does, else at `MPI_Finalize`). The predefined handlers
//! cannot be freed.

use crate::comm::{get, give, out};
use crate::error::{call, call_on, fail, On, Result, MPI_ERR_ARG};
use crate::handle::{Handle, MPI_ERRHANDLER_NULL, MPI_ERRORS_ARE_FATAL, MPI_ERRORS_RETURN};
use crate::state::Table;
use std::cell::RefCell;
use std::ffi::c_int;

/// `MPI_Comm_errhandler_function`: `void (MPI_Comm *comm, int *errcode, ...)`.
pub type CommErrhandlerFn = unsafe extern "C" fn(*mut Handle, *mut c_int, ...);

/// A user handler: the function, and how many handles of it the program holds.
struct UserHandler {
    function: CommErrhandlerFn,
    references: u32,
}

thread_local! {
    static HANDLERS: RefCell<Table<UserHandler>> = const { RefCell::new(Table::new(3)) };
}

/// Drops every user handler; called by `MPI_Finalize`.
pub fn finalize() {
    let all = HANDLERS.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(3)));
    drop(all);
}

/// Fails unless `h` is a handler a communicator may be given: a predefined one, or a user
/// handler of which the program holds a handle.
fn check(h: Handle) -> Result<()> {
    if h == MPI_ERRORS_ARE_FATAL || h == MPI_ERRORS_RETURN {
        return Ok(());
    }
    let live = HANDLERS.with(|t| t.borrow().get(h).is_some_and(|u| u.references > 0));
    if live {
        Ok(())
    } else if h == MPI_ERRHANDLER_NULL {
        fail(MPI_ERR_ARG, "the error handler is MPI_ERRHANDLER_NULL")
    } else {
        fail(
            MPI_ERR_ARG,
            format!("{h} is not an error handler of this rank"),
        )
    }
}

/// Calls user handler `handler` for error `code` raised on communicator `comm`.
pub fn call_user(handler: Handle, comm: Handle, code: c_int) {
    let Some(function) = HANDLERS.with(|t| t.borrow().get(handler).map(|u| u.function)) else {
        return;
    };
    let (mut comm, mut code) = (comm, code);
    // SAFETY: `function` is the program's MPI_Comm_errhandler_function, called as MPI defines
    // it, with pointers to locals that live across the call.
    unsafe { function(&mut comm, &mut code) };
}

/// `MPI_Comm_create_errhandler`: a handler that calls `function(&comm, &code)`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_create_errhandler(
    function: Option<CommErrhandlerFn>,
    errhandler: *mut Handle,
) -> c_int {
    call("MPI_Comm_create_errhandler", || {
        crate::state::require_running()?;
        let Some(function) = function else {
            return fail(MPI_ERR_ARG, "the error handler function is a null pointer");
        };
        out(errhandler)?;
        let h = HANDLERS.with(|t| {
            t.borrow_mut().insert(UserHandler {
                function,
                references: 1,
            })
        });
        give(h, errhandler)
    })
}

/// `MPI_Comm_set_errhandler`: sets the communicator's handler.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_set_errhandler(comm: Handle, errhandler: Handle) -> c_int {
    call_on("MPI_Comm_set_errhandler", On::Comm(comm), || {
        let c = get(comm)?;
        check(errhandler)?;
        c.errhandler.set(errhandler);
        Ok(())
    })
}

/// `MPI_Comm_get_errhandler`: the communicator's handler (a new handle of it, which the
/// program frees with `MPI_Errhandler_free`, for a user handler).
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_get_errhandler(comm: Handle, errhandler: *mut Handle) -> c_int {
    call_on("MPI_Comm_get_errhandler", On::Comm(comm), || {
        let c = get(comm)?;
        out(errhandler)?;
        let h = c.errhandler.get();
        HANDLERS.with(|t| {
            if let Some(u) = t.borrow_mut().get_mut(h) {
                u.references += 1;
            }
        });
        give(h, errhandler)
    })
}

/// `MPI_Errhandler_free`: frees one handle of a user handler (communicators that use it keep
/// it) and sets it to `MPI_ERRHANDLER_NULL`. Freeing a predefined handler is an error.
#[no_mangle]
pub unsafe extern "C" fn MPI_Errhandler_free(errhandler: *mut Handle) -> c_int {
    call("MPI_Errhandler_free", || {
        crate::state::require_running()?;
        let p = out(errhandler)?;
        // SAFETY: checked non-null; the caller passes a valid handle pointer.
        let h = unsafe { *p };
        if h == MPI_ERRORS_ARE_FATAL || h == MPI_ERRORS_RETURN {
            return fail(
                MPI_ERR_ARG,
                "MPI_ERRORS_ARE_FATAL and MPI_ERRORS_RETURN are predefined and cannot be freed",
            );
        }
        check(h)?;
        let in_use = crate::comm::uses_errhandler(h);
        HANDLERS.with(|t| {
            let mut t = t.borrow_mut();
            let u = t.get_mut(h).expect("checked to be a live user handler");
            u.references -= 1;
            if u.references == 0 && !in_use {
                t.remove(h);
            }
        });
        give(MPI_ERRHANDLER_NULL, p)
    })
}
