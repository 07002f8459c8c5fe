//! Probes and matched probes: `MPI_Probe`, `MPI_Iprobe`, `MPI_Mprobe`, `MPI_Improbe`,
//! `MPI_Mrecv`, `MPI_Imrecv`.
//!
//! A probe says what the next matching message is without receiving it. A matched probe also
//! takes the message out of the matching queue (pip-comm's [`Message`]), so no other receive
//! can take it; the rank's *message table* keeps it under an `MPI_Message` handle until
//! `MPI_Mrecv` or `MPI_Imrecv` receives it. Handles 0 and 1 are `MPI_MESSAGE_NULL` and
//! `MPI_MESSAGE_NO_PROC` (what a matched probe of `MPI_PROC_NULL` returns; receiving it gives
//! the `MPI_PROC_NULL` status). The message is already matched, so `MPI_Imrecv` receives it
//! within the call and returns a complete request.

use super::{elements, outcome, put, received, Done, Incoming, Received, PROC_NULL_STATUS};
use crate::error::{call_on, fail, On, Result, MPI_ERR_ARG};
use crate::handle::{Handle, MpiStatus, MPI_MESSAGE_NO_PROC, MPI_MESSAGE_NULL, MPI_PROC_NULL};
use crate::state::Table;
use pip_comm::prelude::*;
use pip_comm::{Message, ProbeStatus};
use std::cell::RefCell;
use std::ffi::{c_int, c_void};

thread_local! {
    /// Matched messages not received yet, with the handle of their communicator.
    static MESSAGES: RefCell<Table<(Message, Handle)>> = const { RefCell::new(Table::new(2)) };
}

/// The status of a probed message (its size in bytes).
fn status_of(p: ProbeStatus) -> MpiStatus {
    MpiStatus {
        MPI_SOURCE: p.source,
        MPI_TAG: p.tag,
        MPI_ERROR: 0,
        cancelled: 0,
        count: p.bytes as i64,
    }
}

/// `MPI_Probe`: waits for a message from `source` with `tag` (wildcards allowed) and returns
/// its status without receiving it.
#[no_mangle]
pub unsafe extern "C" fn MPI_Probe(
    source: c_int,
    tag: c_int,
    comm: Handle,
    status: *mut MpiStatus,
) -> c_int {
    call_on("MPI_Probe", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let s = if source == MPI_PROC_NULL {
            PROC_NULL_STATUS
        } else {
            status_of(c.pc.process_at_rank(source).probe_with_tag(tag)?)
        };
        // SAFETY: the caller passes a valid status or MPI_STATUS_IGNORE.
        unsafe { put(status, &s) };
        Ok(())
    })
}

/// `MPI_Iprobe`: sets `*flag` if a matching message has arrived (and returns its status).
/// Each call moves the messages that have arrived, so a loop of `MPI_Iprobe` makes progress.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iprobe(
    source: c_int,
    tag: c_int,
    comm: Handle,
    flag: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    call_on("MPI_Iprobe", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let flag = crate::comm::out(flag)?;
        let found = if source == MPI_PROC_NULL {
            Some(PROC_NULL_STATUS)
        } else {
            c.pc.process_at_rank(source)
                .immediate_probe_with_tag(tag)?
                .map(status_of)
        };
        // SAFETY: checked non-null; the caller passes valid pointers (MPI's rules).
        unsafe {
            *flag = c_int::from(found.is_some());
            if let Some(s) = found {
                put(status, &s);
            }
        }
        Ok(())
    })
}

/// Stores a matched message and writes its handle and status.
///
/// # Safety
///
/// `message` is valid for a write; `status` as for [`put`].
unsafe fn keep(
    found: Option<(Message, ProbeStatus)>,
    comm: Handle,
    message: *mut c_int,
    status: *mut MpiStatus,
) {
    if let Some((m, p)) = found {
        let h = MESSAGES.with(|t| t.borrow_mut().insert((m, comm)));
        // SAFETY: forwarded from the caller.
        unsafe {
            message.write(h);
            put(status, &status_of(p));
        }
    }
}

/// `MPI_Mprobe`: waits for a matching message and takes it out of the matching queue; receive
/// it with `MPI_Mrecv` or `MPI_Imrecv`. `MPI_PROC_NULL` gives `MPI_MESSAGE_NO_PROC`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Mprobe(
    source: c_int,
    tag: c_int,
    comm: Handle,
    message: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    call_on("MPI_Mprobe", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let message = crate::comm::out(message)?;
        if source == MPI_PROC_NULL {
            // SAFETY: checked non-null; the caller passes valid pointers (MPI's rules).
            unsafe {
                message.write(MPI_MESSAGE_NO_PROC);
                put(status, &PROC_NULL_STATUS);
            }
            return Ok(());
        }
        let found = c.pc.process_at_rank(source).matched_probe_with_tag(tag)?;
        // SAFETY: as above.
        unsafe { keep(Some(found), comm, message, status) };
        Ok(())
    })
}

/// `MPI_Improbe`: `MPI_Mprobe` without waiting: `*flag` says whether a message was taken.
#[no_mangle]
pub unsafe extern "C" fn MPI_Improbe(
    source: c_int,
    tag: c_int,
    comm: Handle,
    flag: *mut c_int,
    message: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    call_on("MPI_Improbe", On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let flag = crate::comm::out(flag)?;
        let message = crate::comm::out(message)?;
        if source == MPI_PROC_NULL {
            // SAFETY: checked non-null; the caller passes valid pointers (MPI's rules).
            unsafe {
                flag.write(1);
                message.write(MPI_MESSAGE_NO_PROC);
                put(status, &PROC_NULL_STATUS);
            }
            return Ok(());
        }
        let found =
            c.pc.process_at_rank(source)
                .immediate_matched_probe_with_tag(tag)?;
        // SAFETY: as above.
        unsafe {
            flag.write(c_int::from(found.is_some()));
            keep(found, comm, message, status);
        }
        Ok(())
    })
}

/// Where the errors of a receive of message `*message` are raised: its communicator.
///
/// # Safety
///
/// `message` is NULL or valid for a read.
unsafe fn errors_on(message: *const c_int) -> On {
    if message.is_null() {
        return On::Nothing;
    }
    // SAFETY: the caller's promise.
    let h = unsafe { *message };
    MESSAGES.with(|t| t.borrow().get(h).map_or(On::Nothing, |m| On::Comm(m.1)))
}

/// Receives message `*message` into `count` elements of `datatype` at `buf` and sets
/// `*message` to `MPI_MESSAGE_NULL`: the body of `MPI_Mrecv` and `MPI_Imrecv`.
///
/// # Safety
///
/// `message` is valid for a read and a write; `buf` holds the elements.
unsafe fn receive(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    message: *mut c_int,
) -> Result<(Received, Handle)> {
    let message = crate::comm::out(message)?;
    let t = crate::datatype::get_committed(datatype)?;
    let n = elements(buf, count, &t)?;
    // SAFETY: checked non-null; the caller's promise otherwise.
    let h = unsafe { *message };
    if h == MPI_MESSAGE_NO_PROC {
        // SAFETY: as above.
        unsafe { message.write(MPI_MESSAGE_NULL) };
        return Ok((Ok(PROC_NULL_STATUS), crate::handle::MPI_COMM_NULL));
    }
    let Some((m, comm)) = MESSAGES.with(|t| t.borrow_mut().remove(h)) else {
        return fail(
            MPI_ERR_ARG,
            if h == MPI_MESSAGE_NULL {
                "the message is MPI_MESSAGE_NULL".to_string()
            } else {
                format!("{h} is not a message of this rank (each matched message is received once)")
            },
        );
    };
    // SAFETY: as above.
    unsafe { message.write(MPI_MESSAGE_NULL) };
    let mut into = Incoming::new(buf, n, &t);
    // SAFETY: the user's buffer is the call's until it returns (MPI's rule).
    let r = m.matched_receive_into(unsafe { into.slice() });
    // SAFETY: the buffer holds `n` elements of `t` (MPI's rule).
    Ok((unsafe { received(r, &mut into) }, comm))
}

/// `MPI_Mrecv`: receives a message taken by `MPI_Mprobe`/`MPI_Improbe`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Mrecv(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    message: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes a valid message pointer (MPI's rule).
    let on = unsafe { errors_on(message) };
    call_on("MPI_Mrecv", on, || {
        // SAFETY: forwarded (MPI's rules for the buffer and the message).
        let (r, _) = unsafe { receive(buf, count, datatype, message)? };
        match r {
            Ok(s) => {
                // SAFETY: the caller passes a valid status or MPI_STATUS_IGNORE.
                unsafe { put(status, &s) };
                Ok(())
            }
            Err((e, s)) => {
                if let Some(s) = s {
                    // SAFETY: as above.
                    unsafe { put(status, &s) };
                }
                Err(e)
            }
        }
    })
}

/// `MPI_Imrecv`: receives a message taken by `MPI_Mprobe`/`MPI_Improbe` within the call (it
/// is already matched) and returns a complete request.
#[no_mangle]
pub unsafe extern "C" fn MPI_Imrecv(
    buf: *mut c_void,
    count: c_int,
    datatype: Handle,
    message: *mut c_int,
    request: *mut c_int,
) -> c_int {
    // SAFETY: the caller passes a valid message pointer (MPI's rule).
    let on = unsafe { errors_on(message) };
    call_on("MPI_Imrecv", on, || {
        let request = crate::comm::out(request)?;
        // SAFETY: forwarded (MPI's rules for the buffer and the message).
        let (r, comm) = unsafe { receive(buf, count, datatype, message)? };
        let on = if comm == crate::handle::MPI_COMM_NULL {
            on
        } else {
            On::Comm(comm)
        };
        let h = crate::request::insert_on(Box::new(Done(Some(outcome(r)))), on);
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        unsafe { request.write(h) };
        Ok(())
    })
}

/// Drops every matched message not received (each releases its sender); called by
/// `MPI_Finalize`.
pub fn finalize() {
    let all = MESSAGES.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(2)));
    drop(all);
}
