//! Completing requests: `MPI_Wait`, `MPI_Test` and their `all`, `any` and `some` forms,
//! `MPI_Request_get_status`, `MPI_Request_free`, `MPI_Cancel` and `MPI_Test_cancelled`.
//!
//! They work on any request of the table (point-to-point, persistent, non-blocking
//! collectives alike) through `request`'s functions: [`request::poll`] advances one,
//! [`request::report`] takes its outcome and releases it. Each call first moves the messages
//! that arrived to their receives once, for all its requests (point-to-point operations do not
//! drain on their own when polled), and polls only the requests still in flight (a complete
//! one stays complete until reported). A wait polls its requests and, while
//! none it needs is complete, waits in pip-comm's wait loop ([`raw::wait_until`] on the world,
//! whose engine all communicators of the rank share) with the requests' readiness as the
//! check before sleeping.
//!
//! # Null and inactive requests
//!
//! As MPI says: waiting on or testing `MPI_REQUEST_NULL` or an inactive persistent request
//! returns at once with an empty status (source `MPI_ANY_SOURCE`, tag `MPI_ANY_TAG`, count 0);
//! the `any` forms skip them and, when all are, return index `MPI_UNDEFINED` (with `flag` set,
//! for `MPI_Testany`); the `some` forms then return `outcount = MPI_UNDEFINED`.
//!
//! # Errors
//!
//! A call that completes one request returns that request's error (a truncated receive's
//! status is filled in). A call that completes several fills in every status's `MPI_ERROR`
//! and returns `MPI_ERR_IN_STATUS` if any failed. Errors are raised on the communicator of the
//! first request given.

use super::{put, put_at};
use crate::error::{call_on, code_of, Error, On, Result, MPI_ERR_IN_STATUS};
use crate::handle::{
    Handle, MpiStatus, MPI_COMM_WORLD, MPI_REQUEST_NULL, MPI_STATUS_IGNORE, MPI_UNDEFINED,
};
use crate::request::{self, failure, State, EMPTY};
use pip_comm::raw;
use std::ffi::c_int;

/// Where the errors of a call on the `count` requests at `requests` are raised.
///
/// # Safety
///
/// `requests` is NULL or an array of `count` handles.
pub unsafe fn errors_on(requests: *const c_int, count: c_int) -> On {
    if requests.is_null() {
        return On::Nothing;
    }
    for i in 0..usize::try_from(count).unwrap_or(0) {
        // SAFETY: the caller's promise.
        let h = unsafe { *requests.add(i) };
        if h != MPI_REQUEST_NULL {
            return request::errors_on(h);
        }
    }
    On::Nothing
}

/// The array of `count` requests at `requests`, each checked to be null or a request of
/// this rank.
///
/// # Safety
///
/// `requests` is NULL or an array of `count` handles that outlives `'a`.
unsafe fn array<'a>(count: c_int, requests: *mut c_int) -> Result<&'a mut [c_int]> {
    let n = crate::state::count(count, crate::error::MPI_ERR_COUNT, "count")?;
    if n == 0 {
        return Ok(&mut []);
    }
    let requests = crate::comm::out(requests)?;
    // SAFETY: checked non-null; the caller's promise otherwise.
    let reqs = unsafe { std::slice::from_raw_parts_mut(requests, n) };
    for &h in reqs.iter() {
        request::state(h)?;
    }
    Ok(reqs)
}

/// Moves the messages that arrived to their receives, once: every completion call does this
/// before it polls its requests, whose point-to-point operations do not drain on their own
/// (`RawRequest::test_drained`), so one drain serves them all.
fn progress() -> Result<()> {
    match crate::comm::cached(MPI_COMM_WORLD) {
        // SAFETY: the world is in the rank's table for the whole call (`comm::cached`).
        Some(world) => raw::progress(&unsafe { world.as_ref() }.pc),
        None => raw::progress(&crate::comm::get(MPI_COMM_WORLD)?.pc),
    }
    Ok(())
}

/// Calls `done` until it is true: at once if it is, else in pip-comm's wait loop (which
/// drains the messages before each call).
fn wait_for(mut done: impl FnMut() -> bool, ready: impl Fn() -> bool) -> Result<()> {
    progress()?;
    request::reap_orphans();
    if done() {
        return Ok(());
    }
    let world = crate::comm::get(MPI_COMM_WORLD)?;
    raw::wait_until(&world.pc, done, ready)?;
    Ok(())
}

/// Polls each request of `left` that is in flight and can move ([`request::poll_if_ready`]:
/// the caller has drained the messages) and keeps those not settled; true once none is left.
/// A settled request stays settled until it is reported, so it is not polled again.
fn settle(left: &mut Vec<c_int>) -> bool {
    left.retain(|&h| matches!(request::poll_if_ready(h), Ok(State::Pending)));
    left.is_empty()
}

/// Polls request `h`; true unless it is still in flight.
fn settled(h: Handle) -> bool {
    // An unknown handle settles too: reporting it returns its error.
    !matches!(request::poll(h), Ok(State::Pending))
}

/// Polls request `h`; true if it is complete (an error counts: reporting it returns it).
fn completed(h: Handle) -> bool {
    !matches!(request::poll(h), Ok(s) if s != State::Complete)
}

/// True if some request of `reqs` is active (neither null nor inactive).
fn any_active(reqs: &[c_int]) -> bool {
    reqs.iter()
        .any(|&h| request::state(h).is_ok_and(State::is_active))
}

/// Gives a single completion's outcome to the caller: the status written, the error
/// returned.
///
/// # Safety
///
/// As [`put`].
unsafe fn single(outcome: Result<MpiStatus>, status: *mut MpiStatus) -> Result<()> {
    let s = outcome?;
    // SAFETY: forwarded from the caller.
    unsafe { put(status, &s) };
    failure(&s).map_or(Ok(()), Err)
}

/// Reports request `reqs[i]` as the `k`th status of an array; the error, if it failed.
///
/// # Safety
///
/// As [`put_at`] for index `k`.
unsafe fn report_at(
    reqs: &mut [c_int],
    i: usize,
    statuses: *mut MpiStatus,
    k: usize,
) -> Option<Error> {
    let s = request::report(&mut reqs[i]).unwrap_or_else(|e| MpiStatus {
        MPI_ERROR: code_of(&e),
        ..EMPTY
    });
    // SAFETY: forwarded from the caller.
    unsafe { put_at(statuses, k, &s) };
    failure(&s).map(|e| {
        Error::new(
            MPI_ERR_IN_STATUS,
            format!("request {i} failed: {}", e.message),
        )
    })
}

/// Reports every request of `reqs` (all settled) into `statuses`.
///
/// # Safety
///
/// `statuses` is `MPI_STATUSES_IGNORE` or an array as long as `reqs`.
unsafe fn report_all(reqs: &mut [c_int], statuses: *mut MpiStatus) -> Result<()> {
    let mut first = None;
    for i in 0..reqs.len() {
        // SAFETY: forwarded from the caller.
        let e = unsafe { report_at(reqs, i, statuses, i) };
        first = first.or(e);
    }
    first.map_or(Ok(()), Err)
}

/// `MPI_Wait`: waits until the request completes, returns its status and releases it (a
/// persistent request becomes inactive).
#[no_mangle]
pub unsafe extern "C" fn MPI_Wait(request: *mut c_int, status: *mut MpiStatus) -> c_int {
    // SAFETY: the caller passes a valid request pointer.
    let on = unsafe { errors_on(request, 1) };
    call_on("MPI_Wait", on, || {
        let request = crate::comm::out(request)?;
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        let h = unsafe { *request };
        request::state(h)?;
        wait_for(|| settled(h), || request::ready(h))?;
        // SAFETY: as above; the status pointer is valid (MPI's rule).
        unsafe { single(request::report(&mut *request), status) }
    })
}

/// `MPI_Test`: `*flag` says whether the request is complete; if it is, as `MPI_Wait`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Test(
    request: *mut c_int,
    flag: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes a valid request pointer.
    let on = unsafe { errors_on(request, 1) };
    call_on("MPI_Test", on, || {
        let request = crate::comm::out(request)?;
        let flag = crate::comm::out(flag)?;
        progress()?;
        // SAFETY: checked non-null; the caller passes valid pointers (MPI's rules).
        unsafe {
            let done = request::poll(*request)? != State::Pending;
            flag.write(c_int::from(done));
            if !done {
                return Ok(());
            }
            single(request::report(&mut *request), status)
        }
    })
}

/// `MPI_Waitall`: waits until every request completes and reports them all.
#[no_mangle]
pub unsafe extern "C" fn MPI_Waitall(
    count: c_int,
    requests: *mut c_int,
    statuses: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes an array of `count` requests.
    let on = unsafe { errors_on(requests, count) };
    call_on("MPI_Waitall", on, || {
        // SAFETY: as above.
        let reqs = unsafe { array(count, requests)? };
        let left = std::cell::RefCell::new(reqs.to_vec());
        wait_for(
            || settle(&mut left.borrow_mut()),
            || left.borrow().iter().any(|&h| request::ready(h)),
        )?;
        // SAFETY: the caller passes MPI_STATUSES_IGNORE or `count` statuses.
        unsafe { report_all(reqs, statuses) }
    })
}

/// `MPI_Testall`: if every request is complete, reports them all and sets `*flag`; else
/// changes nothing and clears `*flag`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Testall(
    count: c_int,
    requests: *mut c_int,
    flag: *mut c_int,
    statuses: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes an array of `count` requests.
    let on = unsafe { errors_on(requests, count) };
    call_on("MPI_Testall", on, || {
        // SAFETY: as above.
        let reqs = unsafe { array(count, requests)? };
        let flag = crate::comm::out(flag)?;
        progress()?;
        let all = settle(&mut reqs.to_vec());
        // SAFETY: checked non-null; the caller passes a valid pointer.
        unsafe { flag.write(c_int::from(all)) };
        if !all {
            return Ok(());
        }
        // SAFETY: the caller passes MPI_STATUSES_IGNORE or `count` statuses.
        unsafe { report_all(reqs, statuses) }
    })
}

/// The body of `MPI_Waitany` and `MPI_Testany`: the first complete request is reported (its
/// index in `*index`); `wait` waits for one.
///
/// # Safety
///
/// MPI's rules for the arguments.
unsafe fn any(
    count: c_int,
    requests: *mut c_int,
    index: *mut c_int,
    flag: Option<*mut c_int>,
    status: *mut MpiStatus,
    wait: bool,
) -> Result<()> {
    // SAFETY: forwarded from the caller.
    let reqs = unsafe { array(count, requests)? };
    let index = crate::comm::out(index)?;
    let flag = flag.map(crate::comm::out).transpose()?;
    let mut found = None;
    if any_active(reqs) {
        let shared = &*reqs;
        let mut look = || {
            found = shared.iter().position(|&h| completed(h));
            found.is_some()
        };
        if wait {
            wait_for(look, || shared.iter().any(|&h| request::ready(h)))?;
        } else {
            progress()?;
            look();
        }
    }
    // SAFETY: checked non-null; the caller passes valid pointers.
    unsafe {
        index.write(found.map_or(MPI_UNDEFINED, |i| i as c_int));
        if let Some(flag) = flag {
            flag.write(c_int::from(found.is_some() || !any_active(reqs)));
        }
        match found {
            Some(i) => single(request::report(&mut reqs[i]), status),
            None if !any_active(reqs) => {
                put(status, &EMPTY);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// `MPI_Waitany`: waits until one of the requests completes and reports it; with no active
/// request, `*index` is `MPI_UNDEFINED` and the status empty.
#[no_mangle]
pub unsafe extern "C" fn MPI_Waitany(
    count: c_int,
    requests: *mut c_int,
    index: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes an array of `count` requests.
    let on = unsafe { errors_on(requests, count) };
    call_on("MPI_Waitany", on, || {
        // SAFETY: MPI's rules for the arguments.
        unsafe { any(count, requests, index, None, status, true) }
    })
}

/// `MPI_Testany`: reports one complete request if there is one (`*flag` set); with no
/// active request, `*flag` is set, `*index` is `MPI_UNDEFINED` and the status empty.
#[no_mangle]
pub unsafe extern "C" fn MPI_Testany(
    count: c_int,
    requests: *mut c_int,
    index: *mut c_int,
    flag: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes an array of `count` requests.
    let on = unsafe { errors_on(requests, count) };
    call_on("MPI_Testany", on, || {
        // SAFETY: MPI's rules for the arguments.
        unsafe { any(count, requests, index, Some(flag), status, false) }
    })
}

/// The body of `MPI_Waitsome` and `MPI_Testsome`: reports every complete request (their
/// indices in `indices`, their number in `*outcount`); `wait` waits for at least one.
///
/// # Safety
///
/// MPI's rules for the arguments.
unsafe fn some(
    incount: c_int,
    requests: *mut c_int,
    outcount: *mut c_int,
    indices: *mut c_int,
    statuses: *mut MpiStatus,
    wait: bool,
) -> Result<()> {
    // SAFETY: forwarded from the caller.
    let reqs = unsafe { array(incount, requests)? };
    let outcount = crate::comm::out(outcount)?;
    let indices = if reqs.is_empty() {
        indices
    } else {
        crate::comm::out(indices)?
    };
    if !any_active(reqs) {
        // SAFETY: checked non-null; the caller passes a valid pointer.
        unsafe { outcount.write(MPI_UNDEFINED) };
        return Ok(());
    }
    let shared = &*reqs;
    let look = || shared.iter().filter(|&&h| completed(h)).count() > 0;
    if wait {
        wait_for(look, || shared.iter().any(|&h| request::ready(h)))?;
    } else {
        progress()?;
        look();
    }
    let mut k = 0;
    let mut first = None;
    for i in 0..reqs.len() {
        if request::state(reqs[i])? != State::Complete {
            continue;
        }
        // SAFETY: the caller passes arrays of `incount` indices and statuses (or
        // MPI_STATUSES_IGNORE); `k <= i`.
        unsafe {
            indices.add(k).write(i as c_int);
            first = first.or(report_at(reqs, i, statuses, k));
        }
        k += 1;
    }
    // SAFETY: checked non-null; the caller passes a valid pointer.
    unsafe { outcount.write(k as c_int) };
    first.map_or(Ok(()), Err)
}

/// `MPI_Waitsome`: waits until at least one request completes and reports every complete
/// one.
#[no_mangle]
pub unsafe extern "C" fn MPI_Waitsome(
    incount: c_int,
    requests: *mut c_int,
    outcount: *mut c_int,
    indices: *mut c_int,
    statuses: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes an array of `incount` requests.
    let on = unsafe { errors_on(requests, incount) };
    call_on("MPI_Waitsome", on, || {
        // SAFETY: MPI's rules for the arguments.
        unsafe { some(incount, requests, outcount, indices, statuses, true) }
    })
}

/// `MPI_Testsome`: reports every complete request (possibly none).
#[no_mangle]
pub unsafe extern "C" fn MPI_Testsome(
    incount: c_int,
    requests: *mut c_int,
    outcount: *mut c_int,
    indices: *mut c_int,
    statuses: *mut MpiStatus,
) -> c_int {
    // SAFETY: the caller passes an array of `incount` requests.
    let on = unsafe { errors_on(requests, incount) };
    call_on("MPI_Testsome", on, || {
        // SAFETY: MPI's rules for the arguments.
        unsafe { some(incount, requests, outcount, indices, statuses, false) }
    })
}

/// `MPI_Request_get_status`: `*flag` says whether the request is complete; if it is, its
/// status, without releasing the request.
#[no_mangle]
pub unsafe extern "C" fn MPI_Request_get_status(
    request: c_int,
    flag: *mut c_int,
    status: *mut MpiStatus,
) -> c_int {
    call_on(
        "MPI_Request_get_status",
        request::errors_on(request),
        || {
            let flag = crate::comm::out(flag)?;
            progress()?;
            let done = request::poll(request)? != State::Pending;
            // SAFETY: checked non-null; the caller passes valid pointers (MPI's rules).
            unsafe {
                flag.write(c_int::from(done));
                if !done {
                    return Ok(());
                }
                single(request::peek(request), status)
            }
        },
    )
}

/// `MPI_Request_free`: releases the request (`*request` becomes `MPI_REQUEST_NULL`); an
/// operation in flight goes on and completes unobserved.
#[no_mangle]
pub unsafe extern "C" fn MPI_Request_free(request: *mut c_int) -> c_int {
    // SAFETY: the caller passes a valid request pointer.
    let on = unsafe { errors_on(request, 1) };
    call_on("MPI_Request_free", on, || {
        let request = crate::comm::out(request)?;
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        request::free(unsafe { &mut *request })
    })
}

/// `MPI_Cancel`: cancels a receive that no message has matched yet (it then completes with a
/// status that `MPI_Test_cancelled` flags). Sends cannot be cancelled here: they complete
/// normally.
#[no_mangle]
pub unsafe extern "C" fn MPI_Cancel(request: *mut c_int) -> c_int {
    // SAFETY: the caller passes a valid request pointer.
    let on = unsafe { errors_on(request, 1) };
    call_on("MPI_Cancel", on, || {
        let request = crate::comm::out(request)?;
        // SAFETY: checked non-null; the caller passes a valid request pointer.
        request::cancel(unsafe { *request })
    })
}

/// `MPI_Test_cancelled`: whether the request of `status` was cancelled.
#[no_mangle]
pub unsafe extern "C" fn MPI_Test_cancelled(status: *const MpiStatus, flag: *mut c_int) -> c_int {
    crate::error::call("MPI_Test_cancelled", || {
        let status = crate::comm::out(status.cast_mut())?;
        if status as usize == MPI_STATUS_IGNORE {
            return Err(Error::new(
                crate::error::MPI_ERR_ARG,
                "the status is MPI_STATUS_IGNORE: pass the status of a completed request",
            ));
        }
        let flag = crate::comm::out(flag)?;
        // SAFETY: checked non-null; the caller passes valid pointers (MPI's rules).
        unsafe { flag.write(c_int::from((*status).cancelled != 0)) };
        Ok(())
    })
}
