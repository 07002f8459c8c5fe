//! Errors: MPI's error classes, error codes that carry a message, and error handlers.
//!
//! Every `MPI_` function runs its body through [`call`] (or [`call_on`] when the error belongs
//! to a communicator or window). The body returns `Result<()>`; an [`Error`] is a class and a
//! message saying what was wrong with which argument. [`call`] turns it into an error code:
//! the class itself when there is no message, else a code above [`FIRST_CODE`] that names the
//! message in a small per-rank table (the last [`KEPT_MESSAGES`] messages), so that
//! `MPI_Error_string` can return the message and `MPI_Error_class` the class. Then it applies
//! the error handler of the communicator (or window) concerned, `MPI_COMM_WORLD`'s when the error
//! concerns no object: `MPI_ERRORS_ARE_FATAL` (the default) prints the message with the function
//! and rank and ends the job with the error class as its exit code; `MPI_ERRORS_RETURN` returns
//! the code; a user handler is called, then the code is returned.
//!
//! A panic in the library is caught at the boundary and treated as `MPI_ERR_INTERN`: it never
//! unwinds into C.

use crate::handle::{Handle, MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL, MPI_ERRORS_RETURN};
use std::cell::RefCell;
use std::ffi::c_int;

pub const MPI_SUCCESS: c_int = 0;
pub const MPI_ERR_BUFFER: c_int = 1;
pub const MPI_ERR_COUNT: c_int = 2;
pub const MPI_ERR_TYPE: c_int = 3;
pub const MPI_ERR_TAG: c_int = 4;
pub const MPI_ERR_COMM: c_int = 5;
pub const MPI_ERR_RANK: c_int = 6;
pub const MPI_ERR_REQUEST: c_int = 7;
pub const MPI_ERR_ROOT: c_int = 8;
pub const MPI_ERR_GROUP: c_int = 9;
pub const MPI_ERR_OP: c_int = 10;
pub const MPI_ERR_TOPOLOGY: c_int = 11;
pub const MPI_ERR_DIMS: c_int = 12;
pub const MPI_ERR_ARG: c_int = 13;
pub const MPI_ERR_UNKNOWN: c_int = 14;
pub const MPI_ERR_TRUNCATE: c_int = 15;
pub const MPI_ERR_OTHER: c_int = 16;
pub const MPI_ERR_INTERN: c_int = 17;
pub const MPI_ERR_IN_STATUS: c_int = 18;
pub const MPI_ERR_PENDING: c_int = 19;
pub const MPI_ERR_KEYVAL: c_int = 20;
pub const MPI_ERR_NO_MEM: c_int = 21;
pub const MPI_ERR_BASE: c_int = 22;
pub const MPI_ERR_INFO_KEY: c_int = 23;
pub const MPI_ERR_INFO_VALUE: c_int = 24;
pub const MPI_ERR_INFO_NOKEY: c_int = 25;
pub const MPI_ERR_INFO: c_int = 26;
pub const MPI_ERR_NAME: c_int = 27;
pub const MPI_ERR_WIN: c_int = 28;
pub const MPI_ERR_SIZE: c_int = 29;
pub const MPI_ERR_DISP: c_int = 30;
pub const MPI_ERR_LOCKTYPE: c_int = 31;
pub const MPI_ERR_ASSERT: c_int = 32;
pub const MPI_ERR_RMA_CONFLICT: c_int = 33;
pub const MPI_ERR_RMA_SYNC: c_int = 34;
pub const MPI_ERR_RMA_RANGE: c_int = 35;
pub const MPI_ERR_RMA_ATTACH: c_int = 36;
pub const MPI_ERR_RMA_SHARED: c_int = 37;
pub const MPI_ERR_RMA_FLAVOR: c_int = 38;
pub const MPI_ERR_UNSUPPORTED_OPERATION: c_int = 39;
/// The largest class.
pub const LAST_CLASS: c_int = 39;

/// Error codes from this value up carry a message (see the module documentation).
pub const FIRST_CODE: c_int = 64;
/// How many messages a rank keeps for `MPI_Error_string`.
pub const KEPT_MESSAGES: usize = 256;

/// The name and meaning of each class, indexed by class.
const CLASSES: [(&str, &str); (LAST_CLASS + 1) as usize] = [
    ("MPI_SUCCESS", "no error"),
    ("MPI_ERR_BUFFER", "invalid buffer pointer"),
    ("MPI_ERR_COUNT", "invalid count argument"),
    ("MPI_ERR_TYPE", "invalid datatype"),
    ("MPI_ERR_TAG", "invalid tag"),
    ("MPI_ERR_COMM", "invalid communicator"),
    ("MPI_ERR_RANK", "invalid rank"),
    ("MPI_ERR_REQUEST", "invalid request"),
    ("MPI_ERR_ROOT", "invalid root"),
    ("MPI_ERR_GROUP", "invalid group"),
    ("MPI_ERR_OP", "invalid operation"),
    ("MPI_ERR_TOPOLOGY", "invalid topology"),
    ("MPI_ERR_DIMS", "invalid dimension argument"),
    ("MPI_ERR_ARG", "invalid argument"),
    ("MPI_ERR_UNKNOWN", "unknown error"),
    ("MPI_ERR_TRUNCATE", "message truncated on receive"),
    ("MPI_ERR_OTHER", "known error not in this list"),
    ("MPI_ERR_INTERN", "internal error"),
    ("MPI_ERR_IN_STATUS", "error code is in status"),
    ("MPI_ERR_PENDING", "pending request"),
    ("MPI_ERR_KEYVAL", "invalid keyval"),
    ("MPI_ERR_NO_MEM", "out of memory"),
    ("MPI_ERR_BASE", "invalid base address"),
    ("MPI_ERR_INFO_KEY", "info key too long"),
    ("MPI_ERR_INFO_VALUE", "info value too long"),
    ("MPI_ERR_INFO_NOKEY", "no such info key"),
    ("MPI_ERR_INFO", "invalid info object"),
    ("MPI_ERR_NAME", "invalid service name"),
    ("MPI_ERR_WIN", "invalid window"),
    ("MPI_ERR_SIZE", "invalid size"),
    ("MPI_ERR_DISP", "invalid displacement"),
    ("MPI_ERR_LOCKTYPE", "invalid lock type"),
    ("MPI_ERR_ASSERT", "invalid assert argument"),
    ("MPI_ERR_RMA_CONFLICT", "conflicting accesses to a window"),
    (
        "MPI_ERR_RMA_SYNC",
        "wrong synchronization of one-sided calls",
    ),
    (
        "MPI_ERR_RMA_RANGE",
        "target memory is not part of the window",
    ),
    ("MPI_ERR_RMA_ATTACH", "memory cannot be attached"),
    ("MPI_ERR_RMA_SHARED", "memory cannot be shared"),
    ("MPI_ERR_RMA_FLAVOR", "wrong window flavor"),
    ("MPI_ERR_UNSUPPORTED_OPERATION", "operation not supported"),
];

/// The name of class `class` (`"MPI_ERR_RANK"`), if it is one.
pub fn class_name(class: c_int) -> Option<&'static str> {
    usize::try_from(class)
        .ok()
        .and_then(|c| CLASSES.get(c))
        .map(|c| c.0)
}

/// An MPI error: a class and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The error class (`MPI_ERR_*`).
    pub class: c_int,
    /// What was wrong, for `MPI_Error_string` and the fatal handler's message.
    pub message: String,
}

/// The result of a function body.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `class` with `message`.
    pub fn new(class: c_int, message: impl Into<String>) -> Error {
        Error {
            class,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = class_name(self.class).unwrap_or("MPI_ERR_UNKNOWN");
        write!(f, "{} ({name})", self.message)
    }
}

/// Shorthand: `Err(Error::new(class, message))`.
pub fn fail<T>(class: c_int, message: impl Into<String>) -> Result<T> {
    Err(Error::new(class, message))
}

impl From<pip_comm::Error> for Error {
    fn from(e: pip_comm::Error) -> Error {
        use pip_comm::Error as E;
        let class = match &e {
            E::Truncated { .. } => MPI_ERR_TRUNCATE,
            E::InvalidTag { .. } => MPI_ERR_TAG,
            E::RankOutOfRange { .. } | E::AnySourceNotAllowed { .. } => MPI_ERR_RANK,
            E::CollectiveBuffer { .. } | E::CollectiveBufferNotMultiple { .. } => MPI_ERR_BUFFER,
            E::CollectiveMismatch { .. } | E::CollectiveNameMismatch { .. } => MPI_ERR_ARG,
            E::Cancelled => MPI_ERR_REQUEST,
            E::RequestFinished => MPI_ERR_REQUEST,
            E::InvalidOperation { .. } => MPI_ERR_OP,
            E::Aborted { .. } => MPI_ERR_OTHER,
            _ => MPI_ERR_OTHER,
        };
        Error::new(class, e.to_string())
    }
}

/// A rank's recent error messages, and its handler functions.
#[derive(Default)]
struct Messages {
    /// (class, message) of codes `FIRST_CODE + i`, reused in a ring.
    kept: Vec<(c_int, String)>,
    next: usize,
}

thread_local! {
    static MESSAGES: RefCell<Messages> = RefCell::new(Messages::default());
}

/// The error code that stands for `e`: a new code carrying its message.
pub fn code_of(e: &Error) -> c_int {
    MESSAGES.with(|m| {
        let mut m = m.borrow_mut();
        let i = m.next;
        m.next = (i + 1) % KEPT_MESSAGES;
        let entry = (e.class, e.message.clone());
        if i < m.kept.len() {
            m.kept[i] = entry;
        } else {
            m.kept.push(entry);
        }
        FIRST_CODE + i as c_int
    })
}

/// The class and message of error code `code` (`None` if it is no code of this rank).
pub fn describe(code: c_int) -> Option<(c_int, String)> {
    if (0..=LAST_CLASS).contains(&code) {
        let (_, meaning) = CLASSES[code as usize];
        return Some((code, meaning.to_string()));
    }
    let i = usize::try_from(code.checked_sub(FIRST_CODE)?).ok()?;
    MESSAGES.with(|m| m.borrow().kept.get(i).cloned())
}

/// What an error is raised on, which decides its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// A communicator (`MPI_COMM_WORLD`'s handler if the handle is not a live communicator).
    Comm(Handle),
    /// A window.
    Win(Handle),
    /// No object: `MPI_COMM_WORLD`'s handler.
    Nothing,
}

/// Runs the body of MPI function `name`, whose errors concern no object (see [`call_on`]).
pub fn call(name: &'static str, body: impl FnOnce() -> Result<()>) -> c_int {
    call_on(name, On::Nothing, body)
}

/// Runs the body of MPI function `name` and returns its error code, after applying the error
/// handler of `on` to an error (see the module documentation).
pub fn call_on(name: &'static str, on: On, body: impl FnOnce() -> Result<()>) -> c_int {
    let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => Err(panicked(payload)),
    };
    match outcome {
        Ok(()) => MPI_SUCCESS,
        Err(e) => raise(name, on, e),
    }
}

/// The error that a panic caught at the boundary stands for: `MPI_ERR_INTERN`, with the
/// panic's message.
pub fn panicked(payload: Box<dyn std::any::Any + Send>) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    Error::new(MPI_ERR_INTERN, format!("internal error: {what}"))
}

/// Applies the handler of `on` to `e` raised by `name`; returns the code (if the handler
/// returns).
pub fn raise(name: &'static str, on: On, e: Error) -> c_int {
    let code = code_of(&e);
    let handler = handler_of(on);
    match handler {
        MPI_ERRORS_RETURN => code,
        MPI_ERRORS_ARE_FATAL => fatal(name, &e),
        user => {
            crate::comm::call_user_errhandler(user, on, code);
            code
        }
    }
}

/// The error handler that applies to `on`.
fn handler_of(on: On) -> Handle {
    match on {
        On::Comm(c) => crate::comm::errhandler_of(c)
            .or_else(|| crate::comm::errhandler_of(MPI_COMM_WORLD))
            .unwrap_or(MPI_ERRORS_ARE_FATAL),
        On::Win(w) => crate::comm::win_errhandler_of(w).unwrap_or(MPI_ERRORS_ARE_FATAL),
        On::Nothing => crate::comm::errhandler_of(MPI_COMM_WORLD).unwrap_or(MPI_ERRORS_ARE_FATAL),
    }
}

/// `MPI_ERRORS_ARE_FATAL`: says what failed where, and ends the job.
pub fn fatal(name: &str, e: &Error) -> ! {
    let who = match crate::state::world_rank() {
        Some(r) => format!("rank {r}"),
        None => "a process that has not initialised MPI".to_string(),
    };
    eprintln!("pip-mpi: {name} on {who}: {e}; ending the job (MPI_ERRORS_ARE_FATAL)");
    crate::env::abort_job(e.class.max(1))
}
