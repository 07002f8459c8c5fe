//! Making a board: the root's ([`Board::create`] in `Root::init`) and a thread-rank program's
//! ([`OwnBoard`]).

use super::facts::{JobFacts, ProgramEntry, FACTS_BYTES, PROGRAM_BYTES};
use super::layout::{board_len, facts_offset, programs_offset, BoardHeader, SLOT};
use super::{BOARD_MAGIC, BOARD_NAME, BOARD_VERSION};

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
    /// Creates and maps a board for `ntasks` tasks, with the job's `facts` (its programs are
    /// added by [`Board::set_program`]). `None` if the system refuses (the job then runs
    /// without one: the board is advisory).
    pub(crate) fn create(ntasks: usize, facts: &JobFacts) -> Option<Board> {
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
            facts_offset: facts_offset(ntasks) as u32,
            facts_len: FACTS_BYTES as u32,
            programs_offset: programs_offset(ntasks) as u32,
            program_bytes: PROGRAM_BYTES as u32,
            reserved: [0; 6],
        };
        // SAFETY: the mapping is `len >= HEADER` bytes and page-aligned (so aligned for the
        // header), and no other thread knows it yet.
        unsafe { std::ptr::write(map.as_mut_ptr() as *mut BoardHeader, header) };
        // Written before any task or tool can know the board: read without a lock.
        let block = facts.encode();
        let at = facts_offset(ntasks);
        map[at..at + block.len()].copy_from_slice(&block);
        Some(Board {
            map,
            file: Some(file),
        })
    }

    /// The address tasks get through the ABI.
    pub(crate) fn as_ptr(&self) -> *mut BoardHeader {
        self.map.as_ptr() as *mut BoardHeader
    }

    /// Records the program of task `pipid` in the program table (at its spawn; pipids are
    /// never reused, so each entry is written once).
    pub(crate) fn set_program(&self, pipid: usize, program: &std::path::Path) {
        use std::os::unix::ffi::OsStrExt;
        let at = programs_offset(self.ntasks()) + pipid * PROGRAM_BYTES;
        if pipid >= self.ntasks() || at + PROGRAM_BYTES > self.map.len() {
            return;
        }
        // SAFETY: the entry lies inside the mapping (checked above), 4-aligned (the offsets
        // are multiples of 64 and PROGRAM_BYTES), and only the root's spawning thread, which
        // holds the root mutably, writes it; nothing in this process reads it.
        unsafe {
            ProgramEntry::write(
                self.map.as_ptr().add(at) as *mut ProgramEntry,
                program.as_os_str().as_bytes(),
            )
        };
    }

    /// The number of tasks the board has slots for.
    fn ntasks(&self) -> usize {
        // SAFETY: the header was written at creation and is never written again.
        unsafe { (*(self.map.as_ptr() as *const BoardHeader)).nslots as usize - 1 }
    }

    /// Closes the fd (at `Root::fin`); the mapping stays, since tasks may still point at it.
    pub(crate) fn close_fd(&mut self) {
        self.file = None;
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> &[u8] {
        &self.map
    }
}

thread_local! {
    /// The board and slot the calling thread publishes in when it is a rank of an
    /// [`OwnBoard`] (set by [`OwnBoard::enter`]).
    pub(super) static OWN_SLOT: std::cell::RefCell<Option<(std::sync::Arc<Board>, usize)>> =
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
        let facts = JobFacts::of_this_process("rank-threads", "");
        Ok(Board::create(nranks, &facts).map(|board| OwnBoard {
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
