//! Small collectives that copy: the barrier of a derived communicator (no payload), broadcast,
//! gather, scatter,
//! all-gather and all-to-all. Every rank that has something to give stages it in its region;
//! every rank that needs something copies it from the giver's region into its own buffer.
//! Sizes are in bytes; `count` and `elem` are only compared between ranks.

use super::{barrier_shape, shape, Call};
use crate::coll_lines::FAILED;
use crate::coll_slot::Kind;
use crate::{Rank, Result};

/// Copies `bytes` bytes (nothing when empty or the same place).
///
/// # Safety
///
/// `src` (unless null: nothing to copy) readable and `dst` writable for `bytes` bytes; they do
/// not overlap unless equal.
#[inline]
unsafe fn put(src: *const u8, dst: *mut u8, bytes: usize) {
    if bytes != 0 && !src.is_null() && src != dst.cast_const() {
        // SAFETY: forwarded to the caller.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, bytes) };
    }
}

/// The barrier: publish, then wait for everyone's flag.
pub(crate) fn barrier(c: Call<'_>) -> Result<()> {
    let mine = barrier_shape();
    c.publish(&mine, 0);
    c.wait_all(&mine, true)
}

/// The arguments of a copying collective, as one rank passes them.
pub(crate) struct Args {
    pub(crate) root: Rank,
    /// What this rank gives (null when nothing).
    pub(crate) send: *const u8,
    /// Where this rank's result goes (null when nothing).
    pub(crate) recv: *mut u8,
    /// Bytes of one piece (one rank's vector).
    pub(crate) piece: usize,
    pub(crate) count: usize,
    pub(crate) elem: usize,
    pub(crate) local: Result<()>,
}

/// Publishes a failure (with this rank's shape) and returns the error.
fn failed(c: &Call<'_>, kind: Kind, a: Args) -> Result<()> {
    c.publish(&shape(kind, a.root, a.count, a.elem, 0), FAILED);
    a.local
}

/// Broadcast: the root stages its buffer (`send` = `recv` = its buffer); the others copy it.
///
/// # Safety
///
/// The buffers are valid for `piece` bytes; `piece` fits a region.
pub(crate) unsafe fn broadcast(c: Call<'_>, a: Args) -> Result<()> {
    if a.local.is_err() {
        return failed(&c, Kind::Bcast, a);
    }
    let mine = shape(Kind::Bcast, a.root, a.count, a.elem, 0);
    let root = a.root as u32;
    if c.me == root {
        // SAFETY: step 2, into our own region (caller: it fits).
        unsafe { put(a.send, c.mine(), a.piece) };
        c.publish(&mine, 0);
        return Ok(());
    }
    c.publish(&mine, 0);
    c.wait(root, &mine, true)?;
    // SAFETY: step 4: the root's region holds `piece` bytes (the shapes matched).
    unsafe { put(c.theirs(root), a.recv, a.piece) };
    Ok(())
}

/// Gather: the others stage their piece; the root copies every piece to `recv` at `r * piece`
/// (its own from `send`, unless already in place). The others then wait for the root's flag,
/// only to report a root that failed or disagrees.
///
/// # Safety
///
/// `send` is valid for `piece` bytes; at the root, `recv` for `size * piece`; `piece` fits.
pub(crate) unsafe fn gather(c: Call<'_>, a: Args) -> Result<()> {
    if a.local.is_err() {
        return failed(&c, Kind::Gather, a);
    }
    let mine = shape(Kind::Gather, a.root, a.count, a.elem, 0);
    let root = a.root as u32;
    if c.me != root {
        // SAFETY: step 2, into our own region.
        unsafe { put(a.send, c.mine(), a.piece) };
        c.publish(&mine, 0);
        // Only to report a root that failed or disagrees (as the general path does).
        return c.wait(root, &mine, true);
    }
    c.publish(&mine, 0);
    // SAFETY: our own piece, to our own buffer (or already there).
    unsafe { put(a.send, a.recv.add(c.me as usize * a.piece), a.piece) };
    c.wait_all(&mine, true)?;
    for r in (0..c.n).filter(|&r| r != c.me) {
        // SAFETY: step 4: rank r's region holds its piece; `recv` holds `size` pieces.
        unsafe { put(c.theirs(r), a.recv.add(r as usize * a.piece), a.piece) };
    }
    Ok(())
}

/// Scatter: the root stages its whole send buffer (`size` pieces); every other rank copies its
/// piece.
///
/// # Safety
///
/// At the root `send` is valid for `size * piece` bytes; `recv` (unless null at an in-place
/// root) for `piece`; `size * piece` fits.
pub(crate) unsafe fn scatter(c: Call<'_>, a: Args) -> Result<()> {
    if a.local.is_err() {
        return failed(&c, Kind::Scatter, a);
    }
    let mine = shape(Kind::Scatter, a.root, a.count, a.elem, 0);
    let (root, me) = (a.root as u32, c.me as usize);
    if c.me == root {
        // SAFETY: step 2 (it fits, caller); then our own piece, unless in place.
        unsafe {
            put(a.send, c.mine(), c.n as usize * a.piece);
            if !a.recv.is_null() {
                put(a.send.add(me * a.piece), a.recv, a.piece);
            }
        }
        c.publish(&mine, 0);
        return Ok(());
    }
    c.publish(&mine, 0);
    c.wait(root, &mine, true)?;
    // SAFETY: step 4: the root's region holds `size` pieces (the shapes matched).
    unsafe { put(c.theirs(root).add(me * a.piece), a.recv, a.piece) };
    Ok(())
}

/// All-gather: everyone stages its piece and copies everyone's to `recv` at `r * piece`.
///
/// # Safety
///
/// `send` valid for `piece` bytes, `recv` for `size * piece` (`send` may be our piece of it);
/// `piece` fits.
pub(crate) unsafe fn all_gather(c: Call<'_>, a: Args) -> Result<()> {
    if a.local.is_err() {
        return failed(&c, Kind::Allgather, a);
    }
    let mine = shape(Kind::Allgather, 0, a.count, a.elem, 0);
    // SAFETY: step 2, into our own region.
    unsafe { put(a.send, c.mine(), a.piece) };
    c.publish(&mine, 0);
    c.wait_all(&mine, true)?;
    for r in 0..c.n {
        // SAFETY: step 4: every region holds its owner's piece.
        unsafe { put(c.theirs(r), a.recv.add(r as usize * a.piece), a.piece) };
    }
    Ok(())
}

/// All-to-all: everyone stages its whole send buffer (`size` pieces) and copies piece `me` of
/// every rank's to `recv` at `r * piece`.
///
/// # Safety
///
/// `send` and `recv` valid for `size * piece` bytes (they may be the same buffer); that fits.
pub(crate) unsafe fn all_to_all(c: Call<'_>, a: Args) -> Result<()> {
    if a.local.is_err() {
        return failed(&c, Kind::Alltoall, a);
    }
    let mine = shape(Kind::Alltoall, 0, a.count, a.elem, 0);
    let n = c.n as usize;
    // SAFETY: step 2, into our own region (our send buffer is not in it).
    unsafe { put(a.send, c.mine(), n * a.piece) };
    c.publish(&mine, 0);
    c.wait_all(&mine, true)?;
    let me = c.me as usize;
    for r in 0..c.n {
        // SAFETY: step 4: every region holds its owner's `size` pieces.
        unsafe {
            put(
                c.theirs(r).add(me * a.piece),
                a.recv.add(r as usize * a.piece),
                a.piece,
            )
        };
    }
    Ok(())
}
