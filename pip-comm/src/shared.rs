//! The shared world state: one block that every rank of a world reads and writes.
//!
//! # Layout
//!
//! ```text
//! Shared (#[repr(C)])
//! ├── Header        magic "PIPCOMM\x01", version, struct sizes, number of ranks
//! ├── Params        eager limit, ring depth, copy thresholds (the creator's choice)
//! ├── ranks ───────> [RankShared; n]   per rank: its `sleeping` flag, its list of rendezvous
//! │                                     control blocks, its watchdog activity words
//! ├── rings ───────> [ring pointer; n*n]  (src*n + dst): the eager ring from src to dst,
//! │                                        null until src first sends to dst
//! ├── aborted        0, or 1 + the rank whose panic aborted the world
//! ├── bell           the futex word every sleeping rank waits on, and the sleeper count
//! ├── barrier        arrival counter and generation
//! ├── next_ctx       the next free communicator context pair
//! ├── lines          the pool of collective-line blocks (see `crate::coll_lines`)
//! └── stall          set once the watchdog has reported a deadlock
//! ```
//!
//! Each hot word sits in a cache-line pair of its own ([`CachePadded`]) so that ranks that
//! write different words never pass a line back and forth.
//!
//! # Who creates it
//!
//! [`run`](crate::run) creates the block before starting its threads and frees it after
//! joining them. In a PiP job, task 0 creates it and publishes its address with
//! `pip_core::named_export`; the other tasks import the address and check the [`Header`]
//! against their own build before touching anything else, since the tasks of an MPMD job may be
//! different programs. A task's block is never freed: tasks can hold pointers into it until the
//! job ends, and the job ends with them.
//!
//! # Rings
//!
//! A ring is allocated by its producer (the sending rank), the first time it sends to that
//! destination, and published with a `SeqCst` store of its pointer; its consumer loads the
//! pointer with `SeqCst` (an acquire, so it sees the zeroed, empty slots; sequentially
//! consistent for the sleep/wake handshake, which must also cover a ring that did not exist
//! when the consumer last looked). Only the producer ever stores the
//! pointer, so there is no race between two allocations.

use crate::config::Params;
use crate::eager;
use crate::rendezvous::CtlBlock;
use crate::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::ptr::NonNull;

/// `"PIPCOMM\x01"`: marks a pip-comm world.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"PIPCOMM\x01");
/// The version of the shared layout and protocols. Bumped on any change to either.
pub(crate) const VERSION: u32 = 4;

/// A value on cache lines of its own (128 bytes on x86-64: two 64-byte lines, so that the
/// adjacent-line prefetcher does not tie it to its neighbours either).
pub(crate) use crossbeam_utils::CachePadded;

/// The first bytes of the shared block: what every rank checks before using it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) magic: u64,
    pub(crate) version: u32,
    pub(crate) header_size: u32,
    pub(crate) shared_size: u32,
    pub(crate) rank_size: u32,
    pub(crate) slot_header_size: u32,
    pub(crate) params_size: u32,
    pub(crate) pointer_size: u32,
    pub(crate) nranks: u32,
}

impl Header {
    /// The header this build writes for a world of `nranks`.
    pub(crate) fn ours(nranks: u32) -> Header {
        Header {
            magic: MAGIC,
            version: VERSION,
            header_size: std::mem::size_of::<Header>() as u32,
            shared_size: std::mem::size_of::<Shared>() as u32,
            rank_size: std::mem::size_of::<RankShared>() as u32,
            slot_header_size: std::mem::size_of::<eager::SlotHeader>() as u32,
            params_size: std::mem::size_of::<Params>() as u32,
            pointer_size: std::mem::size_of::<usize>() as u32,
            nranks,
        }
    }

    /// Compares a header found in memory with ours; names the first field that differs.
    pub(crate) fn check(&self, ours: &Header) -> crate::Result<()> {
        let fields: [(&'static str, u64, u64); 9] = [
            ("the magic number", self.magic, ours.magic),
            (
                "the layout version",
                self.version.into(),
                ours.version.into(),
            ),
            (
                "the header size",
                self.header_size.into(),
                ours.header_size.into(),
            ),
            (
                "the world state size",
                self.shared_size.into(),
                ours.shared_size.into(),
            ),
            (
                "the per-rank state size",
                self.rank_size.into(),
                ours.rank_size.into(),
            ),
            (
                "the slot header size",
                self.slot_header_size.into(),
                ours.slot_header_size.into(),
            ),
            (
                "the parameter block size",
                self.params_size.into(),
                ours.params_size.into(),
            ),
            (
                "the pointer size",
                self.pointer_size.into(),
                ours.pointer_size.into(),
            ),
            (
                "the number of ranks",
                self.nranks.into(),
                ours.nranks.into(),
            ),
        ];
        for (field, theirs, ours) in fields {
            if theirs != ours {
                return Err(crate::Error::LayoutMismatch {
                    field,
                    ours,
                    theirs,
                });
            }
        }
        Ok(())
    }
}

/// What each rank owns in the shared block.
#[repr(C)]
pub(crate) struct RankShared {
    /// 1 while the rank is (about to be) asleep on the bell (the `wait` module's protocol).
    pub(crate) sleeping: CachePadded<AtomicU32>,
    /// The rank's rendezvous controls: a list of blocks that only this rank extends (see
    /// [`crate::rendezvous`]); freed with the world.
    pub(crate) ctl_blocks: AtomicPtr<CtlBlock>,
    /// What the rank is doing, for the deadlock watchdog (see [`Activity`]).
    pub(crate) activity: CachePadded<Activity>,
    /// The rank's part in the collective it is in (see [`crate::coll_slot`]).
    pub(crate) coll: crate::coll_slot::CollSlot,
    /// The copy work that other ranks may steal from this rank (see [`crate::steal`]).
    pub(crate) steal: crate::steal::StealQueue,
}

/// What a rank is blocked in, published for the deadlock watchdog (the `watchdog` module), as the
/// wait board's words (peer and tag `pip_core::waits::ANY` for any).
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Completed blocking waits; moves whenever the rank makes progress.
    pub(crate) progress: AtomicU64,
    /// 0 when not in a watched wait, else its `pip_core::waits::WaitKind` code.
    pub(crate) kind: AtomicU32,
    /// When the wait started (`CLOCK_MONOTONIC`, nanoseconds).
    pub(crate) since_ns: AtomicU64,
    /// The communicator context of the wait.
    pub(crate) ctx: AtomicU32,
    /// The peer (world rank, or a negative wildcard).
    pub(crate) peer: AtomicI32,
    /// The tag (or a wildcard).
    pub(crate) tag: AtomicI32,
}

/// The futex word that sleeping ranks wait on, and how many are asleep.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct Bell {
    /// Bumped by every wake; sleepers wait while it keeps the value they read.
    pub(crate) word: AtomicU32,
    /// How many ranks are (about to be) asleep.
    pub(crate) sleepers: AtomicU32,
}

/// The world barrier's words, each on its own lines.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct BarrierWords {
    /// How many ranks reached the current round.
    pub(crate) arrived: CachePadded<AtomicU32>,
    /// The round number; waiters poll it.
    pub(crate) generation: CachePadded<AtomicU32>,
}

/// The shared world state. See the module documentation.
#[repr(C)]
pub(crate) struct Shared {
    pub(crate) header: Header,
    pub(crate) params: Params,
    ranks: *mut RankShared,
    rings: *mut AtomicPtr<u8>,
    pub(crate) aborted: CachePadded<AtomicU32>,
    pub(crate) bell: CachePadded<Bell>,
    pub(crate) barrier: BarrierWords,
    /// The next free communicator context (contexts come in pairs; the world has 0 and 1).
    pub(crate) next_ctx: CachePadded<AtomicU32>,
    /// 1 once the watchdog has reported a deadlock of this world (it reports once).
    pub(crate) stall: CachePadded<AtomicU32>,
    /// The blocks of the small collectives (see [`crate::coll_lines`]).
    pub(crate) lines: crate::coll_lines::Pool,
}

// SAFETY: everything in `Shared` that ranks change is atomic; the raw pointers point to arrays
// that live as long as the block and are only read through shared references to atomics.
unsafe impl Sync for Shared {}
// SAFETY: as above; the block may be freed by a thread other than its creator (in `run`,
// after every rank has ended), and all ranks share one allocator there.
unsafe impl Send for Shared {}

impl Shared {
    /// Allocates and initialises a world of `nranks` ranks with `params`. Never freed unless
    /// passed to [`Shared::destroy`].
    pub(crate) fn create(nranks: u32, params: Params) -> NonNull<Shared> {
        let n = nranks as usize;
        let ranks: Box<[RankShared]> = (0..n)
            .map(|_| RankShared {
                sleeping: CachePadded::new(AtomicU32::new(0)),
                ctl_blocks: AtomicPtr::new(std::ptr::null_mut()),
                activity: CachePadded::new(Activity::default()),
                coll: Default::default(),
                steal: Default::default(),
            })
            .collect();
        let rings: Box<[AtomicPtr<u8>]> = (0..n * n)
            .map(|_| AtomicPtr::new(std::ptr::null_mut()))
            .collect();
        let shared = Box::new(Shared {
            header: Header::ours(nranks),
            params,
            ranks: Box::into_raw(ranks).cast::<RankShared>(),
            rings: Box::into_raw(rings).cast::<AtomicPtr<u8>>(),
            aborted: CachePadded::new(AtomicU32::new(0)),
            bell: CachePadded::new(Bell::default()),
            barrier: BarrierWords::default(),
            next_ctx: CachePadded::new(AtomicU32::new(2)),
            stall: CachePadded::new(AtomicU32::new(0)),
            lines: Default::default(),
        });
        NonNull::from(Box::leak(shared))
    }

    /// Frees a block made by [`Shared::create`], with its rings.
    ///
    /// # Safety
    ///
    /// `this` came from `create` in this program, no rank uses it any more, and it is not
    /// destroyed twice.
    pub(crate) unsafe fn destroy(this: NonNull<Shared>) {
        // SAFETY: the caller guarantees `this` is a live block from `create` (a leaked Box).
        let shared = unsafe { Box::from_raw(this.as_ptr()) };
        let n = shared.nranks() as usize;
        // SAFETY: nobody uses the world any more (caller).
        unsafe { shared.lines.free(n as u32) };
        for i in 0..n * n {
            // SAFETY: `rings` has n*n entries.
            // SYNC(shared#who-creates-it): the block is destroyed once no rank uses it; these loads
            // see every pointer stored (thread joins order them).
            let p = unsafe { &*shared.rings.add(i) }.load(Ordering::Acquire);
            if let Some(p) = NonNull::new(p) {
                // SAFETY: every non-null ring was made by `ring_or_create` with
                // `eager::alloc_ring`; nobody uses it any more (caller).
                unsafe { eager::free_ring(p, &shared.params) };
            }
        }
        for r in 0..n {
            // SAFETY: `ranks` has n entries.
            let mut b = unsafe { &*shared.ranks.add(r) }
                .ctl_blocks
                .load(Ordering::Acquire);
            while !b.is_null() {
                // SAFETY: every block was made by `Box::into_raw` in `Endpoint::take_ctl` and
                // linked once; nobody uses it any more (caller).
                let block = unsafe { Box::from_raw(b) };
                b = block.next.load(Ordering::Relaxed);
            }
        }
        // SAFETY: both arrays were made by `Box::into_raw` of boxed slices of these lengths.
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                shared.ranks,
                n,
            )));
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                shared.rings,
                n * n,
            )));
        }
    }

    /// Checks the header of a block found at `ptr` (published by another task) against this
    /// build, for a world of `nranks`.
    ///
    /// # Safety
    ///
    /// `ptr` points to at least a readable [`Header`] (anything exported under pip-comm's
    /// name is).
    pub(crate) unsafe fn check(ptr: NonNull<Shared>, nranks: u32) -> crate::Result<()> {
        // SAFETY: the caller guarantees a readable header; the magic comes first, so a block of
        // another kind is caught by it before other fields are trusted.
        let theirs = unsafe { std::ptr::read(ptr.as_ptr().cast::<Header>()) };
        theirs.check(&Header::ours(nranks))
    }

    /// The number of ranks.
    pub(crate) fn nranks(&self) -> u32 {
        self.header.nranks
    }

    /// The shared state of every rank, in rank order.
    pub(crate) fn ranks(&self) -> &[RankShared] {
        // SAFETY: `ranks` holds `nranks` initialised entries that live as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ranks, self.nranks() as usize) }
    }

    /// The shared state of `rank`.
    pub(crate) fn rank(&self, rank: u32) -> &RankShared {
        assert!(rank < self.nranks());
        // SAFETY: `ranks` holds `nranks` initialised entries that live as long as `self`.
        unsafe { &*self.ranks.add(rank as usize) }
    }

    fn ring_ptr(&self, src: u32, dst: u32) -> &AtomicPtr<u8> {
        let n = self.nranks();
        assert!(src < n && dst < n);
        // SAFETY: `rings` holds n*n entries that live as long as `self`.
        unsafe { &*self.rings.add((src * n + dst) as usize) }
    }

    /// The ring from `src` to `dst` if `src` has created it (consumer side).
    pub(crate) fn ring(&self, src: u32, dst: u32) -> Option<NonNull<u8>> {
        // SYNC(shared#rings): pairs with the store in `ring_or_create`, so the zeroed slots are
        // seen. SeqCst (not just acquire) because a rank about to sleep looks for new rings too:
        // its SeqCst `sleeping` store and this load, against the producer's SeqCst pointer store,
        // slot publish and `sleeping` load, must not both miss (the bell, in the `wait` module). It
        // runs once per ring and rank: the pointer is cached once seen.
        NonNull::new(self.ring_ptr(src, dst).load(Ordering::SeqCst))
    }

    /// The ring from `src` to `dst`, created if needed. Only rank `src` may call this.
    pub(crate) fn ring_or_create(&self, src: u32, dst: u32) -> NonNull<u8> {
        let slot = self.ring_ptr(src, dst);
        // SYNC(shared#rings): only the producer stores this pointer, so its own relaxed load sees
        // its own store.
        if let Some(p) = NonNull::new(slot.load(Ordering::Relaxed)) {
            return p;
        }
        let p = eager::alloc_ring(&self.params);
        // SYNC(shared#rings): pairs with the SeqCst load in `ring`.
        slot.store(p.as_ptr(), Ordering::SeqCst);
        p
    }

    /// The rank whose panic aborted the world, if any.
    pub(crate) fn aborted_by(&self) -> Option<u32> {
        // SYNC(wait#the-bell): the SeqCst load pairs with the CAS in `world::abort`, as a sleeper's
        // re-check before sleeping.
        match self.aborted.load(Ordering::SeqCst) {
            0 => None,
            r => Some(r - 1),
        }
    }
}

/// A world block owned by [`run`](crate::run): freed when the last reference goes.
#[derive(Debug)]
pub(crate) struct OwnedShared(NonNull<Shared>);

// SAFETY: `Shared` is Sync and Send (see above); the pointer is owned.
unsafe impl Send for OwnedShared {}
// SAFETY: as above.
unsafe impl Sync for OwnedShared {}

impl OwnedShared {
    pub(crate) fn new(nranks: u32, params: Params) -> OwnedShared {
        OwnedShared(Shared::create(nranks, params))
    }

    pub(crate) fn ptr(&self) -> NonNull<Shared> {
        self.0
    }

    pub(crate) fn get(&self) -> &Shared {
        // SAFETY: the block lives until `self` is dropped.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for OwnedShared {
    fn drop(&mut self) {
        // SAFETY: made by `create`, dropped once; no rank can use it any more because every
        // `Communicator` holds a reference to this owner.
        unsafe { Shared::destroy(self.0) }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("header", &self.header)
            .field("params", &self.params)
            .field("aborted", &self.aborted_by())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_mismatch_names_the_field() {
        let ours = Header::ours(4);
        assert!(ours.check(&ours).is_ok());
        let mut theirs = ours;
        theirs.version += 1;
        let e = theirs.check(&ours).unwrap_err();
        assert!(
            matches!(
                e,
                crate::Error::LayoutMismatch {
                    field: "the layout version",
                    ..
                }
            ),
            "{e}"
        );
        let mut theirs = ours;
        theirs.magic = 0;
        assert!(matches!(
            theirs.check(&ours),
            Err(crate::Error::LayoutMismatch {
                field: "the magic number",
                ..
            })
        ));
        assert!(matches!(
            Header::ours(3).check(&ours),
            Err(crate::Error::LayoutMismatch {
                field: "the number of ranks",
                theirs: 3,
                ours: 4
            })
        ));
    }

    #[test]
    fn create_and_destroy_with_rings() {
        let owned = OwnedShared::new(3, Params::from_env().unwrap());
        let s = owned.get();
        assert!(s.ring(0, 1).is_none());
        let r = s.ring_or_create(0, 1);
        assert_eq!(s.ring(0, 1), Some(r));
        assert_eq!(s.ring_or_create(0, 1), r);
        assert_eq!(r.as_ptr() as usize % 128, 0);
        // SAFETY: `owned` is a live block.
        assert!(unsafe { Shared::check(owned.ptr(), 3) }.is_ok());
    }
}
