//! Point-to-point: `MPI_Send` and `MPI_Recv` in all their modes, probes, persistent and
//! buffered sends, and the completion calls of requests.
//!
//! # Mapping onto pip-comm
//!
//! A message is the bytes of `count` elements of its datatype. For a contiguous datatype
//! ([`Datatype::is_contiguous`]) they are the `count * size` bytes at the user's buffer, which
//! pip-comm sends as they are ([`Outgoing::Borrowed`]): eagerly through a ring slot up to its
//! eager limit, else by single-copy rendezvous (the receiver copies straight from the sender's
//! buffer). Any other datatype is packed into a temporary buffer first ([`Outgoing::Packed`]).
//! A receive of a contiguous datatype lands in the user's buffer; of any other, in a temporary
//! buffer of `count * size` bytes that is unpacked into the user's elements when the receive
//! completes ([`Incoming`]). So sender and receiver agree on the packed form whatever their
//! datatypes, as MPI's type matching requires, and statuses count bytes
//! ([`MpiStatus::count`]; `MPI_Get_count` divides).
//!
//! Blocking calls use pip-comm's blocking operations (`Destination::send_with_tag`,
//! `Source::receive_into_with_tag`, probes and matched probes). Non-blocking calls start
//! `pip_comm::raw` operations and store them as [`Pending`](crate::request::Pending) requests.
//! Both kinds share one endpoint per rank, so MPI's matching order (non-overtaking from one
//! sender, receives matched in the order posted) holds across them.
//!
//! # Special ranks and sizes
//!
//! An operation with `MPI_PROC_NULL` completes at once: a send sends nothing, a receive or
//! probe returns the status source `MPI_PROC_NULL`, tag `MPI_ANY_TAG`, count 0. A zero-byte
//! message is a message like any other (it matches, it carries its tag).
//!
//! # Truncation
//!
//! A message longer than the receive buffer fills the buffer, is consumed, and the receive
//! fails with `MPI_ERR_TRUNCATE`; its status still says the source, the tag and the bytes
//! received (the buffer's size).
//!
//! The files: `send.rs` (the send modes), `recv.rs` (receives and send-receive), `hot.rs`
//! (the fast path of `MPI_Send` and `MPI_Recv` for predefined contiguous types), `probe.rs`
//! (probes, matched probes and the message table), `bsend.rs` (the attached buffer and
//! buffered sends), `persistent.rs` (`MPI_*_init`, `MPI_Start`), `complete.rs` (waits, tests,
//! cancel and free).

mod bsend;
mod complete;
mod hot;
mod persistent;
mod probe;
mod recv;
mod send;

use crate::datatype::Datatype;
use crate::error::{fail, Error, Result, MPI_ERR_BUFFER, MPI_ERR_COUNT, MPI_ERR_TRUNCATE};
use crate::handle::{MpiStatus, MPI_ANY_TAG, MPI_PROC_NULL, MPI_STATUS_IGNORE};
use crate::request::Pending;
use std::ffi::{c_int, c_void};
use std::rc::Rc;

/// Releases the rank's point-to-point state: requests, matched messages not received, the
/// attached buffer. For `MPI_Finalize`, after its barrier.
#[allow(dead_code)] // called by MPI_Finalize (the environment's part)
pub fn finalize() {
    crate::request::finalize();
    probe::finalize();
    bsend::finalize();
}

/// The status of an operation with `MPI_PROC_NULL`.
pub const PROC_NULL_STATUS: MpiStatus = MpiStatus {
    MPI_SOURCE: MPI_PROC_NULL,
    MPI_TAG: MPI_ANY_TAG,
    MPI_ERROR: 0,
    cancelled: 0,
    count: 0,
};

/// The fast path's length: the bytes of `count` elements of a contiguous predefined type of
/// `size` bytes at `buf`, or `None` when the arguments need [`elements`]'s checks (a negative
/// count, a null buffer with data, an overflow), which then fail with their message.
pub fn contiguous_len(buf: *const c_void, count: c_int, size: usize) -> Option<usize> {
    let n = usize::try_from(count).ok()?;
    let len = n.checked_mul(size)?;
    (!buf.is_null() || len == 0).then_some(len)
}

/// The number of elements `count` of `t` at `buf` stand for, checked: not negative, and a
/// buffer that is NULL only when no byte is addressed from it (a non-contiguous type may
/// address absolute memory from `MPI_BOTTOM`, which is NULL).
pub fn elements(buf: *const c_void, count: c_int, t: &Datatype) -> Result<usize> {
    let Ok(n) = usize::try_from(count) else {
        return fail(MPI_ERR_COUNT, format!("count is negative ({count})"));
    };
    if buf.is_null() && n > 0 && t.size > 0 && t.is_contiguous() {
        return fail(
            MPI_ERR_BUFFER,
            format!("the buffer is NULL but count is {n} ({} bytes)", n * t.size),
        );
    }
    t.bytes(n)?;
    Ok(n)
}

/// The bytes of an outgoing message (see the module documentation).
pub enum Outgoing {
    /// A contiguous datatype: the user's `len` bytes, sent as they are.
    Borrowed(*const u8, usize),
    /// Any other: the data packed in type-map order.
    Packed(Vec<u8>),
}

impl Outgoing {
    /// The message of `n` elements of `t` at `buf` (`n` checked by [`elements`]).
    ///
    /// # Safety
    ///
    /// Every byte of the `n` elements is readable.
    pub unsafe fn new(buf: *const c_void, n: usize, t: &Datatype) -> Outgoing {
        if t.is_contiguous() {
            Outgoing::Borrowed(buf.cast(), n * t.size)
        } else {
            let mut packed = Vec::new();
            // SAFETY: forwarded from the caller.
            unsafe { crate::datatype::pack(t, n, buf.cast(), &mut packed) };
            Outgoing::Packed(packed)
        }
    }

    /// The message's bytes: pointer and length.
    pub fn bytes(&self) -> (*const u8, usize) {
        match self {
            Outgoing::Borrowed(p, n) => (*p, *n),
            Outgoing::Packed(v) => (v.as_ptr(), v.len()),
        }
    }

    /// The message's bytes as a slice.
    ///
    /// # Safety
    ///
    /// For [`Outgoing::Borrowed`], the user's bytes stay readable and unchanged while the
    /// slice lives (MPI's rule for a send buffer).
    pub unsafe fn slice(&self) -> &[u8] {
        let (p, n) = self.bytes();
        // SAFETY: `p` is readable for `n` bytes (the caller's promise, or our own Vec); a
        // dangling pointer serves an empty slice.
        unsafe {
            std::slice::from_raw_parts(
                if n == 0 {
                    std::ptr::NonNull::dangling().as_ptr()
                } else {
                    p
                },
                n,
            )
        }
    }
}

/// Where an incoming message goes (see the module documentation).
pub enum Incoming {
    /// A contiguous datatype: the user's `len` bytes.
    Direct(*mut u8, usize),
    /// Any other (and any datatype in `MPI_Sendrecv_replace`): a temporary buffer, unpacked
    /// into the elements of `t` at `dst` when the receive completes.
    Packed {
        /// The packed bytes received.
        tmp: Vec<u8>,
        /// The user's buffer.
        dst: *mut u8,
        /// The receive's datatype.
        t: Rc<Datatype>,
    },
}

impl Incoming {
    /// The target of a receive of `n` elements of `t` at `buf` (`n` checked by [`elements`]).
    pub fn new(buf: *mut c_void, n: usize, t: &Rc<Datatype>) -> Incoming {
        if t.is_contiguous() {
            Incoming::Direct(buf.cast(), n * t.size)
        } else {
            Incoming::Packed {
                tmp: vec![0; n * t.size],
                dst: buf.cast(),
                t: t.clone(),
            }
        }
    }

    /// The bytes the message is received into: pointer and capacity.
    pub fn target(&mut self) -> (*mut u8, usize) {
        match self {
            Incoming::Direct(p, n) => (*p, *n),
            Incoming::Packed { tmp, .. } => (tmp.as_mut_ptr(), tmp.len()),
        }
    }

    /// The target as a slice.
    ///
    /// # Safety
    ///
    /// For [`Incoming::Direct`], the user's bytes are writable and not otherwise accessed
    /// while the slice lives.
    pub unsafe fn slice(&mut self) -> &mut [u8] {
        let (p, n) = self.target();
        let p = if n == 0 {
            std::ptr::NonNull::dangling().as_ptr()
        } else {
            p
        };
        // SAFETY: `p` is writable for `n` bytes (the caller's promise, or our own Vec).
        unsafe { std::slice::from_raw_parts_mut(p, n) }
    }

    /// Moves the `received` bytes to the user's elements (a no-op for a direct receive).
    ///
    /// # Safety
    ///
    /// The user's elements that the bytes cover are writable.
    pub unsafe fn finish(&mut self, received: usize) {
        if let Incoming::Packed { tmp, dst, t } = self {
            let n = received.min(tmp.len());
            if t.is_contiguous() {
                // SAFETY: forwarded from the caller: the `n` bytes at `dst` are writable, and
                // they are not our own `tmp` (a send-receive-replace's temporary copy).
                unsafe { std::ptr::copy_nonoverlapping(tmp.as_ptr(), *dst, n) };
            } else {
                // SAFETY: forwarded from the caller.
                unsafe { crate::datatype::unpack(t, &tmp[..n], *dst) };
            }
        }
    }
}

/// The status of a completed pip-comm receive or send (`count` in bytes).
pub fn status_of(s: pip_comm::Status) -> MpiStatus {
    MpiStatus {
        MPI_SOURCE: s.source,
        MPI_TAG: s.tag,
        MPI_ERROR: 0,
        cancelled: 0,
        count: s.count as i64,
    }
}

/// The MPI error of a truncated receive (pip-comm's counts are bytes here).
pub fn truncated(sender: c_int, tag: c_int, message_len: usize, buffer_len: usize) -> Error {
    Error::new(
        MPI_ERR_TRUNCATE,
        format!(
            "message truncated: rank {sender} sent {message_len} bytes with tag {tag} but the \
             receive buffer holds {buffer_len} bytes (the first {buffer_len} were received, the \
             rest dropped)"
        ),
    )
}

/// A completed receive: its status, or its error with the status when one is known.
pub type Received = std::result::Result<MpiStatus, (Error, Option<MpiStatus>)>;

/// What a receive into `into` that ended with `r` amounts to: its data unpacked, and its
/// status, with a truncation's error alongside.
///
/// # Safety
///
/// As [`Incoming::finish`].
pub unsafe fn received(r: pip_comm::Result<pip_comm::Status>, into: &mut Incoming) -> Received {
    match r {
        Ok(s) => {
            // SAFETY: forwarded from the caller.
            unsafe { into.finish(s.count) };
            Ok(status_of(s))
        }
        Err(pip_comm::Error::Truncated {
            sender,
            tag,
            message_len,
            buffer_len,
        }) => {
            // SAFETY: forwarded from the caller.
            unsafe { into.finish(buffer_len) };
            let status = MpiStatus {
                MPI_SOURCE: sender,
                MPI_TAG: tag,
                MPI_ERROR: 0,
                cancelled: 0,
                count: buffer_len as i64,
            };
            Err((
                truncated(sender, tag, message_len, buffer_len),
                Some(status),
            ))
        }
        Err(e) => Err((e.into(), None)),
    }
}

/// Writes the status of a call that returns one (`MPI_Recv`, `MPI_Wait`, ...) to `out`
/// unless it is `MPI_STATUS_IGNORE` (or NULL). Its `MPI_ERROR` field is left as it was: for
/// these calls MPI reports the error in the return code only.
///
/// # Safety
///
/// `out` is NULL, `MPI_STATUS_IGNORE` or valid for a read and a write of an `MPI_Status`.
pub unsafe fn put(out: *mut MpiStatus, s: &MpiStatus) {
    if out.is_null() || out as usize == MPI_STATUS_IGNORE {
        return;
    }
    // SAFETY: the caller's promise; the fields are written one by one.
    unsafe {
        (*out).MPI_SOURCE = s.MPI_SOURCE;
        (*out).MPI_TAG = s.MPI_TAG;
        (*out).cancelled = s.cancelled;
        (*out).count = s.count;
    }
}

/// Writes the `i`th status of an array of statuses (`MPI_Waitall`, ...) with its `MPI_ERROR`,
/// unless the array is `MPI_STATUSES_IGNORE` (or NULL).
///
/// # Safety
///
/// `out` is NULL, `MPI_STATUSES_IGNORE` or an array of at least `i + 1` statuses.
pub unsafe fn put_at(out: *mut MpiStatus, i: usize, s: &MpiStatus) {
    if out.is_null() || out as usize == MPI_STATUS_IGNORE {
        return;
    }
    // SAFETY: the caller's promise.
    unsafe { out.add(i).write(*s) };
}

/// A request that is complete from the start (an operation with `MPI_PROC_NULL`, an
/// `MPI_Imrecv` or an `MPI_Ibsend`, which finish within the call).
pub struct Done(pub Option<Result<MpiStatus>>);

impl Pending for Done {
    fn poll(&mut self) -> Option<Result<MpiStatus>> {
        Some(self.0.take().unwrap_or(Ok(crate::request::EMPTY)))
    }

    fn ready(&self) -> bool {
        true
    }
}

/// A completion as a request outcome: a truncation's error travels in the status (see
/// `request`'s *Outcomes*).
pub fn outcome(r: Received) -> Result<MpiStatus> {
    match r {
        Ok(s) => Ok(s),
        Err((e, Some(mut s))) => {
            s.MPI_ERROR = crate::error::code_of(&e);
            Ok(s)
        }
        Err((e, None)) => Err(e),
    }
}
