use super::layout::slot_of;
use super::publish::write_slot;
use super::*;
use std::sync::atomic::Ordering;

#[test]
fn slot_offsets_match_the_reader() {
    // SAFETY: a slot is atomics and integers, valid all-zero.
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
    let board = Board::create(3, &JobFacts::default()).expect("memfd");
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
    // SAFETY: the board is live for the whole test.
    let root = unsafe { slot_of(board.as_ptr(), 3) }.unwrap();
    assert!(write_slot(root, 5, Some(&WaitInfo::new(WaitKind::TaskEnd))));
    assert_eq!(read(&board).1[0].pipid, None);
    // SAFETY: the board is live for the whole test.
    assert!(unsafe { slot_of(board.as_ptr(), 4) }.is_none());
}

#[test]
fn a_slot_being_written_is_not_taken() {
    let board = Board::create(1, &JobFacts::default()).expect("memfd");
    // SAFETY: the board is live for the whole test.
    let slot = unsafe { slot_of(board.as_ptr(), 0) }.unwrap();
    // Another thread of the task is writing the slot.
    let _writing = slot.seq.try_write().unwrap();
    assert_eq!(slot.seq.sequence() % 2, 1);
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

fn copy_of(b: &Board) -> impl FnMut(u64, &mut [u8]) -> std::io::Result<()> + '_ {
    let bytes = b.bytes();
    move |off, buf| {
        let o = off as usize;
        buf.copy_from_slice(&bytes[o..o + buf.len()]);
        Ok(())
    }
}

#[test]
fn the_job_facts_and_programs_round_trip() {
    let facts = JobFacts::of_this_process("process", "namespace");
    let board = Board::create(3, &facts).expect("memfd");
    board.set_program(0, "/opt/job/libmaster.so".as_ref());
    let long = format!("/{}/libworker.so", "d".repeat(400));
    board.set_program(2, long.as_ref());
    board.set_program(3, "/out/of/range.so".as_ref());
    let info = read_board_header(copy_of(&board)).unwrap();
    assert_eq!(info.version, BOARD_VERSION);
    let read = info.facts.expect("a version 3 board has facts");
    assert_eq!(read.mode, "process");
    assert_eq!(read.isolation, "namespace");
    assert_eq!(read.image_memfd_prefix, IMAGE_MEMFD_PREFIX);
    assert_eq!(read.board_memfd, BOARD_NAME);
    assert_eq!(read.launcher, facts.launcher);
    assert!(!read.launcher.is_empty());
    assert_eq!(read.programs.len(), 3);
    assert_eq!(read.programs[0].as_deref(), Some("/opt/job/libmaster.so"));
    assert_eq!(read.programs[1], None);
    assert!(read.programs[2]
        .as_deref()
        .unwrap()
        .ends_with("/libworker.so"));
}

#[test]
fn a_version_2_board_is_read_without_facts() {
    let board = Board::create(2, &JobFacts::default()).expect("memfd");
    let mut bytes = board.bytes().to_vec();
    bytes[8..12].copy_from_slice(&2u32.to_ne_bytes());
    // Version 2 kept this part of the header reserved (zero).
    bytes[24..64].fill(0);
    let (info, waits) = read_board(|off, buf| {
        let o = off as usize;
        buf.copy_from_slice(&bytes[o..o + buf.len()]);
        Ok(())
    })
    .unwrap();
    assert_eq!((info.version, info.nslots, info.facts), (2, 3, None));
    assert!(waits.is_empty());
    bytes[8..12].copy_from_slice(&(BOARD_VERSION + 1).to_ne_bytes());
    let e = read_board_header(|off, buf| {
        let o = off as usize;
        buf.copy_from_slice(&bytes[o..o + buf.len()]);
        Ok(())
    })
    .unwrap_err();
    assert!(
        e.to_string().contains("this build reads versions 2 to"),
        "{e}"
    );
}

#[test]
fn unknown_facts_are_skipped() {
    let f = JobFacts::decode(b"launcher=x\nnew_fact=1\nmode=thread\n\0\0garbage");
    assert_eq!((f.launcher.as_str(), f.mode.as_str()), ("x", "thread"));
}
