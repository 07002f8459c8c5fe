//! The job's facts: what the root tells tools about the job, in the board after the slots.
//!
//! # Job facts
//!
//! A tool such as `pips` must not guess how a job was started (by parsing a launcher's command
//! line, or knowing pip-core's memfd names): the root writes it down. The facts block is text,
//! one `key=value` line each, written once when the board is made, before any task starts
//! (so it is read without a lock); a reader ignores keys it does not know, so that newer roots
//! can add some. The program table has one entry per task, written by the root when it spawns
//! the task (see [`Board::set_program`](super::Board::set_program)).

use std::sync::atomic::{AtomicU32, Ordering};

/// The name prefix of the memfds that hold task images (`/memfd:pip-task:libhello.so` in
/// procfs): each spawn writes the program's image to one (see `docs/architecture.md`).
pub const IMAGE_MEMFD_PREFIX: &str = "pip-task:";
/// The bytes of the facts block.
pub(crate) const FACTS_BYTES: usize = 1024;
/// The bytes of one entry of the program table: a length word, then the path's bytes (the
/// end of a longer path, so that its file name survives).
pub(crate) const PROGRAM_BYTES: usize = 256;

/// What the root tells tools about its job (board version 3 on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFacts {
    /// The program that runs the root: its executable's file name (`pip-exec`, a user's
    /// root, a `pip_comm::run` program).
    pub launcher: String,
    /// How the tasks run: `pthread` (thread mode) or `process` (a PiP job, as
    /// [`Mode::as_str`](crate::Mode::as_str) says), `rank-threads` (a `pip_comm::run`
    /// program's board).
    pub mode: String,
    /// `shared-libc` or `namespace`; empty for a `pip_comm::run` program.
    pub isolation: String,
    /// The name prefix of the memfds holding task images ([`IMAGE_MEMFD_PREFIX`]).
    pub image_memfd_prefix: String,
    /// The name of the board's memfd ([`BOARD_NAME`](super::BOARD_NAME)).
    pub board_memfd: String,
    /// Each task's program as it was spawned, by pipid (`None`: not spawned, or unknown).
    pub programs: Vec<Option<String>>,
}

impl JobFacts {
    /// The facts of a job started by this process, with pip-core's memfd names.
    pub(crate) fn of_this_process(mode: &str, isolation: &str) -> JobFacts {
        let launcher = std::env::current_exe()
            .ok()
            .and_then(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .unwrap_or_default();
        JobFacts {
            launcher,
            mode: mode.to_string(),
            isolation: isolation.to_string(),
            image_memfd_prefix: IMAGE_MEMFD_PREFIX.to_string(),
            board_memfd: super::BOARD_NAME.to_string(),
            programs: Vec::new(),
        }
    }

    /// The facts block: `key=value` lines, cut to [`FACTS_BYTES`].
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        for (key, value) in [
            ("launcher", &self.launcher),
            ("mode", &self.mode),
            ("isolation", &self.isolation),
            ("image_memfd_prefix", &self.image_memfd_prefix),
            ("board_memfd", &self.board_memfd),
        ] {
            out.push_str(key);
            out.push('=');
            out.push_str(&value.replace(['\n', '\0'], " "));
            out.push('\n');
        }
        let mut bytes = out.into_bytes();
        bytes.truncate(FACTS_BYTES);
        bytes
    }

    /// Reads a facts block (the programs are read separately).
    pub(crate) fn decode(block: &[u8]) -> JobFacts {
        let end = block.iter().position(|&b| b == 0).unwrap_or(block.len());
        let mut facts = JobFacts::default();
        for line in String::from_utf8_lossy(&block[..end]).lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let field = match key {
                "launcher" => &mut facts.launcher,
                "mode" => &mut facts.mode,
                "isolation" => &mut facts.isolation,
                "image_memfd_prefix" => &mut facts.image_memfd_prefix,
                "board_memfd" => &mut facts.board_memfd,
                _ => continue, // A newer root's fact.
            };
            *field = value.to_string();
        }
        facts
    }
}

/// One entry of the program table, in the board's shared mapping.
#[repr(C)]
pub(crate) struct ProgramEntry {
    /// The length of the path in `bytes`; 0 until the root has written it.
    // SYNC(waits::facts#job-facts): the root stores it (Release) after the bytes, once per
    // pipid; a tool copying the entry trusts `len` bytes (a torn copy can only show a wrong
    // name for one snapshot: the board is advisory).
    pub len: AtomicU32,
    /// The path's bytes (its end, if it is longer).
    pub bytes: [u8; PROGRAM_BYTES - 4],
}

impl ProgramEntry {
    /// Writes `path` (its last bytes, if it is too long) and then its length.
    ///
    /// # Safety
    ///
    /// The entry is in the board's mapping and only the root's spawning thread writes it,
    /// once; nothing in this process reads `bytes`.
    pub(crate) unsafe fn write(entry: *mut ProgramEntry, path: &[u8]) {
        let cap = PROGRAM_BYTES - 4;
        let tail = &path[path.len().saturating_sub(cap)..];
        // SAFETY: per the contract, `entry` is valid and `bytes` has no other writer or
        // reader in this process; `tail` fits in it.
        unsafe {
            let dst = std::ptr::addr_of_mut!((*entry).bytes) as *mut u8;
            std::ptr::copy_nonoverlapping(tail.as_ptr(), dst, tail.len());
            // SYNC(waits::facts#job-facts): the length last, Release, after the bytes.
            (*entry).len.store(tail.len() as u32, Ordering::Release);
        }
    }

    /// Reads an entry copied out of a board.
    pub(crate) fn decode(copy: &[u8]) -> Option<String> {
        let len = u32::from_ne_bytes(copy.get(..4)?.try_into().ok()?) as usize;
        let bytes = copy.get(4..4 + len.min(PROGRAM_BYTES - 4))?;
        (len > 0).then(|| String::from_utf8_lossy(bytes).into_owned())
    }
}
