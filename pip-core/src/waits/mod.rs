//! The wait board: what each task (and the root) is blocked on, published where `pips waits`
//! can read it from outside the job.
//!
//! # Why and where
//!
//! A hung job is a question of who waits for whom. The kernel tells a tool which threads sleep
//! on a futex or a pipe, but not what a rank is waiting *for* (a message from rank 3 with tag
//! 7, a barrier, a name to be exported). So the runtime says it: when a wait leaves its
//! spinning phase and starts to yield or sleep, the waiting thread writes one *slot* of the
//! job's wait board, and clears it when the wait ends. Waits that end while spinning, which
//! is every wait on the messaging fast path, never touch the board.
//!
//! The board is a `memfd` named [`BOARD_NAME`] that the root creates in [`Root::init`] and maps
//! shared; its address travels to tasks in the root/task ABI. A tool reads it through the
//! root's `/proc/PID/fd/N` (or, if a task closed that fd, `/proc/PID/mem` at the mapping), which
//! the kernel allows only to a caller with ptrace read access to the root: the same user, or
//! root. Nothing else can see it.
//!
//! # Layout
//!
//! A [`BoardHeader`] (64 bytes: magic, version, slot size, slot count, root pid), then one
//! 128-byte [`Slot`] per task (slot `i` for pipid `i`) and one for the root (the last).
//!
//! # Progress
//!
//! Each slot also carries a progress counter, outside the sequence lock: its task adds 1 every
//! time a published wait ends and whenever a wait moves something along (pip-comm does so when
//! a waiting rank takes in messages or copies data). A tool compares two snapshots some time
//! apart: a wait that is still there, started at the same time, with the same counter, made
//! no progress in between (see `pips waits`).
//!
//! # Boards of thread-rank programs
//!
//! A program that runs ranks as its own threads (`pip_comm::run`) is no PiP job, but it can
//! make a board all the same with [`OwnBoard`]: each rank thread [enters](OwnBoard::enter) it
//! with its rank as the slot, and [`publish`] writes there.
//!
//! # Protocol (a sequence lock, one writer per slot)
//!
//! * **Writer** (the waiting thread): takes the slot by moving `seq` from even to odd with a
//!   compare-exchange (Acquire); if it is odd, another thread of the same task is writing and
//!   this wait is not published. It writes the fields (Relaxed), then stores `seq + 1`, even
//!   again (Release). Ending a wait does the same with `kind = 0`, and only if the slot still
//!   holds this thread's wait (its `tid`): if two threads of one task wait at once, the slot
//!   shows the later one.
//! * **Reader** (another process, copying the bytes with `pread`): copies the slot twice and
//!   keeps it only when `seq` is even and both copies are equal; otherwise it tries again a
//!   few times and then reports the slot as busy. A copy made while a writer was between its
//!   two `seq` stores either has an odd `seq` or differs from the other copy.
//!
//! The board is advisory: it never decides anything in the job, so a torn or stale read can
//! only mislead the tool for one snapshot.
//!
//! [`Root::init`]: crate::Root::init

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

mod read;
mod text;
pub use read::{read_board, BoardHeaderInfo};

/// The name of the board's memfd (`/memfd:pip-rs-waits` in procfs).
pub const BOARD_NAME: &str = "pip-rs-waits";
/// `"PIPWAIT\x01"`: marks a [`BoardHeader`].
pub const BOARD_MAGIC: u64 = u64::from_le_bytes(*b"PIPWAIT\x01");
/// The board layout's version.
pub const BOARD_VERSION: u32 = 2;
/// The bytes of a name kept in a slot (longer names are cut).
pub const NAME_BYTES: usize = 56;

/// The start of the board.
#[repr(C)]
#[derive(Debug)]
pub struct BoardHeader {
    /// [`BOARD_MAGIC`].
    pub magic: u64,
    /// [`BOARD_VERSION`].
    pub version: u32,
    /// `size_of::<Slot>()`.
    pub slot_size: u32,
    /// Slots that follow: the number of tasks plus one for the root.
    pub nslots: u32,
    /// The root's process id.
    pub root_pid: i32,
    /// Reserved, zero.
    pub reserved: [u32; 10],
}

/// One task's published wait. All fields are written by the waiting thread only.
#[repr(C, align(64))]
#[derive(Debug)]
pub struct Slot {
    /// Even when stable, odd while being written.
    pub seq: AtomicU32,
    /// A [`WaitKind`] code; 0 when the task is not in a published wait.
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
    pub progress: AtomicU64,
}

/// `peer` value: any task or rank.
pub const ANY: i32 = -1;
/// `peer` value: the kind has no peer.
pub const NONE: i32 = -2;
/// `peer` value: the root.
pub const ROOT: i32 = -3;

/// What a published wait is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum WaitKind {
    /// A pip-comm receive (`peer` = source world rank or [`ANY`], `tag`, `ctx`).
    Recv = 1,
    /// A pip-comm probe.
    Probe = 2,
    /// A pip-comm rendezvous or synchronous send waiting for its receiver (`peer`).
    Send = 3,
    /// A pip-comm send waiting for room in the ring to `peer`, which does not drain it.
    RingFull = 4,
    /// A pip-comm wait for requests (`tag` = how many).
    Requests = 5,
    /// A pip-comm barrier (`object` = context and round, `parties`).
    CommBarrier = 6,
    /// A pip-comm collective waiting for `peer` (`object` = context and sequence).
    Collective = 7,
    /// Another pip-comm wait.
    CommOther = 8,
    /// A pip-core named import (`peer` = the exporter, `name`).
    Import = 16,
    /// A pip-core barrier (`object` = its address, `parties`).
    Barrier = 17,
    /// The root waiting for a task to end (`peer`, or [`ANY`]).
    TaskEnd = 18,
}

impl WaitKind {
    /// The kind for a code, if it is one.
    pub fn from_code(code: u32) -> Option<WaitKind> {
        use WaitKind::*;
        Some(match code {
            1 => Recv,
            2 => Probe,
            3 => Send,
            4 => RingFull,
            5 => Requests,
            6 => CommBarrier,
            7 => Collective,
            8 => CommOther,
            16 => Import,
            17 => Barrier,
            18 => TaskEnd,
            _ => return None,
        })
    }

    /// A short name, as `pips waits` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitKind::Recv => "recv",
            WaitKind::Probe => "probe",
            WaitKind::Send => "send",
            WaitKind::RingFull => "send (ring full)",
            WaitKind::Requests => "wait requests",
            WaitKind::CommBarrier => "comm barrier",
            WaitKind::Collective => "collective",
            WaitKind::CommOther => "comm wait",
            WaitKind::Import => "import",
            WaitKind::Barrier => "pip barrier",
            WaitKind::TaskEnd => "wait task",
        }
    }
}

/// A wait to publish, or one read back from a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitInfo {
    /// What kind of wait.
    pub kind: WaitKind,
    /// The peer ([`ANY`], [`ROOT`], [`NONE`], or a pipid / world rank).
    pub peer: i32,
    /// The communicator context (pip-comm), else 0.
    pub ctx: u32,
    /// The tag, or [`ANY`]; for [`WaitKind::Requests`] the number of requests.
    pub tag: i32,
    /// Parties of a barrier, else 0.
    pub parties: u32,
    /// The barrier's or collective's identity, else 0.
    pub object: u64,
    /// A name (for imports), else empty.
    pub name: String,
}

impl WaitInfo {
    /// A wait of `kind` with no peer, tag or name.
    pub fn new(kind: WaitKind) -> WaitInfo {
        WaitInfo {
            kind,
            peer: NONE,
            ctx: 0,
            tag: ANY,
            parties: 0,
            object: 0,
            name: String::new(),
        }
    }
}

/// A slot read back from a board: which task, which thread, what, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedWait {
    /// The slot's pipid, or `None` for the root's slot.
    pub pipid: Option<usize>,
    /// The waiting thread.
    pub tid: i32,
    /// The wait.
    pub wait: WaitInfo,
    /// When it started (`CLOCK_MONOTONIC`, nanoseconds).
    pub since_ns: u64,
    /// The slot's progress counter (see the module documentation).
    pub progress: u64,
}

const HEADER: usize = std::mem::size_of::<BoardHeader>();
const SLOT: usize = std::mem::size_of::<Slot>();
const _: () = assert!(HEADER == 64 && SLOT == 128);

/// The bytes a board for `ntasks` tasks takes.
pub fn board_len(ntasks: usize) -> usize {
    HEADER + (ntasks + 1) * SLOT
}

/// A board this process created (the root's).
#[derive(Debug)]
pub(crate) struct Board {
    /// The shared mapping of the memfd, kept for the life of the process (tasks hold its
    /// address).
    map: memmap2::MmapMut,
    /// The memfd (closed at `Root::fin`; the mapping stays).
    file: Option<std::fs::File>,
}

impl Board {
    /// Creates and maps a board for `ntasks` tasks. `None` if the system refuses (the job
    /// then runs without one: the board is advisory).
    pub(crate) fn create(ntasks: usize) -> Option<Board> {
        use std::os::fd::FromRawFd;
        let name = std::ffi::CString::new(BOARD_NAME).ok()?;
        // SAFETY: memfd_create with a valid NUL-terminated name.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` is the memfd just created, owned by nobody else.
        let file = unsafe { std::fs::File::from_raw_fd(fd) };
        let len = board_len(ntasks);
        file.set_len(len as u64).ok()?;
        // SAFETY: a shared mapping of our own fresh memfd: nothing else truncates or remaps
        // it, and all access to the slots goes through atomics (see the module docs).
        let mut map = unsafe { memmap2::MmapOptions::new().len(len).map_mut(&file) }.ok()?;
        let header = BoardHeader {
            magic: BOARD_MAGIC,
            version: BOARD_VERSION,
            slot_size: SLOT as u32,
            nslots: (ntasks + 1) as u32,
            // SAFETY: getpid cannot fail.
            root_pid: unsafe { libc::getpid() },
            reserved: [0; 10],
        };
        // SAFETY: the mapping is `len >= HEADER` bytes and page-aligned (so aligned for the
        // header), and no other thread knows it yet.
        unsafe { std::ptr::write(map.as_mut_ptr() as *mut BoardHeader, header) };
        Some(Board {
            map,
            file: Some(file),
        })
    }

    /// The address tasks get through the ABI.
    pub(crate) fn as_ptr(&self) -> *mut BoardHeader {
        self.map.as_ptr() as *mut BoardHeader
    }

    /// Closes the fd (at `Root::fin`); the mapping stays, since tasks may still point at it.
    pub(crate) fn close_fd(&mut self) {
        self.file = None;
    }

    #[cfg(test)]
    fn bytes(&self) -> &[u8] {
        &self.map
    }
}

thread_local! {
    /// The board and slot the calling thread publishes in when it is a rank of an
    /// [`OwnBoard`] (set by [`OwnBoard::enter`]).
    static OWN_SLOT: std::cell::RefCell<Option<(std::sync::Arc<Board>, usize)>> =
        const { std::cell::RefCell::new(None) };
}

/// A wait board made by a program for its own threads (`pip_comm::run`'s ranks), so that
/// `pips waits` can read what they wait for. Slot `i` is rank `i`'s; the last is unused.
#[derive(Debug)]
pub struct OwnBoard {
    board: std::sync::Arc<Board>,
}

impl OwnBoard {
    /// Creates a board for `nranks` threads: `Ok(None)` if the system refuses (the board is
    /// advisory, so the program runs without one) or `PIP_WAIT_BOARD=0` asks for none; an error
    /// if `PIP_WAIT_BOARD` is not an on/off value ([`crate::settings::flag`]).
    pub fn create(nranks: usize) -> crate::Result<Option<OwnBoard>> {
        if !crate::settings::flag("PIP_WAIT_BOARD")?.unwrap_or(true) {
            return Ok(None);
        }
        Ok(Board::create(nranks).map(|board| OwnBoard {
            board: std::sync::Arc::new(board),
        }))
    }

    /// Makes the calling thread publish its waits in slot `index` until the guard is dropped.
    pub fn enter(&self, index: usize) -> Entered<'_> {
        let prev = OWN_SLOT.with(|c| c.borrow_mut().replace((self.board.clone(), index)));
        Entered { _board: self, prev }
    }
}

/// The calling thread publishes on an [`OwnBoard`] while this lives.
#[derive(Debug)]
#[must_use = "the thread leaves the board when this guard is dropped"]
pub struct Entered<'a> {
    _board: &'a OwnBoard,
    prev: Option<(std::sync::Arc<Board>, usize)>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let prev = self.prev.take();
        OWN_SLOT.with(|c| *c.borrow_mut() = prev);
    }
}

/// The slot of `index` on the board at `header`, if the board has one.
///
/// # Safety
///
/// `header` is null or points to a live board (its header followed by its slots).
unsafe fn slot_of<'a>(header: *const BoardHeader, index: usize) -> Option<&'a Slot> {
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

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Writes a wait into `slot` (see the protocol). False if another thread was writing it.
fn write_slot(slot: &Slot, tid: i32, w: Option<&WaitInfo>) -> bool {
    let s = slot.seq.load(Ordering::Relaxed);
    if s % 2 == 1
        || slot
            .seq
            .compare_exchange(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
    {
        return false;
    }
    match w {
        None => {
            if slot.tid.load(Ordering::Relaxed) == tid {
                slot.kind.store(0, Ordering::Relaxed);
            }
        }
        Some(w) => {
            slot.tid.store(tid, Ordering::Relaxed);
            slot.peer.store(w.peer, Ordering::Relaxed);
            slot.ctx.store(w.ctx, Ordering::Relaxed);
            slot.tag.store(w.tag, Ordering::Relaxed);
            slot.parties.store(w.parties, Ordering::Relaxed);
            slot.object.store(w.object, Ordering::Relaxed);
            slot.since_ns.store(now_ns(), Ordering::Relaxed);
            let mut words = [0u64; NAME_BYTES / 8];
            for (i, b) in w.name.bytes().take(NAME_BYTES).enumerate() {
                words[i / 8] |= (b as u64) << (8 * (i % 8));
            }
            for (d, v) in slot.name.iter().zip(words) {
                d.store(v, Ordering::Relaxed);
            }
            slot.kind.store(w.kind as u32, Ordering::Relaxed);
        }
    }
    slot.seq.store(s + 2, Ordering::Release);
    true
}

/// A published wait; dropping it clears the slot. See [`publish`].
#[derive(Debug)]
#[must_use = "the wait is cleared when this guard is dropped"]
pub struct Published {
    /// The slot: on a board that is never unmapped, or on `keep`.
    slot: Option<&'static Slot>,
    tid: i32,
    /// The [`OwnBoard`] the slot is on, kept mapped while the wait is published.
    keep: Option<std::sync::Arc<Board>>,
}

impl Published {
    /// A guard that published nothing.
    pub const fn nothing() -> Published {
        Published {
            slot: None,
            tid: 0,
            keep: None,
        }
    }

    /// True if the wait is on a board.
    pub fn is_published(&self) -> bool {
        self.slot.is_some()
    }

    /// Counts a step forward made inside the wait (messages taken in, data copied), so that a
    /// tool does not mistake a wait that works for one that is stuck.
    #[inline]
    pub fn progress(&self) {
        if let Some(slot) = self.slot {
            bump(&slot.progress);
        }
    }
}

/// Adds 1 to a counter that only its own task writes (a plain load and store: a rare lost
/// update from two threads of one task still moves it).
#[inline]
fn bump(c: &AtomicU64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

impl Drop for Published {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            bump(&slot.progress);
            // Best effort: if another thread of the task is writing the slot, it overwrites
            // this wait anyway.
            for _ in 0..64 {
                if write_slot(slot, self.tid, None) {
                    break;
                }
                std::hint::spin_loop();
            }
        }
    }
}

/// Publishes that the calling thread (a task's or the root's) starts a blocking wait; the
/// wait is cleared when the returned guard is dropped.
///
/// Call it when a wait stops spinning (it costs a few dozen stores), never on a fast path.
/// Outside a PiP job, or when the root has no board, it publishes nothing.
///
/// ```
/// use pip_core::waits::{publish, WaitInfo, WaitKind};
/// // Not in a job: nothing is published, and nothing fails.
/// let g = publish(&WaitInfo::new(WaitKind::Barrier));
/// assert!(!g.is_published());
/// ```
pub fn publish(w: &WaitInfo) -> Published {
    if let Some((board, index)) = OWN_SLOT.with(|c| c.borrow().clone()) {
        // SAFETY: the board is live (we hold it) and stays mapped as long as the guard,
        // which keeps a reference to it.
        let mut p = unsafe { publish_in(board.as_ptr(), index, w) };
        p.keep = Some(board);
        return p;
    }
    let Some((header, index)) = crate::task::wait_board() else {
        return Published::nothing();
    };
    // SAFETY: the ABI hands out null or the root's live board, which is never unmapped.
    unsafe { publish_in(header, index, w) }
}

/// [`publish`] for a caller that serves tasks from outside their copy of pip-core (the C
/// API's `libpip.so`, one copy for every C task): the wait of `pipid` (or the root, for
/// [`PIPID_ROOT`](crate::abi::PIPID_ROOT)) in the job of `root`.
///
/// # Safety
///
/// `root` is a live root's ABI block, as pip-core's bridge hands it out (its board pointer is
/// null or the live board).
pub unsafe fn publish_for(
    root: &crate::abi::RootAbi,
    pipid: std::ffi::c_int,
    w: &WaitInfo,
) -> Published {
    let index = if pipid == crate::abi::PIPID_ROOT {
        root.ntasks as usize
    } else if pipid >= 0 && (pipid as u32) < root.ntasks {
        pipid as usize
    } else {
        return Published::nothing();
    };
    // SAFETY: per the contract, the board pointer is null or the live board.
    unsafe { publish_in(root.wait_board.load(Ordering::Acquire), index, w) }
}

/// [`publish`] into slot `index` of the board at `header` (root code working for a task).
///
/// # Safety
///
/// `header` is null or points to a live board that is never unmapped.
pub(crate) unsafe fn publish_in(
    header: *const BoardHeader,
    index: usize,
    w: &WaitInfo,
) -> Published {
    // SAFETY: per the contract.
    let Some(slot) = (unsafe { slot_of(header, index) }) else {
        return Published::nothing();
    };
    let tid = gettid();
    if write_slot(slot, tid, Some(w)) {
        Published {
            slot: Some(slot),
            tid,
            keep: None,
        }
    } else {
        Published::nothing()
    }
}

/// The `CLOCK_MONOTONIC` time in nanoseconds (to compare with [`PublishedWait::since_ns`]).
pub fn monotonic_ns() -> u64 {
    now_ns()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_offsets_match_the_reader() {
        let s: Slot = unsafe { std::mem::zeroed() };
        let base = &s as *const Slot as usize;
        assert_eq!(&s.kind as *const _ as usize - base, 4);
        assert_eq!(&s.tid as *const _ as usize - base, 8);
        assert_eq!(&s.peer as *const _ as usize - base, 12);
        assert_eq!(&s.ctx as *const _ as usize - base, 16);
        assert_eq!(&s.tag as *const _ as usize - base, 20);
        assert_eq!(&s.parties as *const _ as usize - base, 24);
        assert_eq!(&s.object as *const _ as usize - base, 32);
        assert_eq!(&s.since_ns as *const _ as usize - base, 40);
        assert_eq!(&s.name as *const _ as usize - base, 48);
        assert_eq!(&s.progress as *const _ as usize - base, 104);
    }

    #[test]
    fn a_board_round_trips_and_clears() {
        let board = Board::create(3).expect("memfd");
        // SAFETY: the board is live for the whole test.
        let slot = unsafe { slot_of(board.as_ptr(), 1) }.unwrap();
        let mut w = WaitInfo::new(WaitKind::Import);
        w.peer = 2;
        w.name = "a-rather-long-name-".repeat(4);
        assert!(write_slot(slot, 77, Some(&w)));
        let read = |b: &Board| {
            let bytes = b.bytes();
            read_board(|off, buf| {
                let o = off as usize;
                buf.copy_from_slice(&bytes[o..o + buf.len()]);
                Ok(())
            })
            .unwrap()
        };
        let (info, waits) = read(&board);
        assert_eq!(info.nslots, 4);
        assert_eq!(info.root_pid, std::process::id() as i32);
        assert_eq!(waits.len(), 1);
        assert_eq!(waits[0].pipid, Some(1));
        assert_eq!(waits[0].tid, 77);
        assert_eq!(waits[0].wait.kind, WaitKind::Import);
        assert_eq!(waits[0].wait.peer, 2);
        assert_eq!(waits[0].wait.name, w.name[..NAME_BYTES]);
        // Another thread's clear leaves it; ours clears it.
        assert!(write_slot(slot, 78, None));
        assert_eq!(read(&board).1.len(), 1);
        assert!(write_slot(slot, 77, None));
        assert!(read(&board).1.is_empty());
        // The root's slot is the last one.
        let root = unsafe { slot_of(board.as_ptr(), 3) }.unwrap();
        assert!(write_slot(root, 5, Some(&WaitInfo::new(WaitKind::TaskEnd))));
        assert_eq!(read(&board).1[0].pipid, None);
        assert!(unsafe { slot_of(board.as_ptr(), 4) }.is_none());
    }

    #[test]
    fn a_slot_being_written_is_not_taken() {
        let board = Board::create(1).expect("memfd");
        let slot = unsafe { slot_of(board.as_ptr(), 0) }.unwrap();
        slot.seq.store(3, Ordering::Relaxed);
        assert!(!write_slot(
            slot,
            1,
            Some(&WaitInfo::new(WaitKind::Barrier))
        ));
        assert_eq!(slot.kind.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn not_a_board_is_an_error() {
        let zeros = [0u8; 256];
        let e = read_board(|off, buf| {
            let o = off as usize;
            buf.copy_from_slice(&zeros[o..o + buf.len()]);
            Ok(())
        })
        .unwrap_err();
        assert!(e.to_string().contains("not a pip-rs wait board"));
    }
}
