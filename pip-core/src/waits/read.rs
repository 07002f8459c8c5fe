//! The tools' side of the wait board: reading a copy of another process's board (through
//! `/proc/PID/mem` or the memfd) into [`PublishedWait`]s. The layout and the sequence-lock
//! protocol it follows are described in the parent module.

use super::{
    PublishedWait, WaitInfo, WaitKind, BOARD_MAGIC, BOARD_VERSION, HEADER, NAME_BYTES, SLOT,
};

/// Reads every published wait from a board's bytes, as copied by `read_copy` (called with an
/// offset and a buffer; it fills the buffer or fails). Slots that stay busy are skipped.
///
/// Errors: not a board, or a board of another version.
pub fn read_board(
    mut read_copy: impl FnMut(u64, &mut [u8]) -> std::io::Result<()>,
) -> std::io::Result<(BoardHeaderInfo, Vec<PublishedWait>)> {
    let mut h = [0u8; HEADER];
    read_copy(0, &mut h)?;
    let magic = u64::from_ne_bytes(h[0..8].try_into().unwrap());
    let version = u32::from_ne_bytes(h[8..12].try_into().unwrap());
    let slot_size = u32::from_ne_bytes(h[12..16].try_into().unwrap());
    let nslots = u32::from_ne_bytes(h[16..20].try_into().unwrap());
    let root_pid = i32::from_ne_bytes(h[20..24].try_into().unwrap());
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    if magic != BOARD_MAGIC {
        return Err(bad(String::from("not a pip-rs wait board")));
    }
    if version != BOARD_VERSION || slot_size as usize != SLOT {
        return Err(bad(format!(
            "a wait board of version {version} (slots of {slot_size} bytes); this build reads version {BOARD_VERSION} ({SLOT} bytes)"
        )));
    }
    if nslots == 0 || nslots > 1 << 20 {
        return Err(bad(format!("a wait board with {nslots} slots")));
    }
    let info = BoardHeaderInfo {
        nslots: nslots as usize,
        root_pid,
    };
    let mut out = Vec::new();
    let (mut a, mut b) = ([0u8; SLOT], [0u8; SLOT]);
    for i in 0..nslots as usize {
        let off = (HEADER + i * SLOT) as u64;
        let mut stable = false;
        for _ in 0..16 {
            read_copy(off, &mut a)?;
            read_copy(off, &mut b)?;
            if a == b && u32::from_ne_bytes(a[0..4].try_into().unwrap()) % 2 == 0 {
                stable = true;
                break;
            }
            std::thread::yield_now();
        }
        if !stable {
            continue;
        }
        if let Some(w) = parse_slot(&a, i, nslots as usize) {
            out.push(w);
        }
    }
    Ok((info, out))
}

/// What a board's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardHeaderInfo {
    /// Slots (tasks + 1).
    pub nslots: usize,
    /// The root's pid.
    pub root_pid: i32,
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
