//! Communicators: the rank's table of them, `MPI_COMM_WORLD` and `MPI_COMM_SELF`, and their
//! error handlers.
//!
//! An MPI communicator is two pip-comm communicators over the same ranks: `pc` carries the
//! program's messages, and `internal`, a duplicate made when the communicator is made, carries
//! the library's own (the steps of non-blocking collectives), so that no receive of the program
//! (even with `MPI_ANY_TAG`) can take them.

use crate::error::{fail, On, Result, MPI_ERR_COMM};
use crate::handle::{Handle, MPI_COMM_NULL, MPI_COMM_SELF, MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL};
use crate::state::Table;
use pip_comm::prelude::*;
use pip_comm::SimpleCommunicator;
use std::cell::{Cell, RefCell};
use std::ffi::c_int;
use std::rc::Rc;

/// One MPI communicator of this rank.
pub struct Comm {
    /// The program's traffic.
    pub pc: SimpleCommunicator,
    /// The library's own traffic on this communicator.
    pub internal: SimpleCommunicator,
    /// The error handler (`MPI_ERRORS_ARE_FATAL` unless set).
    pub errhandler: Cell<Handle>,
}

impl Comm {
    /// Wraps `pc`, making its internal duplicate (collective over `pc`'s ranks).
    pub fn new(pc: SimpleCommunicator, errhandler: Handle) -> Result<Comm> {
        let internal = pc.duplicate()?;
        Ok(Comm {
            pc,
            internal,
            errhandler: Cell::new(errhandler),
        })
    }

    /// This rank's number in the communicator.
    pub fn rank(&self) -> c_int {
        self.pc.rank()
    }

    /// The number of ranks.
    pub fn size(&self) -> c_int {
        self.pc.size()
    }
}

thread_local! {
    static COMMS: RefCell<Table<Rc<Comm>>> = const { RefCell::new(Table::new(1)) };
}

/// Makes `MPI_COMM_WORLD` (handle 1) from `world` and `MPI_COMM_SELF` (handle 2); called by
/// `MPI_Init`.
pub fn init(world: SimpleCommunicator) -> Result<()> {
    let me = world.rank();
    let self_pc = world
        .split_by_color_with_key(pip_comm::Color::with_value(me), 0)?
        .expect("every rank has a color");
    let world = Comm::new(world, MPI_ERRORS_ARE_FATAL)?;
    let myself = Comm::new(self_pc, MPI_ERRORS_ARE_FATAL)?;
    COMMS.with(|t| {
        let mut t = t.borrow_mut();
        t.clear();
        let w = t.insert(Rc::new(world));
        let s = t.insert(Rc::new(myself));
        debug_assert_eq!((w, s), (MPI_COMM_WORLD, MPI_COMM_SELF));
    });
    Ok(())
}

/// Drops every communicator; called by `MPI_Finalize`.
pub fn finalize() {
    let all = COMMS.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(1)));
    drop(all);
}

/// The communicator of handle `h`.
pub fn get(h: Handle) -> Result<Rc<Comm>> {
    crate::state::require_running()?;
    COMMS.with(|t| t.borrow().get(h).cloned()).map_or_else(
        || {
            if h == MPI_COMM_NULL {
                fail(MPI_ERR_COMM, "the communicator is MPI_COMM_NULL")
            } else {
                fail(MPI_ERR_COMM, format!("{h} is not a communicator of this rank"))
            }
        },
        Ok,
    )
}

/// Stores a new communicator and returns its handle.
pub fn insert(c: Comm) -> Handle {
    COMMS.with(|t| t.borrow_mut().insert(Rc::new(c)))
}

/// Frees the communicator of handle `h` (not the predefined ones).
pub fn remove(h: Handle) -> Result<()> {
    if h == MPI_COMM_WORLD || h == MPI_COMM_SELF {
        return fail(MPI_ERR_COMM, "MPI_COMM_WORLD and MPI_COMM_SELF cannot be freed");
    }
    get(h)?;
    COMMS.with(|t| t.borrow_mut().remove(h));
    Ok(())
}

/// The error handler of communicator `h`, if `h` is a live communicator.
pub fn errhandler_of(h: Handle) -> Option<Handle> {
    if crate::state::require_running().is_err() {
        return None;
    }
    COMMS.with(|t| t.borrow().get(h).map(|c| c.errhandler.get()))
}

/// The error handler of window `h`, if `h` is a live window (windows are fatal by default).
pub fn win_errhandler_of(_h: Handle) -> Option<Handle> {
    None
}

/// Calls the user's error handler `handler` for error `code` raised on `on`.
pub fn call_user_errhandler(handler: Handle, on: On, code: c_int) {
    let _ = (handler, on, code);
}

/// `MPI_Comm_rank`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_rank(comm: Handle, rank: *mut c_int) -> c_int {
    crate::error::call_on("MPI_Comm_rank", On::Comm(comm), || {
        let c = get(comm)?;
        // SAFETY: the caller passes a valid int pointer, as MPI requires.
        unsafe { *out(rank)? = c.rank() };
        Ok(())
    })
}

/// `MPI_Comm_size`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_size(comm: Handle, size: *mut c_int) -> c_int {
    crate::error::call_on("MPI_Comm_size", On::Comm(comm), || {
        let c = get(comm)?;
        // SAFETY: the caller passes a valid int pointer, as MPI requires.
        unsafe { *out(size)? = c.size() };
        Ok(())
    })
}

/// Checks that an output argument is not null.
pub fn out<T>(p: *mut T) -> Result<*mut T> {
    if p.is_null() {
        fail(crate::error::MPI_ERR_ARG, "an output argument is a null pointer")
    } else {
        Ok(p)
    }
}
