//! The tools' side of the wait board: reading a copy of another process's board (through
//! `/proc/PID/mem` or the memfd) into [`PublishedWait`]s, and the job's facts. The layout and
//! the sequence-lock protocol it follows are described in the parent module.

use super::facts::ProgramEntry;
use super::{
    JobFacts, PublishedWait, WaitInfo, WaitKind, BOARD_MAGIC, BOARD_VERSION, HEADER, NAME_BYTES,
    SLOT,
};

/// The oldest board version this build reads (version 2 has no job facts).
pub const OLDEST_BOARD_VERSION: u32 = 2;

/// Reads every published wait from a board's bytes, as copied by `read_copy` (called with an
/// offset and a buffer; it fills the buffer or fails), with the board's header and the job's
/// facts ([`read_board_header`]). Slots that stay busy are skipped.
///
/// Errors: not a board, or a board of a version this build does not read.
pub fn read_board(
    mut read_copy: impl FnMut(u64, &mut [u8]) -> std::io::Result<()>,
) -> std::io::Result<(BoardHeaderInfo, Vec<PublishedWait>)> {
    let info = read_board_header(&mut read_copy)?;
    let mut out = Vec::new();
    for i in 0..info.nslots {
        if let Some(slot) = read_slot(&mut read_copy, i)? {
            if let Some(w) = parse_slot(&slot, i, info.nslots) {
                out.push(w);
            }
        }
    }
    Ok((info, out))
}

/// Copies slot `i` until two copies agree with an even `seq` (the reader's side of the
/// [sequence lock](crate::sync::seqlock#protocol)); `None` if it stays busy.
fn read_slot(
    read_copy: &mut impl FnMut(u64, &mut [u8]) -> std::io::Result<()>,
    i: usize,
) -> std::io::Result<Option<[u8; SLOT]>> {
    let off = (HEADER + i * SLOT) as u64;
    // `seq` is the slot's first word.
    crate::sync::seqlock::read_bytes::<SLOT>(16, 0, |buf| read_copy(off, buf))
}

/// Reads a board's header and, from version 3 on, the job's facts and program table.
///
/// Errors: not a board, or a board of a version this build does not read.
pub fn read_board_header(
    mut read_copy: impl FnMut(u64, &mut [u8]) -> std::io::Result<()>,
) -> std::io::Result<BoardHeaderInfo> {
    let mut h = [0u8; HEADER];
    read_copy(0, &mut h)?;
    let u32_at = |o: usize| u32::from_ne_bytes(h[o..o + 4].try_into().unwrap());
    let magic = u64::from_ne_bytes(h[0..8].try_into().unwrap());
    let (version, slot_size, nslots) = (u32_at(8), u32_at(12), u32_at(16));
    let root_pid = u32_at(20) as i32;
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    if magic != BOARD_MAGIC {
        return Err(bad(String::from("not a pip-rs wait board")));
    }
    if !(OLDEST_BOARD_VERSION..=BOARD_VERSION).contains(&version) || slot_size as usize != SLOT {
        return Err(bad(format!(
            "a wait board of version {version} (slots of {slot_size} bytes); this build reads versions {OLDEST_BOARD_VERSION} to {BOARD_VERSION} ({SLOT} bytes)"
        )));
    }
    if nslots == 0 || nslots > 1 << 20 {
        return Err(bad(format!("a wait board with {nslots} slots")));
    }
    let facts = if version >= 3 {
        let (facts_offset, facts_len) = (u32_at(24) as u64, u32_at(28) as usize);
        let (programs_offset, program_bytes) = (u32_at(32) as u64, u32_at(36) as usize);
        if facts_len > 1 << 16 || !(4..=1 << 12).contains(&program_bytes) {
            return Err(bad(format!("a wait board with {facts_len} bytes of facts")));
        }
        let mut block = vec![0u8; facts_len];
        read_copy(facts_offset, &mut block)?;
        let mut facts = JobFacts::decode(&block);
        let mut entry = vec![0u8; program_bytes];
        for i in 0..nslots as u64 - 1 {
            read_copy(programs_offset + i * program_bytes as u64, &mut entry)?;
            facts.programs.push(ProgramEntry::decode(&entry));
        }
        Some(facts)
    } else {
        None
    };
    Ok(BoardHeaderInfo {
        version,
        nslots: nslots as usize,
        root_pid,
        facts,
    })
}

/// What a board's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardHeaderInfo {
    /// The board's layout version ([`OLDEST_BOARD_VERSION`] to [`BOARD_VERSION`]).
    pub version: u32,
    /// Slots (tasks + 1).
    pub nslots: usize,
    /// The root's pid.
    pub root_pid: i32,
    /// The job's facts, as its root published them; `None` on a board of version 2, whose
    /// roots did not.
    pub facts: Option<JobFacts>,
}

fn parse_slot(s: &[u8; SLOT], index: usize, nslots: usize) -> Option<PublishedWait> {
    let u32_at = |o: usize| u32::from_ne_bytes(s[o..o + 4].try_into().unwrap());
    let i32_at = |o: usize| i32::from_ne_bytes(s[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_ne_bytes(s[o..o + 8].try_into().unwrap());
    let kind = WaitKind::from_code(u32_at(4))?;
    let name_bytes = &s[48..48 + NAME_BYTES];
    let end = name_bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(NAME_BYTES);
    Some(PublishedWait {
        pipid: (index + 1 < nslots).then_some(index),
        tid: i32_at(8),
        wait: WaitInfo {
            kind,
            peer: i32_at(12),
            ctx: u32_at(16),
            tag: i32_at(20),
            parties: u32_at(24),
            object: u64_at(32),
            name: String::from_utf8_lossy(&name_bytes[..end]).into_owned(),
        },
        since_ns: u64_at(40),
        progress: u64_at(104),
    })
}
