//! The board's bytes: its header and its slots (see the parent module's layout section).

use super::facts::{FACTS_BYTES, PROGRAM_BYTES};
#[cfg(doc)]
use super::{WaitKind, ANY, BOARD_VERSION, NONE, ROOT};
use super::{BOARD_MAGIC, NAME_BYTES};
use crate::sync::seqlock::SeqLock;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64};

pub use crate::abi::BoardHeader;

/// One task's published wait. All fields are written by the waiting thread only.
#[repr(C, align(64))]
#[derive(Debug)]
pub struct Slot {
    /// The slot's sequence lock: even when stable, odd while being written.
    // SYNC(waits#sequence-lock): `sync::seqlock`'s word: the writer's try_write and the
    // guard's drop bracket its field stores; readers in other processes copy the slot twice
    // (`seqlock::read_bytes`).
    pub seq: SeqLock,
    /// A [`WaitKind`] code; 0 when the task is not in a published wait.
    // SYNC(waits#sequence-lock): this field and the others up to `name` are written Relaxed
    // between the two `seq` stores, by the slot's writer only.
    pub kind: AtomicU32,
    /// The thread that waits (Linux tid).
    pub tid: AtomicI32,
    /// The task (pipid) or world rank waited for; [`ANY`] for any, [`ROOT`] for the root,
    /// [`NONE`] when the kind has no peer.
    pub peer: AtomicI32,
    /// The communicator context (pip-comm waits).
    pub ctx: AtomicU32,
    /// The tag ([`ANY`] for any), or a count of requests.
    pub tag: AtomicI32,
    /// Parties of a barrier; 0 when not applicable.
    pub parties: AtomicU32,
    /// Reserved, zero.
    pub reserved: AtomicU32,
    /// What identifies a barrier or collective, so that a tool can group the parties that
    /// wait in the same one (an address, or a context and sequence number).
    pub object: AtomicU64,
    /// When the wait started (`CLOCK_MONOTONIC`, nanoseconds).
    pub since_ns: AtomicU64,
    /// A name (the name being imported), NUL-padded.
    pub name: [AtomicU64; NAME_BYTES / 8],
    /// Moves whenever the slot's task makes progress: a published wait ended, or a wait took
    /// a step (see the module documentation). Written by the task only, read without the
    /// sequence lock.
    // SYNC(waits#progress): Relaxed load and store by the slot's task only (a lost update
    // still moves it); tools compare two copies taken some time apart.
    pub progress: AtomicU64,
}

pub(crate) const HEADER: usize = std::mem::size_of::<BoardHeader>();
pub(crate) const SLOT: usize = std::mem::size_of::<Slot>();
const _: () = assert!(HEADER == 64 && SLOT == 128);

/// Where the facts block of a board for `ntasks` tasks starts: after the slots.
pub(crate) fn facts_offset(ntasks: usize) -> usize {
    HEADER + (ntasks + 1) * SLOT
}

/// Where the program table of a board for `ntasks` tasks starts: after the facts block.
pub(crate) fn programs_offset(ntasks: usize) -> usize {
    facts_offset(ntasks) + FACTS_BYTES
}

/// The bytes a board for `ntasks` tasks takes: header, slots, facts, program table.
pub fn board_len(ntasks: usize) -> usize {
    programs_offset(ntasks) + ntasks * PROGRAM_BYTES
}

/// The slot of `index` on the board at `header`, if the board has one.
///
/// # Safety
///
/// `header` is null or points to a live board (its header followed by its slots).
pub(crate) unsafe fn slot_of<'a>(header: *const BoardHeader, index: usize) -> Option<&'a Slot> {
    if header.is_null() {
        return None;
    }
    // SAFETY: per the contract, a live board; its header is never written after creation.
    let h = unsafe { &*header };
    if h.magic != BOARD_MAGIC || h.slot_size as usize != SLOT || index >= h.nslots as usize {
        return None;
    }
    // SAFETY: index < nslots, so the slot lies inside the mapping.
    Some(unsafe { &*((header as *const u8).add(HEADER + index * SLOT) as *const Slot) })
}
