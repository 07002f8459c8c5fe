//! The environment: starting and ending MPI, ending the job, time, names, versions, error
//! strings and the predefined attributes.
//!
//! # Init and Finalize
//!
//! `MPI_Init` makes the rank's world: inside a PiP task, pip-comm's world of the job's tasks
//! (rank = pipid); in a program started on its own, a singleton world of one rank, unless
//! another MPI's launcher started it as one of several processes (`pip_core::launcher`): then
//! it fails, since every copy would be a world of one rank unaware of the others. Then it
//! makes `MPI_COMM_WORLD` and `MPI_COMM_SELF`. `MPI_Finalize` is collective over the world (a
//! barrier, so no rank's memory goes away while another may still read it), then drops the
//! rank's objects (requests, communicators, groups, datatypes, info objects, error handlers).
//!
//! # Threads
//!
//! The library keeps each rank's state in thread-locals of the thread that called `MPI_Init`
//! (see the crate documentation), so only that thread may call MPI: `MPI_Init_thread`
//! provides `MPI_THREAD_FUNNELED` at most (`MPI_THREAD_SINGLE` if asked for), and
//! `MPI_Is_thread_main` is true on that thread only.
//!
//! # Abort
//!
//! `MPI_Abort` (and an error under `MPI_ERRORS_ARE_FATAL`) prints which rank ended the job and
//! why, flushes the C streams of the calling rank and ends its process with the error code as
//! exit code: in pip-exec's thread mode every rank is a thread of that process, so the job
//! ends with it; in the process mode the rank's own process ends, and pip-exec, seeing a task
//! fail, ends the others and exits with the failed task's code. Either way the caller of
//! pip-exec sees the error code (modulo 256; a code outside `0..=255` ends the job with 1).
//! `MPI_Abort` ends the whole job whatever the communicator, as the standard allows.

use crate::comm::{give, out};
use crate::error::{call, call_on, fail, On, Result, MPI_ERR_ARG, MPI_ERR_KEYVAL, MPI_ERR_OTHER};
use crate::handle::{
    Handle, MPI_COMM_WORLD, MPI_PROC_NULL, MPI_THREAD_FUNNELED, MPI_THREAD_SINGLE,
};
use crate::handle::{
    MPI_APPNUM, MPI_HOST, MPI_IO, MPI_TAG_UB, MPI_UNIVERSE_SIZE, MPI_WTIME_IS_GLOBAL,
};
use crate::handle::{MPI_MAX_ERROR_STRING, MPI_MAX_LIBRARY_VERSION_STRING, MPI_MAX_PROCESSOR_NAME};
use crate::state::{phase, set_phase, Phase};
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};

thread_local! {
    /// The thread level `MPI_Init` or `MPI_Init_thread` provided (on the thread that called it).
    static THREAD_LEVEL: Cell<c_int> = const { Cell::new(MPI_THREAD_SINGLE) };
    /// True on the thread that called `MPI_Init`.
    static MAIN_THREAD: Cell<bool> = const { Cell::new(false) };
    /// The values the predefined attributes point to (indexed by key): their addresses stay
    /// valid as long as the rank's thread lives, as `MPI_Comm_get_attr` requires.
    static ATTRIBUTES: [Cell<c_int>; 7] = const { [const { Cell::new(0) }; 7] };
}

/// Makes the world and the predefined communicators (the body of `MPI_Init`), recording the
/// thread level `level`.
fn init(level: c_int) -> Result<()> {
    match phase() {
        Phase::Before => {}
        Phase::Running => return fail(MPI_ERR_OTHER, "MPI_Init was already called"),
        Phase::Finalized => {
            return fail(
                MPI_ERR_OTHER,
                "MPI cannot be initialised again after MPI_Finalize",
            )
        }
    }
    let world = match pip_comm::world() {
        Ok(w) => w,
        Err(pip_comm::Error::NotATask) => {
            if let Some(launch) = pip_core::launcher::several_processes() {
                // Every copy would be a world of one rank, unaware of the others.
                return fail(
                    MPI_ERR_OTHER,
                    format!(
                        "{launch}, but pip-rs's MPI runs its ranks as the tasks of one \
                         pip-exec: each of the {} processes would be a world of one rank. \
                         Start the program with pip-rs's mpiexec (or pip-exec -n N); a \
                         program for another MPI's mpirun must be built with that MPI's mpicc",
                        launch.size
                    ),
                );
            }
            pip_comm::singleton()?
        }
        Err(e) => return Err(e.into()),
    };
    let rank = pip_comm::traits::Communicator::rank(&world);
    set_phase(Phase::Running, rank);
    if let Err(e) = crate::comm::init(world) {
        set_phase(Phase::Before, -1);
        return Err(e);
    }
    THREAD_LEVEL.with(|l| l.set(level));
    MAIN_THREAD.with(|m| m.set(true));
    Ok(())
}

/// `MPI_Init`: joins the job's world (or makes a singleton world); thread level
/// `MPI_THREAD_SINGLE`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Init(_argc: *mut c_int, _argv: *mut *mut *mut c_char) -> c_int {
    call("MPI_Init", || init(MPI_THREAD_SINGLE))
}

/// `MPI_Init_thread`: as `MPI_Init`; provides `MPI_THREAD_FUNNELED` at most.
#[no_mangle]
pub unsafe extern "C" fn MPI_Init_thread(
    _argc: *mut c_int,
    _argv: *mut *mut *mut c_char,
    required: c_int,
    provided: *mut c_int,
) -> c_int {
    call("MPI_Init_thread", || {
        let provided = out(provided)?;
        let level = required.clamp(MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED);
        init(level)?;
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *provided = level };
        Ok(())
    })
}

/// `MPI_Query_thread`: the thread level provided at initialisation.
#[no_mangle]
pub unsafe extern "C" fn MPI_Query_thread(provided: *mut c_int) -> c_int {
    call("MPI_Query_thread", || {
        crate::state::require_running()?;
        give(THREAD_LEVEL.with(|l| l.get()), provided)
    })
}

/// `MPI_Is_thread_main`: true on the thread that called `MPI_Init`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Is_thread_main(flag: *mut c_int) -> c_int {
    call("MPI_Is_thread_main", || {
        give(c_int::from(MAIN_THREAD.with(|m| m.get())), flag)
    })
}

/// `MPI_Finalize`: waits for every rank, then drops the rank's objects.
#[no_mangle]
pub extern "C" fn MPI_Finalize() -> c_int {
    call("MPI_Finalize", || {
        crate::state::require_running()?;
        let world = crate::comm::get(MPI_COMM_WORLD)?;
        pip_comm::traits::CommunicatorCollectives::barrier(&world.pc)?;
        drop(world);
        crate::p2p::finalize();
        crate::comm::finalize();
        crate::group::finalize();
        crate::datatype::finalize();
        crate::info::finalize();
        crate::errhandler::finalize();
        crate::op::finalize();
        set_phase(Phase::Finalized, -1);
        Ok(())
    })
}

/// Ends the whole job with exit code `code` (see the module documentation): flushes C's
/// output, then ends the calling rank's process.
pub fn abort_job(code: c_int) -> ! {
    let status = if (0..=255).contains(&code) { code } else { 1 };
    // SAFETY: fflush(NULL) flushes every C stream; _exit ends the process without running
    // handlers that could wait for other ranks.
    unsafe {
        libc::fflush(std::ptr::null_mut());
        libc::_exit(status)
    }
}

/// `MPI_Abort`: prints which rank aborted with which code, and ends the whole job with
/// `errorcode` as its exit code (see the module documentation). Does not return.
#[no_mangle]
pub unsafe extern "C" fn MPI_Abort(comm: Handle, errorcode: c_int) -> c_int {
    call("MPI_Abort", || {
        let who = match crate::state::world_rank() {
            Some(r) => format!("rank {r}"),
            None => "a process that has not initialised MPI".to_string(),
        };
        let on = match crate::comm::get(comm) {
            Ok(_) if comm == MPI_COMM_WORLD => "MPI_COMM_WORLD".to_string(),
            Ok(c) => format!(
                "communicator {comm} (rank {} of {} there)",
                c.rank(),
                c.size()
            ),
            Err(_) => format!("invalid communicator {comm}"),
        };
        eprintln!("pip-mpi: MPI_Abort called by {who} on {on} with error code {errorcode}; ending the job");
        abort_job(errorcode)
    })
}

/// `MPI_Initialized`: true once `MPI_Init` was called on this thread (also after
/// `MPI_Finalize`).
#[no_mangle]
pub unsafe extern "C" fn MPI_Initialized(flag: *mut c_int) -> c_int {
    call("MPI_Initialized", || {
        give(c_int::from(phase() != Phase::Before), flag)
    })
}

/// `MPI_Finalized`: true once `MPI_Finalize` was called on this thread.
#[no_mangle]
pub unsafe extern "C" fn MPI_Finalized(flag: *mut c_int) -> c_int {
    call("MPI_Finalized", || {
        give(c_int::from(phase() == Phase::Finalized), flag)
    })
}

/// `MPI_Wtime`: seconds on the machine's monotonic clock (`CLOCK_MONOTONIC`), the same clock
/// for every rank.
#[no_mangle]
pub extern "C" fn MPI_Wtime() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// `MPI_Wtick`: the resolution of `MPI_Wtime` in seconds.
#[no_mangle]
pub extern "C" fn MPI_Wtick() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_getres writes the timespec it is given.
    unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// The machine's name (`gethostname`).
pub fn host_name() -> String {
    let mut buf = [0u8; MPI_MAX_PROCESSOR_NAME];
    // SAFETY: gethostname writes at most `len` bytes into the buffer.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if r != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len() - 1);
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Copies `s` (cut to `max - 1` bytes) with a NUL to `buf`, and its length to `len`.
fn write_string(s: &str, max: usize, buf: *mut c_char, len: *mut c_int) -> Result<()> {
    let buf = out(buf)?;
    let len = out(len)?;
    let mut n = s.len().min(max - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: MPI requires `max` writable bytes at `buf` (checked non-null); n < max.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buf, n);
        *buf.add(n) = 0;
        *len = n as c_int;
    }
    Ok(())
}

/// `MPI_Get_processor_name`: the machine's name (all ranks of a job share it).
#[no_mangle]
pub unsafe extern "C" fn MPI_Get_processor_name(name: *mut c_char, resultlen: *mut c_int) -> c_int {
    call("MPI_Get_processor_name", || {
        write_string(&host_name(), MPI_MAX_PROCESSOR_NAME, name, resultlen)
    })
}

/// `MPI_Get_version`: 3.1.
#[no_mangle]
pub unsafe extern "C" fn MPI_Get_version(version: *mut c_int, subversion: *mut c_int) -> c_int {
    call("MPI_Get_version", || {
        give(3, version)?;
        give(1, subversion)
    })
}

/// The text of `MPI_Get_library_version`.
pub fn library_version() -> String {
    format!(
        "pip-rs MPI {} (pip-comm, MPI 3.1)",
        env!("CARGO_PKG_VERSION")
    )
}

/// `MPI_Get_library_version`: `pip-rs MPI <version> (pip-comm, MPI 3.1)`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Get_library_version(
    version: *mut c_char,
    resultlen: *mut c_int,
) -> c_int {
    call("MPI_Get_library_version", || {
        write_string(
            &library_version(),
            MPI_MAX_LIBRARY_VERSION_STRING,
            version,
            resultlen,
        )
    })
}

/// The text of error code `code`: its class's name, then what was wrong.
fn error_text(code: c_int) -> Result<String> {
    match crate::error::describe(code) {
        Some((class, what)) => {
            let name = crate::error::class_name(class).unwrap_or("MPI_ERR_UNKNOWN");
            Ok(format!("{name}: {what}"))
        }
        None => fail(
            MPI_ERR_ARG,
            format!("{code} is not an error code of this rank"),
        ),
    }
}

/// `MPI_Error_string`: the class's name and the message of the error (for a code a function
/// returned: what was wrong with which argument), at most `MPI_MAX_ERROR_STRING - 1` bytes.
#[no_mangle]
pub unsafe extern "C" fn MPI_Error_string(
    errorcode: c_int,
    string: *mut c_char,
    resultlen: *mut c_int,
) -> c_int {
    call("MPI_Error_string", || {
        write_string(
            &error_text(errorcode)?,
            MPI_MAX_ERROR_STRING,
            string,
            resultlen,
        )
    })
}

/// `MPI_Error_class`: the class of an error code.
#[no_mangle]
pub unsafe extern "C" fn MPI_Error_class(errorcode: c_int, errorclass: *mut c_int) -> c_int {
    call("MPI_Error_class", || {
        match crate::error::describe(errorcode) {
            Some((class, _)) => give(class, errorclass),
            None => fail(
                MPI_ERR_ARG,
                format!("{errorcode} is not an error code of this rank"),
            ),
        }
    })
}

/// `MPI_Comm_get_attr` of the predefined attributes: `MPI_TAG_UB` (pip-comm's largest tag),
/// `MPI_HOST` (`MPI_PROC_NULL`), `MPI_IO` (the caller's world rank: every rank can do I/O),
/// `MPI_WTIME_IS_GLOBAL` (1: one clock on one machine), `MPI_UNIVERSE_SIZE` (the world's
/// size); `MPI_APPNUM` is not set. `attribute_val` is a `void **` that receives a pointer to
/// the int, which stays valid while the rank runs. The values are `MPI_COMM_WORLD`'s, whichever
/// communicator is asked.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_get_attr(
    comm: Handle,
    comm_keyval: c_int,
    attribute_val: *mut c_void,
    flag: *mut c_int,
) -> c_int {
    call_on("MPI_Comm_get_attr", On::Comm(comm), || {
        crate::comm::get(comm)?;
        let world = crate::comm::get(MPI_COMM_WORLD)?;
        let value = match comm_keyval {
            MPI_TAG_UB => Some(pip_comm::MAX_TAG),
            MPI_HOST => Some(MPI_PROC_NULL),
            MPI_IO => Some(world.rank()),
            MPI_WTIME_IS_GLOBAL => Some(1),
            MPI_UNIVERSE_SIZE => Some(world.size()),
            MPI_APPNUM => None,
            k => {
                return fail(
                    MPI_ERR_KEYVAL,
                    format!("{k} is not an attribute key of communicators"),
                )
            }
        };
        let flag = out(flag)?;
        if let Some(v) = value {
            let slot = out(attribute_val.cast::<*mut c_int>())?;
            let at = ATTRIBUTES.with(|a| {
                let cell = &a[comm_keyval as usize];
                cell.set(v);
                cell.as_ptr()
            });
            // SAFETY: MPI requires `attribute_val` to point to a `void *` (checked non-null).
            unsafe { *slot = at };
        }
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *flag = c_int::from(value.is_some()) };
        Ok(())
    })
}
