use super::published::unlink_mutual_waits;
use super::*;
use crate::pips::procfs;
use pip_core::waits::{self as board, PublishedWait, WaitKind};

fn node(tid: i32, targets: &[i32], needed: usize) -> Node {
    Node {
        tid,
        pid: 1,
        label: format!("task {tid}"),
        pipid: Some(tid as usize),
        state: 'S',
        what: format!("w{tid}"),
        source: "board",
        targets: targets.to_vec(),
        needed,
        waits_for_ended: false,
        seconds: None,
        board_stamp: None,
    }
}

#[test]
fn a_two_node_cycle_is_a_deadlock() {
    let d = deadlocks(&[node(1, &[2], 1), node(2, &[1], 1), node(3, &[], 0)]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].cycle, vec![1, 2]);
}

#[test]
fn a_wait_on_a_running_thread_is_not() {
    assert!(deadlocks(&[node(1, &[2], 1), node(2, &[], 0)]).is_empty());
    // Any of two: one can act.
    assert!(deadlocks(&[node(1, &[2, 3], 1), node(2, &[1], 1), node(3, &[], 0)]).is_empty());
}

#[test]
fn an_and_wait_needs_all() {
    // A barrier waiting for 2 and 3; 3 waits for 1: stuck, cycle 1 -> 3 -> 1.
    let d = deadlocks(&[node(1, &[2, 3], 2), node(2, &[], 0), node(3, &[1], 1)]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].cycle, vec![1, 3]);
}

#[test]
fn those_behind_a_cycle_are_stuck_with_it() {
    let d = deadlocks(&[node(1, &[2], 1), node(2, &[1], 1), node(4, &[1], 1)]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].stuck, vec![1, 2, 4]);
}

#[test]
fn a_running_thread_can_act() {
    let mut running = node(2, &[1], 1);
    running.state = 'R';
    assert!(deadlocks(&[node(1, &[2], 1), running]).is_empty());
}

fn published(pipid: usize, kind: WaitKind, peer: i32, tag: i32) -> PublishedWait {
    let mut wait = board::WaitInfo::new(kind);
    wait.peer = peer;
    wait.tag = tag;
    PublishedWait {
        pipid: Some(pipid),
        tid: pipid as i32 + 1,
        wait,
        since_ns: 0,
        progress: 0,
    }
}

#[test]
fn a_send_and_its_matching_receive_are_no_cycle() {
    // Task 0 receives from 1 with tag 1; task 1's rendezvous send to 0 with tag 1 waits
    // for that very receive.
    let waits = [
        published(0, WaitKind::Recv, 1, 1),
        published(1, WaitKind::Send, 0, 1),
    ];
    let mut nodes = vec![node(1, &[2], 1), node(2, &[1], 1)];
    unlink_mutual_waits(&mut nodes, &waits);
    assert!(deadlocks(&nodes).is_empty());
    assert!(
        nodes[1].what.contains("task 0's receive takes it"),
        "{}",
        nodes[1].what
    );
    // Another tag does not match: still a cycle.
    let waits = [
        published(0, WaitKind::Recv, 1, 2),
        published(1, WaitKind::Send, 0, 1),
    ];
    let mut nodes = vec![node(1, &[2], 1), node(2, &[1], 1)];
    unlink_mutual_waits(&mut nodes, &waits);
    assert_eq!(deadlocks(&nodes).len(), 1);
}

#[test]
fn syscall_lines_parse() {
    let (nr, a) = procfs::parse_syscall("202 0x7f00 0x80 0x2 0x0 0x0 0x0 0x7ffd 0x7f11").unwrap();
    assert_eq!((nr, a[0], a[1], a[2]), (202, 0x7f00, 0x80, 2));
    assert!(procfs::parse_syscall("running").is_none());
    assert!(procfs::parse_syscall("-1 0x7ffd 0x7f11").is_none());
}
