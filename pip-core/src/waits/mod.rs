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
//! A [`BoardHeader`] (64 bytes: magic, version, slot size, slot count, root pid, and where the
//! job's facts are), then one 128-byte [`Slot`] per task (slot `i` for pipid `i`) and one for
//! the root (the last), then the job's facts ([`JobFacts`]: launcher, mode, isolation, memfd
//! names, as `key=value` lines) and a program table (each task's program, written at its
//! spawn). See the `facts` module for their protocol.
//!
//! The header's version says which layout follows: [`BOARD_VERSION`] (3) has the facts; a
//! reader also takes version 2 ([`OLDEST_BOARD_VERSION`]: same slots, no facts) and says so
//! ([`BoardHeaderInfo::facts`] is `None`), so a newer `pips` can tell an older root's board
//! and fall back to what procfs shows.
//!
//! # Progress
//!
//! Each slot also carries a progress counter, outside the [sequence lock](#sequence-lock): its task adds 1 every
//! time a published wait ends and whenever a wait moves something along (pip-comm does so when
//! a waiting rank takes in messages or copies data). A tool compares two snapshots some time
//! apart: a wait that is still there, started at the same time, with the same counter, made
//! no progress in between (see `pips waits`).
//!
//! # Boards of thread-rank programs
//!
//! A program that runs ranks as its own threads (`pip_comm::run`) is no PiP job, but it can
//! make a board all the same with [`OwnBoard`]: each rank thread [enters](OwnBoard::enter) it
//! with its rank as the slot, and [`publish()`] writes there.
//!
//! # Sequence lock
//!
//! One writer per slot, readers in other processes.
//!
//! Each slot's first word is a [`SeqLock`](crate::sync::seqlock::SeqLock), pip-core's one
//! sequence lock (its [protocol](crate::sync::seqlock#protocol)):
//!
//! * **Writer** (the waiting thread): takes the slot with [`try_write`]; if another thread of
//!   the same task is writing it, this wait is not published. It writes the fields (Relaxed)
//!   and ends the write by dropping the guard. Ending a wait does the same with `kind = 0`,
//!   and only if the slot still holds this thread's wait (its `tid`): if two threads of one
//!   task wait at once, the slot shows the later one.
//! * **Reader** (another process, copying the bytes with `pread`):
//!   [`read_bytes`](crate::sync::seqlock::read_bytes) copies the slot twice and keeps it only
//!   when `seq` is even and both copies are equal; otherwise it tries again a few times and
//!   then the slot is reported busy.
//!
//! [`try_write`]: crate::sync::seqlock::SeqLock::try_write
//!
//! The board is advisory: it never decides anything in the job, so a torn or stale read can
//! only mislead the tool for one snapshot.
//!
//! [`Root::init`]: crate::Root::init

mod board;
mod facts;
mod layout;
mod publish;
mod read;
mod text;

pub(crate) use board::Board;
pub use board::{Entered, OwnBoard};
pub use facts::{JobFacts, IMAGE_MEMFD_PREFIX};
pub use layout::{board_len, BoardHeader, Slot};
pub(crate) use layout::{HEADER, SLOT};
pub(crate) use publish::publish_in;
pub use publish::{monotonic_ns, publish, publish_for, Published};
pub use read::{read_board, read_board_header, BoardHeaderInfo, OLDEST_BOARD_VERSION};

#[cfg(test)]
mod tests;

/// The name of the board's memfd (`/memfd:pip-rs-waits` in procfs).
pub const BOARD_NAME: &str = "pip-rs-waits";
/// `"PIPWAIT\x01"`: marks a [`BoardHeader`].
pub const BOARD_MAGIC: u64 = u64::from_le_bytes(*b"PIPWAIT\x01");
/// The board layout's version.
pub const BOARD_VERSION: u32 = 3;
/// The bytes of a name kept in a slot (longer names are cut).
pub const NAME_BYTES: usize = 56;

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
