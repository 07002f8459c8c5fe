//! The schedules of the non-blocking collectives (the protocol is in `schedule`).
//!
//! Every schedule posts all of a rank's first operations at the call, with the root (rank 0
//! for the barrier and the all-reduce) as the hub:
//!
//! | collective | step 1 | then | step 2 |
//! |---|---|---|---|
//! | `MPI_Ibarrier` | others send 0 bytes to rank 0 and receive 0 bytes from it; rank 0 receives from all | | rank 0 sends to all |
//! | `MPI_Ibcast` | the root sends to each rank; each receives | unpack | |
//! | `MPI_Igather` | each sends to the root; the root receives each block | unpack | |
//! | `MPI_Iscatter` | the root sends each block; each receives | unpack | |
//! | `MPI_Iallgather`, `MPI_Ialltoall` | each sends to and receives from every other rank | unpack | |
//! | `MPI_Ireduce` | each sends its packed input to the root, which receives them | the root folds them in rank order | |
//! | `MPI_Iallreduce` | as `MPI_Ireduce` to rank 0; the others also receive the result from it | rank 0 folds; the others unpack | rank 0 sends the result to all |
//!
//! A rank's own block is copied at the call. Data of a non-contiguous type is packed into a
//! temporary at the call (so the message is bytes in type-map order) and received into a
//! temporary that the step's action unpacks into the user's buffer; a contiguous buffer is
//! sent from and received into where it lies. `MPI_IN_PLACE` data is copied at the call.

use super::blocking::block;
use super::reduce::fold;
use super::schedule::{Schedule, Step};
use super::{Bytes, Typed};
use crate::comm::Comm;
use crate::datatype;
use crate::error::Result;
use crate::handle::Handle;
use std::ffi::c_void;
use std::rc::Rc;

/// `MPI_BYTE`'s handle in `mpi.h`.
const MPI_BYTE: Handle = 4;

/// Where data to send lies: the buffer itself if contiguous, else a packed copy.
///
/// # Safety
///
/// `p` holds `t` readable elements.
unsafe fn source(s: &mut Schedule, p: *const c_void, t: &Typed) -> *const u8 {
    if t.dt.is_contiguous() {
        return p.cast();
    }
    // SAFETY: forwarded from the caller.
    s.keep(unsafe { Bytes::new(p, t) }.get()).cast_const()
}

/// Unpacking work left for a step's action: (type, temporary, its length, destination).
#[derive(Default)]
struct Unpacks(Vec<(Typed, *const u8, *mut u8)>);

impl Unpacks {
    /// Where to receive `t` for `p`: the buffer itself if contiguous, else a temporary that
    /// [`Unpacks::run`] unpacks into `p`.
    fn landing(&mut self, s: &mut Schedule, p: *mut c_void, t: &Typed) -> *mut u8 {
        if t.dt.is_contiguous() {
            return p.cast();
        }
        let tmp = s.temp(t.bytes());
        self.0.push((t.clone(), tmp, p.cast()));
        tmp
    }

    /// The step action that unpacks every temporary.
    fn into_action(self) -> Option<super::schedule::Then> {
        if self.0.is_empty() {
            return None;
        }
        Some(Box::new(move || {
            for (t, tmp, p) in self.0 {
                // SAFETY: the temporary holds the received bytes of `t`; the user's buffer
                // has `t`'s elements at `p` (MPI's rules for non-blocking buffers).
                unsafe { datatype::unpack(&t.dt, std::slice::from_raw_parts(tmp, t.bytes()), p) };
            }
            Ok(())
        }))
    }
}

/// Starts the schedule (see `Schedule::start` for the pointers' validity).
///
/// # Safety
///
/// The user's buffers stay valid and untouched until the request completes.
unsafe fn go(s: Schedule, steps: Vec<Step>) -> Result<Schedule> {
    let mut s = s;
    for step in steps {
        s.push(step);
    }
    // SAFETY: forwarded from the caller.
    unsafe { s.start() }
}

/// `MPI_Ibarrier`'s schedule.
pub(super) fn ibarrier(c: Rc<Comm>) -> Result<Schedule> {
    let (me, n) = (c.rank(), c.size());
    let s = Schedule::new(c);
    let (mut one, mut two) = (Step::default(), Step::default());
    for r in 1..n {
        if me == 0 {
            one.recv(r, std::ptr::null_mut(), 0);
            two.send(r, std::ptr::null(), 0);
        }
    }
    if me != 0 {
        one.send(0, std::ptr::null(), 0);
        one.recv(0, std::ptr::null_mut(), 0);
    }
    // SAFETY: zero-byte operations touch no memory.
    unsafe { go(s, vec![one, two]) }
}

/// `MPI_Ibcast`'s schedule.
///
/// # Safety
///
/// `buf` holds `t` elements until completion.
pub(super) unsafe fn ibcast(
    c: Rc<Comm>,
    buf: *mut c_void,
    t: &Typed,
    root: i32,
) -> Result<Schedule> {
    let (me, n) = (c.rank(), c.size());
    let mut s = Schedule::new(c);
    let mut step = Step::default();
    let mut u = Unpacks::default();
    if me == root {
        // SAFETY: forwarded from the caller.
        let data = unsafe { source(&mut s, buf, t) };
        (0..n)
            .filter(|&r| r != root)
            .for_each(|r| step.send(r, data, t.bytes()));
    } else {
        step.recv(root, u.landing(&mut s, buf, t), t.bytes());
    }
    step.then = u.into_action();
    // SAFETY: forwarded from the caller.
    unsafe { go(s, vec![step]) }
}

/// `MPI_Igather`'s schedule: `send` is `None` for the root's `MPI_IN_PLACE`; `recv` (the
/// root's buffer and one block's type) is used at the root only.
///
/// # Safety
///
/// The buffers hold their elements until completion.
pub(super) unsafe fn igather(
    c: Rc<Comm>,
    send: Option<(*const c_void, Typed)>,
    recv: (*mut c_void, Typed),
    root: i32,
) -> Result<Schedule> {
    let (me, n) = (c.rank(), c.size());
    let mut s = Schedule::new(c);
    let mut step = Step::default();
    let mut u = Unpacks::default();
    let (rbuf, rt) = recv;
    // SAFETY: forwarded from the caller.
    unsafe {
        if me != root {
            let (p, t) = send.expect("a send buffer off the root");
            step.send(root, source(&mut s, p, &t), t.bytes());
        } else {
            for r in (0..n).filter(|&r| r != root) {
                let at = block(rbuf, &rt, r as usize);
                step.recv(r, u.landing(&mut s, at, &rt), rt.bytes());
            }
            if let Some((p, t)) = send {
                copy_between(p, &t, block(rbuf, &rt, me as usize), &rt);
            }
        }
        step.then = u.into_action();
        go(s, vec![step])
    }
}

/// Copies `st` at `from` into `rt` at `to` (equal type signatures).
///
/// # Safety
///
/// `from` holds `st` readable and `to` `rt` writable elements.
unsafe fn copy_between(from: *const c_void, st: &Typed, to: *mut c_void, rt: &Typed) {
    // SAFETY: forwarded from the caller.
    unsafe { datatype::unpack(&rt.dt, Bytes::new(from, st).get(), to.cast()) };
}

/// `MPI_Iscatter`'s schedule: `recv` is `None` for the root's `MPI_IN_PLACE`; `send` (the
/// root's buffer and one block's type) is used at the root only.
///
/// # Safety
///
/// The buffers hold their elements until completion.
pub(super) unsafe fn iscatter(
    c: Rc<Comm>,
    send: (*const c_void, Typed),
    recv: Option<(*mut c_void, Typed)>,
    root: i32,
) -> Result<Schedule> {
    let (me, n) = (c.rank(), c.size());
    let mut s = Schedule::new(c);
    let mut step = Step::default();
    let mut u = Unpacks::default();
    let (sbuf, st) = send;
    // SAFETY: forwarded from the caller.
    unsafe {
        if me != root {
            let (p, t) = recv.expect("a receive buffer off the root");
            step.recv(root, u.landing(&mut s, p, &t), t.bytes());
        } else {
            for r in (0..n).filter(|&r| r != root) {
                let at = block(sbuf, &st, r as usize);
                step.send(r, source(&mut s, at, &st), st.bytes());
            }
            if let Some((p, t)) = recv {
                copy_between(block(sbuf, &st, me as usize), &st, p, &t);
            }
        }
        step.then = u.into_action();
        go(s, vec![step])
    }
}

/// `MPI_Iallgather` (`alltoall` false) and `MPI_Ialltoall` (true): `send` is `None` for
/// `MPI_IN_PLACE` (the data is then taken from `recv`); `st`/`rt` describe one block.
///
/// # Safety
///
/// The buffers hold their elements until completion.
pub(super) unsafe fn iall(
    c: Rc<Comm>,
    send: Option<(*const c_void, Typed)>,
    recv: (*mut c_void, Typed),
    alltoall: bool,
) -> Result<Schedule> {
    let (me, n) = (c.rank(), c.size());
    let mut s = Schedule::new(c);
    let mut step = Step::default();
    let mut u = Unpacks::default();
    let (rbuf, rt) = recv;
    // SAFETY: forwarded from the caller; in place, the data is copied before any receive.
    unsafe {
        let (sbuf, st) = match send {
            Some(x) => x,
            None => {
                let all = rt.with(rt.n * n as usize);
                let copy = s.keep(Bytes::new(rbuf, &all).get());
                // The copy is packed: describe it as bytes of the block's size.
                let bytes = Typed {
                    h: MPI_BYTE,
                    dt: datatype::get(MPI_BYTE)?,
                    n: rt.bytes(),
                };
                let own = if alltoall {
                    0
                } else {
                    rt.bytes() * me as usize
                };
                (copy.wrapping_add(own).cast_const().cast::<c_void>(), bytes)
            }
        };
        let piece = |r: i32| {
            if alltoall {
                block(sbuf, &st, r as usize)
            } else {
                sbuf as *mut c_void
            }
        };
        for r in (0..n).filter(|&r| r != me) {
            step.recv(
                r,
                u.landing(&mut s, block(rbuf, &rt, r as usize), &rt),
                rt.bytes(),
            );
            step.send(r, source(&mut s, piece(r), &st), st.bytes());
        }
        copy_between(piece(me), &st, block(rbuf, &rt, me as usize), &rt);
        step.then = u.into_action();
        go(s, vec![step])
    }
}

/// `MPI_Ireduce` (`root` `Some`) and `MPI_Iallreduce` (`None`, rank 0 as the hub): `send` is
/// the input (a copy of `recv` for `MPI_IN_PLACE`), `recv` the result (used at the root, and
/// on every rank for the all-reduce).
///
/// # Safety
///
/// The buffers hold `t` elements until completion.
pub(super) unsafe fn ireduce(
    c: Rc<Comm>,
    send: *const c_void,
    recv: *mut c_void,
    t: &Typed,
    op: Handle,
    root: Option<i32>,
) -> Result<Schedule> {
    let (me, n) = (c.rank(), c.size());
    let hub = root.unwrap_or(0);
    let mut s = Schedule::new(c);
    let (mut one, mut two) = (Step::default(), Step::default());
    let len = t.bytes();
    // SAFETY: forwarded from the caller.
    let mine = s.keep(unsafe { Bytes::new(send, t) }.get());
    if me != hub {
        one.send(hub, mine, len);
        if root.is_none() {
            let mut u = Unpacks::default();
            one.recv(hub, u.landing(&mut s, recv, t), len);
            one.then = u.into_action();
        }
    } else {
        let all = s.temp(len * n as usize);
        // SAFETY: `all` has a slot of `len` bytes per rank.
        unsafe { std::ptr::copy_nonoverlapping(mine, all.add(len * me as usize), len) };
        for r in (0..n).filter(|&r| r != hub) {
            one.recv(r, all.wrapping_add(len * r as usize), len);
        }
        let result = s.temp(len);
        let t2 = t.clone();
        let out = recv.cast::<u8>();
        one.then = Some(Box::new(move || {
            // SAFETY: `all` holds every rank's packed input once step one is complete; `out`
            // holds `t` writable elements; `result` has `len` bytes.
            unsafe {
                fold(
                    op,
                    &t2,
                    std::slice::from_raw_parts(all, len * n as usize),
                    len,
                    0..n as usize,
                    out,
                )?;
                let mut packed = Vec::new();
                datatype::pack(&t2.dt, t2.n, out, &mut packed);
                std::ptr::copy_nonoverlapping(packed.as_ptr(), result, len);
            }
            Ok(())
        }));
        if root.is_none() {
            (0..n)
                .filter(|&r| r != hub)
                .for_each(|r| two.send(r, result, len));
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { go(s, vec![one, two]) }
}
