//! The environment: `MPI_Init`, `MPI_Finalize` and ending the job.
//!
//! `MPI_Init` makes the rank's world: inside a PiP task, pip-comm's world of the job's tasks
//! (rank = pipid); in a program started on its own, a singleton world of one rank. Then it
//! makes `MPI_COMM_WORLD` and `MPI_COMM_SELF`. `MPI_Finalize` is collective over the world (a
//! barrier, so no rank's memory goes away while another may still read it), then drops the
//! rank's objects.

use crate::error::{call, fail, Result, MPI_ERR_OTHER};
use crate::handle::{MPI_THREAD_FUNNELED, MPI_THREAD_SINGLE};
use crate::state::{phase, set_phase, Phase};
use std::ffi::{c_char, c_int};

/// Makes the world and the predefined communicators (the body of `MPI_Init`).
fn init() -> Result<()> {
    match phase() {
        Phase::Before => {}
        Phase::Running => return fail(MPI_ERR_OTHER, "MPI_Init was already called"),
        Phase::Finalized => {
            return fail(MPI_ERR_OTHER, "MPI cannot be initialised again after MPI_Finalize")
        }
    }
    let world = match pip_comm::world() {
        Ok(w) => w,
        Err(pip_comm::Error::NotATask) => pip_comm::singleton()?,
        Err(e) => return Err(e.into()),
    };
    let rank = pip_comm::traits::Communicator::rank(&world);
    set_phase(Phase::Running, rank);
    if let Err(e) = crate::comm::init(world) {
        set_phase(Phase::Before, -1);
        return Err(e);
    }
    Ok(())
}

/// `MPI_Init`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Init(_argc: *mut c_int, _argv: *mut *mut *mut c_char) -> c_int {
    call("MPI_Init", init)
}

/// `MPI_Init_thread`: provides `MPI_THREAD_FUNNELED` at most.
#[no_mangle]
pub unsafe extern "C" fn MPI_Init_thread(
    _argc: *mut c_int,
    _argv: *mut *mut *mut c_char,
    required: c_int,
    provided: *mut c_int,
) -> c_int {
    call("MPI_Init_thread", || {
        let provided = crate::comm::out(provided)?;
        init()?;
        let level = required.clamp(MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED);
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *provided = level };
        Ok(())
    })
}

/// `MPI_Finalize`.
#[no_mangle]
pub extern "C" fn MPI_Finalize() -> c_int {
    call("MPI_Finalize", || {
        crate::state::require_running()?;
        let world = crate::comm::get(crate::handle::MPI_COMM_WORLD)?;
        pip_comm::traits::CommunicatorCollectives::barrier(&world.pc)?;
        drop(world);
        crate::comm::finalize();
        crate::datatype::finalize();
        set_phase(Phase::Finalized, -1);
        Ok(())
    })
}

/// Ends the whole job with exit code `code`: flushes C's and Rust's output, then ends every
/// rank (in the thread mode all ranks are threads of one process, which exits).
pub fn abort_job(code: c_int) -> ! {
    // SAFETY: fflush(NULL) flushes every C stream; _exit ends the process without running
    // handlers that could wait for other ranks.
    unsafe {
        libc::fflush(std::ptr::null_mut());
        libc::_exit(code)
    }
}

/// `MPI_Initialized`: true once `MPI_Init` was called on this thread (also after
/// `MPI_Finalize`).
#[no_mangle]
pub unsafe extern "C" fn MPI_Initialized(flag: *mut c_int) -> c_int {
    call("MPI_Initialized", || {
        let flag = crate::comm::out(flag)?;
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *flag = c_int::from(phase() != Phase::Before) };
        Ok(())
    })
}

/// `MPI_Finalized`: true once `MPI_Finalize` was called on this thread.
#[no_mangle]
pub unsafe extern "C" fn MPI_Finalized(flag: *mut c_int) -> c_int {
    call("MPI_Finalized", || {
        let flag = crate::comm::out(flag)?;
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *flag = c_int::from(phase() == Phase::Finalized) };
        Ok(())
    })
}
