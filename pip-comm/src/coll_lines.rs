//! Collective lines: the per-communicator block through which small collectives move their
//! payloads, one cache-line transfer in and one out per rank, and the flag words that order
//! them.
//!
//! This module owns the block's layout, the pool of blocks in the shared world block, and
//! every atomic operation on them. The collectives that use it (who writes, who reads whom,
//! the copies and reductions) are in the `collective` module's `small` submodule.
//!
//! # Layout
//!
//! A communicator of `m` ranks that has a block owns, for each of its ranks `r`, [`REGIONS`]
//! (`R`, 4) *regions*, used in turn: collective number `k` uses region `(r, k % R)`. A region is
//! a [`Head`] (the flag word, and two shape words: the element count, the element size and
//! the operation code) followed by [`capacity`] bytes of payload. Region `(r, i)` starts at
//! `R r + i` strides from the block's base; the stride is a multiple of 128 bytes, so regions
//! never share a line (nor a pair of lines, for the adjacent-line prefetcher), and the
//! payload's first 32 bytes share the flag's line: a payload of up to 32 bytes travels with
//! its flag in one line. Only rank `r` writes its regions.
//!
//! A flag word is `(seq, code)`: the number of the collective the region's owner last
//! published in it (high 32 bits; numbers wrap and are compared modulo 2^32, see
//! [`at_least`]) and what the owner did in it (low 32 bits: the collective's kind, its root,
//! and the [`LARGE`] and [`FAILED`] bits). Every region starts as `(0, 0)`. Below,
//! `flag(r, j)` is the flag of the region collective `j` uses, `(r, j % R)`.
//!
//! # Protocol
//!
//! Every rank numbers the collectives it calls on a communicator 1, 2, 3, ... (`k`); ranks
//! call collectives in the same order, so one call has one number on every rank. In
//! collective `k`, whatever its kind, size and role, rank `q`:
//!
//! 1. **Clear.** Makes sure every rank `r` of the communicator has published collective
//!    `k - R + 1`. It skips this when it already knows it: it keeps the highest number every
//!    rank is known to have published (after its own collective `j` read every rank's flag of
//!    `j`, that is `j`). Otherwise it waits until every rank has published `k - 1`
//!    (`flag(r, k - 1) >= k - 1`, acquire loads), more than it needs: that one look clears this
//!    collective and the next `R - 2` as well, so a rooted collective's root, which reads
//!    nobody, looks at its readers' flags once every `R - 1` collectives, and a root that ran
//!    ahead of its readers is brought back to one collective ahead whenever it looks.
//! 2. **Write.** If it contributes a payload, writes it (plain stores) into the payload of its
//!    region `(q, k % R)`, and the shape words (relaxed stores).
//! 3. **Publish.** Stores `(k, code)` in `flag(q, k)` (`SeqCst`: a release of step 2, and the
//!    waker's half of the bell's sleep/wake handshake, see the `wait` module), then wakes the
//!    communicator's ranks that sleep.
//! 4. **Read.** For each rank `r` whose payload it needs: waits until `flag(r, k) >= k`
//!    (acquire; `SeqCst` when checked before sleeping), compares the code and the shape with
//!    its own (a difference is an error, and nothing is read), and reads the payload of region
//!    `(r, k % R)`.
//!
//! Then it returns: its own buffers were never lent to anyone, so nothing waits for readers.
//!
//! ## Why `R` regions suffice
//!
//! *Claim:* while rank `q` is in step 4 of collective `k`, every flag `flag(r, k)` that it
//! finds `>= k` holds exactly `(k, code of r's collective k)`, and region `(r, k % R)`'s
//! payload holds what `r` wrote in step 2 of `k`; nobody writes them.
//!
//! *Proof.* Rank `r` writes region `(r, k % R)` again only in collective `k + R`, after its
//! step 1 of `k + R`, which makes sure `q` has published `k + 1` (an acquire load that reads
//! `q`'s store of `k + 1` or of a later number, which `q` makes later still). Rank `q`
//! publishes `k + 1` in its step 3 of collective `k + 1`, after its step 4 of `k` in program
//! order; so `q`'s reads of collective `k` happen before `r`'s writes of `k + R`. Before that,
//! `r`'s last store to the flag was `(k, ...)`, released after its payload. ∎
//!
//! So the regions are safe for every collective, rooted or not: a rank's publication of
//! `k + 1` is its acknowledgement of everything it read in `k`, and step 1 waits for those
//! acknowledgements before a region is overwritten (it waits for more than the proof needs,
//! `k - 1` rather than `k - R + 1`, which the proof allows). A rooted collective's root may run
//! up to `R - 1` collectives ahead of a slow reader between two looks, which is the flow
//! control.
//!
//! ## Progress
//!
//! No step waits for a later step of another rank: step 1 of `k` waits for steps 3 of at most
//! `k - 1`, step 4 of `k` for steps 3 of `k`, and step 3 follows only step 1 and local work. By induction on `k`, every rank publishes every collective it calls, whatever the
//! others' kinds, roots or sizes: a disagreement ends in an error on some rank (the one that
//! compares the codes and shapes in step 4), never in a hang.
//!
//! ## The general path
//!
//! Payloads larger than the region are moved by the general protocol (the `coll_slot`
//! module): the ranks lend their buffers. Such a collective still takes its number `k` and
//! does steps 1 and 3 here, with the [`LARGE`] bit in its code and no payload, so that the
//! numbering stays the same on every rank. A rank that took the small path and finds a peer's
//! `LARGE` code (or the reverse: a rank of the general path that finds, when it is about to
//! sleep while waiting for a peer's descriptor or for its readers, a peer's flag of `k` without
//! `LARGE`) reports the mismatch instead of waiting for ever. The general path looks only
//! before sleeping (`SeqCst` loads, the sleeper's half of the bell's handshake, so the small
//! path's wake is never lost), so that its polls never pull the peers' flag lines; it skips
//! step 1 of the next collective when every other rank read its slot or had its slot read
//! (each published its number before its descriptor).
//!
//! ## Abort
//!
//! Every wait of steps 1 and 4 is the rank's usual wait (the `waiter` module: spin, yield,
//! sleep on the bell), abortable: when a rank panics, the others return
//! [`Error::Aborted`](crate::Error::Aborted). No rank ever reads another rank's own buffers
//! here, so a rank that returns early leaves nothing behind that another could touch.
//!
//! # Blocks and their pool
//!
//! Blocks are allocated lazily, sized for the world (every communicator is at most the world),
//! and kept in a pool of [`POOL`] entries in the shared world block. Entry 0 is the world's.
//! A new communicator's leader takes a free entry (a compare-exchange of its user count from 0
//! to the communicator's size, acquire), zeroes the flags of the regions the communicator will
//! use (relaxed: the message that hands the entry's number to the other ranks releases them),
//! and sends the number with the communicator's context. Each rank gives the entry back when
//! it drops its communicator (a release decrement); the entry is free again at 0. A
//! communicator made when every entry is taken gets none and uses the general path for all
//! its collectives. A block is freed with the world ([`Shared`](crate::shared::Shared)'s
//! destruction), never before, so a pool entry's memory can be reused by later communicators.
//!
//! The region's payload, [`capacity`], is also the size limit of the small path: 2 KiB per
//! rank up to 16 ranks (above it, staging a payload and copying it out again costs more than
//! the general path saves: a 4 KiB broadcast took 0.56 us this way against 0.34 us lending the
//! root's buffer), shrinking as the world grows (32 KiB divided by the number of ranks) down
//! to 256 bytes per rank from 128 ranks. A block takes four strides per world rank: 8704 bytes
//! per rank up to 16 ranks (136 KiB for 16), 1536 bytes per rank from 128 ranks (192 KiB for
//! 128, 6 MiB for 4096, the most), allocated only when a communicator first uses it.

use crate::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use crossbeam_utils::CachePadded;
use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::NonNull;

/// The number of blocks a world can hand out at once (the world's own included).
pub(crate) const POOL: usize = 16;

/// The regions per rank, used in turn (see the module documentation). The loom models check
/// the smallest instance of the protocol, two.
#[cfg(not(loom))]
pub(crate) const REGIONS: u32 = 4;
/// The regions per rank, used in turn (see the module documentation). The loom models check
/// the smallest instance of the protocol, two.
#[cfg(loom)]
pub(crate) const REGIONS: u32 = 2;

/// The code bit of a collective that took the general path (no payload here).
pub(crate) const LARGE: u32 = 1 << 23;
/// The code bit of a rank whose own arguments were wrong (its payload must not be used).
pub(crate) const FAILED: u32 = 1 << 22;

/// Payload bytes a region holds in a world of `n` ranks (see the module documentation).
pub(crate) fn capacity(n: u32) -> usize {
    ((32usize << 10) / n.max(1) as usize).clamp(256, 2048) & !63
}

/// The start of a region: its flag word and its shape words. The payload follows at
/// [`DATA_AT`].
#[repr(C)]
#[derive(Debug)]
pub(crate) struct Head {
    flag: AtomicU64,
    count: AtomicU64,
    elem_op: AtomicU64,
    /// Under loom only: stands for the payload, so that loom checks that every access to it is
    /// ordered by the protocol (written by the owner before publishing, read after acquiring).
    #[cfg(loom)]
    pub(crate) contents: loom::cell::UnsafeCell<()>,
}

/// The payload's offset in a region (16-byte aligned).
pub(crate) const DATA_AT: usize = std::mem::size_of::<Head>().next_multiple_of(16);

/// The distance between regions in a world of `n` ranks.
fn stride(n: u32) -> usize {
    (DATA_AT + capacity(n)).next_multiple_of(128)
}

fn layout(n: u32) -> Layout {
    Layout::from_size_align(stride(n) * (REGIONS * n) as usize, 128).expect("collective block size")
}

/// `seq >= k` for collective numbers that wrap (the ranks are never 2^31 collectives apart).
#[inline]
pub(crate) fn at_least(seq: u32, k: u32) -> bool {
    seq.wrapping_sub(k) as i32 >= 0
}

/// The collective number of a flag word.
#[inline]
pub(crate) fn seq_of(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The code of a flag word.
#[inline]
pub(crate) fn code_of(word: u64) -> u32 {
    word as u32
}

impl Head {
    /// Step 3: publishes `(k, code)`. The caller then wakes the ranks that may wait for it.
    #[inline]
    pub(crate) fn publish(&self, k: u32, code: u32) {
        // SYNC(coll_lines#protocol): step 3: releases the payload and shape written in step 2
        // to the acquire loads of steps 1 and 4; SeqCst for the bell's handshake with sleepers.
        self.flag
            .store((u64::from(k) << 32) | u64::from(code), Ordering::SeqCst);
    }

    /// The flag word (steps 1 and 4; acquire, `SeqCst` when checked before sleeping).
    #[inline]
    pub(crate) fn word(&self, seqcst: bool) -> u64 {
        let order = if seqcst {
            Ordering::SeqCst
        } else {
            Ordering::Acquire
        };
        // SYNC(coll_lines#protocol): steps 1 and 4: pairs with the SeqCst store in `publish`;
        // the SeqCst variant is the sleeper's re-check of the bell's handshake.
        self.flag.load(order)
    }

    /// Step 2: the shape of the payload (relaxed, released by `publish`).
    #[inline]
    pub(crate) fn set_shape(&self, count: usize, elem: usize, op: u32) {
        // SYNC(coll_lines#protocol): step 2: only the owner writes; released by step 3.
        self.count.store(count as u64, Ordering::Relaxed);
        // SYNC(coll_lines#protocol): as above.
        self.elem_op
            .store(((elem as u64) << 32) | u64::from(op), Ordering::Relaxed);
    }

    /// Step 4: the shape `(count, elem, op)` published with the flag this reader acquired.
    #[inline]
    pub(crate) fn shape(&self) -> (u64, u64, u32) {
        // SYNC(coll_lines#protocol): step 4: acquired with the flag word.
        let eo = self.elem_op.load(Ordering::Relaxed);
        // SYNC(coll_lines#protocol): as above.
        (self.count.load(Ordering::Relaxed), eo >> 32, eo as u32)
    }

    /// Zeroes the flag (a pool entry taken for a new communicator; released by the message
    /// that hands the entry over).
    fn reset(&self) {
        // SYNC(coll_lines#blocks-and-their-pool): nobody else uses the block (user count 0 was
        // acquired); the hand-over message releases it.
        self.flag.store(0, Ordering::Relaxed);
    }
}

/// A communicator's view of a block: its regions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lines {
    base: NonNull<u8>,
    stride: usize,
    /// Payload bytes per region.
    pub(crate) cap: usize,
}

impl Lines {
    /// The head of rank `r`'s region for collective `k`, `(r, k % REGIONS)`. `r` must be a
    /// rank of the communicator.
    #[inline]
    pub(crate) fn head(&self, r: u32, k: u32) -> &Head {
        // SAFETY: the block holds `REGIONS` regions per world rank, each starting with a
        // `Head` written in `alloc`; communicators have at most the world's ranks, and it lives
        // as long as the world (freed only by `Pool::free`).
        unsafe { &*self.region(r, k).cast::<Head>() }
    }

    /// The payload of rank `r`'s region for collective `k`: `cap` bytes, 16-byte aligned;
    /// only rank `r` writes it, by the protocol.
    #[inline]
    pub(crate) fn data(&self, r: u32, k: u32) -> *mut u8 {
        self.region(r, k).wrapping_add(DATA_AT)
    }

    #[inline]
    fn region(&self, r: u32, k: u32) -> *mut u8 {
        let i = (REGIONS * r + k % REGIONS) as usize;
        self.base.as_ptr().wrapping_add(i * self.stride)
    }
}

/// A communicator's block, as one rank holds it: the pool entry, the regions, the number of
/// the collective it called last, and the last number every rank is known to have published
/// (so that step 1 can be skipped).
#[derive(Debug)]
pub(crate) struct CommLines {
    /// The pool entry (given back when the communicator is dropped).
    pub(crate) entry: usize,
    pub(crate) lines: Lines,
    /// The number of the last collective this rank called on the communicator.
    pub(crate) seq: Cell<u32>,
    /// Every rank of the communicator has published at least this number.
    pub(crate) low: Cell<u32>,
}

impl CommLines {
    /// The block of pool entry `entry` for a communicator of a world of `n` ranks.
    pub(crate) fn new(pool: &Pool, entry: usize, n: u32) -> CommLines {
        CommLines {
            entry,
            lines: pool.lines(entry, n),
            seq: Cell::new(0),
            low: Cell::new(0),
        }
    }
}

/// The entry number that says "no block" in a hand-over message.
pub(crate) const NO_ENTRY: u32 = u32::MAX;

/// One entry of the pool: the block, once allocated, and how many ranks use it.
#[derive(Debug, Default)]
struct Entry {
    users: AtomicU32,
    block: AtomicPtr<u8>,
}

/// The pool of blocks in the shared world block (see the module documentation).
#[derive(Debug)]
pub(crate) struct Pool {
    entries: [CachePadded<Entry>; POOL],
}

impl Default for Pool {
    fn default() -> Pool {
        Pool {
            entries: std::array::from_fn(|_| CachePadded::new(Entry::default())),
        }
    }
}

impl Pool {
    /// The regions of entry `i` in a world of `n` ranks, allocating the block on first use
    /// (any rank may; the first pointer stored wins, the others free their copy).
    pub(crate) fn lines(&self, i: usize, n: u32) -> Lines {
        let slot = &self.entries[i].block;
        // SYNC(coll_lines#blocks-and-their-pool): pairs with the compare-exchange below: the
        // block's heads were written before its pointer was published.
        let mut p = slot.load(Ordering::Acquire);
        if p.is_null() {
            let fresh = alloc(n);
            // SYNC(coll_lines#blocks-and-their-pool): publishes the initialised block; the
            // loser acquires the winner's.
            p = match slot.compare_exchange(
                std::ptr::null_mut(),
                fresh.as_ptr(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => fresh.as_ptr(),
                Err(winner) => {
                    // SAFETY: our own block, never published.
                    unsafe { free(fresh, n) };
                    winner
                }
            };
        }
        Lines {
            // SAFETY: never null here (allocated above or by another rank).
            base: unsafe { NonNull::new_unchecked(p) },
            stride: stride(n),
            cap: capacity(n),
        }
    }

    /// Takes a free entry (not the world's) for a new communicator of `m` ranks and zeroes
    /// the flags of its first `m` ranks' regions; `None` when every entry is taken.
    pub(crate) fn take(&self, m: u32, n: u32) -> Option<usize> {
        let i = (1..POOL).find(|&i| {
            // SYNC(coll_lines#blocks-and-their-pool): acquires the last user's release
            // decrement, so its accesses to the block are over.
            self.entries[i]
                .users
                .compare_exchange(0, m, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        let lines = self.lines(i, n);
        for r in 0..m {
            for k in 0..REGIONS {
                lines.head(r, k).reset();
            }
        }
        Some(i)
    }

    /// Gives entry `i` back, for one rank of its communicator.
    pub(crate) fn give_back(&self, i: usize) {
        if i != 0 {
            // SYNC(coll_lines#blocks-and-their-pool): releases this rank's accesses to the
            // block to the next taker's acquire.
            self.entries[i].users.fetch_sub(1, Ordering::Release);
        }
    }

    /// Frees every allocated block of a world of `n` ranks.
    ///
    /// # Safety
    ///
    /// Nobody uses the world any more.
    pub(crate) unsafe fn free(&self, n: u32) {
        for e in &self.entries {
            // SYNC(coll_lines#blocks-and-their-pool): the world is over; thread joins ordered
            // every store before this load.
            let p = e.block.load(Ordering::Acquire);
            if let Some(p) = NonNull::new(p) {
                // SAFETY: made by `alloc(n)` for this world; nobody uses it (caller).
                unsafe { free(p, n) };
            }
        }
    }
}

/// Allocates a block for a world of `n` ranks, every flag `(0, 0)`.
fn alloc(n: u32) -> NonNull<u8> {
    let layout = layout(n);
    // SAFETY: the layout has a non-zero size (at least two regions of 128 bytes).
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    let Some(base) = NonNull::new(p) else {
        std::alloc::handle_alloc_error(layout)
    };
    let st = stride(n);
    for i in 0..(REGIONS * n) as usize {
        // SAFETY: region `i` lies inside the fresh allocation, 128-byte aligned, and nobody
        // else knows the block yet. (Zeroed memory is already a valid head; writing it keeps the
        // atomics properly made values, which the loom models need.)
        unsafe {
            base.as_ptr().add(i * st).cast::<Head>().write(Head {
                flag: AtomicU64::new(0),
                count: AtomicU64::new(0),
                elem_op: AtomicU64::new(0),
                #[cfg(loom)]
                contents: loom::cell::UnsafeCell::new(()),
            })
        };
    }
    base
}

/// Frees a block made by `alloc(n)`.
///
/// # Safety
///
/// `p` came from `alloc(n)` and nobody uses it any more.
unsafe fn free(p: NonNull<u8>, n: u32) {
    // SAFETY: allocated with this layout (caller); the heads need no drop (under loom their
    // cells are leaked, which loom accepts).
    unsafe { std::alloc::dealloc(p.as_ptr(), layout(n)) };
}

#[cfg(test)]
mod tests;
