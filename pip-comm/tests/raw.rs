//! The scope-free, pointer-based operations of `pip_comm::raw` over thread ranks: both
//! protocols, wildcards, truncation, cancellation, synchronous sends, waiting for a mix,
//! zero-length and self messages.

mod common;

use pip_comm::prelude::*;
use pip_comm::raw::{self, RawRequest, SendMode};
use pip_comm::{run, Error, Status, ANY_SOURCE, ANY_TAG};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Starts sending `buf`.
fn isend(comm: &SimpleCommunicator, dest: i32, tag: i32, buf: &[u8], mode: SendMode) -> RawRequest {
    // SAFETY: every caller waits for the request (or cancels it) before `buf` goes.
    unsafe { raw::immediate_send(comm, dest, tag, buf.as_ptr(), buf.len(), mode) }.unwrap()
}

/// Posts a receive into `buf`.
fn irecv(comm: &SimpleCommunicator, source: i32, tag: i32, buf: &mut [u8]) -> RawRequest {
    // SAFETY: every caller waits for the request (or cancels it) before it touches `buf`.
    unsafe { raw::immediate_receive(comm, source, tag, buf.as_mut_ptr(), buf.len()) }.unwrap()
}

/// Waits for all of `reqs` with `raw::wait_until`.
fn wait_all(comm: &SimpleCommunicator, reqs: &[&RawRequest]) {
    raw::wait_until(
        comm,
        || reqs.iter().all(|r| r.is_complete()),
        || reqs.iter().any(|r| r.ready()),
    )
    .unwrap();
}

#[test]
fn eager_and_rendezvous_exchanges_in_both_directions() {
    let _watchdog = common::watchdog("eager_and_rendezvous_exchanges_in_both_directions");
    run(2, |world| {
        let (me, peer) = (world.rank(), 1 - world.rank());
        for len in [8usize, 1 << 20] {
            let out: Vec<u8> = (0..len).map(|i| (i as u8) ^ me as u8).collect();
            let mut inbox = vec![0xffu8; len];
            let r = irecv(&world, peer, 3, &mut inbox);
            let s = isend(&world, peer, 3, &out, SendMode::Standard);
            let status = r.wait().unwrap();
            assert_eq!(
                status,
                Status {
                    source: peer,
                    tag: 3,
                    count: len
                }
            );
            assert_eq!(
                s.wait().unwrap(),
                Status {
                    source: me,
                    tag: 3,
                    count: len
                }
            );
            assert!(inbox
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i as u8) ^ peer as u8));
            // A complete request keeps its status.
            assert_eq!(r.test().unwrap(), Some(status));
        }
    })
    .unwrap();
}

#[test]
fn wildcards_give_the_sender_and_tag() {
    let _watchdog = common::watchdog("wildcards_give_the_sender_and_tag");
    run(3, |world| {
        if world.rank() == 0 {
            let mut seen = Vec::new();
            for _ in 0..2 {
                let mut buf = [0u8; 4];
                let status = irecv(&world, ANY_SOURCE, ANY_TAG, &mut buf).wait().unwrap();
                assert_eq!(status.count, 4);
                assert_eq!(status.tag, 10 + status.source);
                assert_eq!(buf, [status.source as u8; 4]);
                seen.push(status.source);
            }
            seen.sort();
            assert_eq!(seen, [1, 2]);
        } else {
            let v = [world.rank() as u8; 4];
            isend(&world, 0, 10 + world.rank(), &v, SendMode::Standard)
                .wait()
                .unwrap();
        }
    })
    .unwrap();
}

#[test]
fn a_truncated_receive_says_what_arrived() {
    let _watchdog = common::watchdog("a_truncated_receive_says_what_arrived");
    run(2, |world| {
        for (i, len) in [10usize, 1 << 20].into_iter().enumerate() {
            let tag = i as i32;
            if world.rank() == 0 {
                let out = vec![7u8; len];
                isend(&world, 1, tag, &out, SendMode::Standard)
                    .wait()
                    .unwrap();
            } else {
                let mut small = [0u8; 4];
                let r = irecv(&world, 0, tag, &mut small);
                match r.wait() {
                    Err(Error::Truncated {
                        sender,
                        tag: t,
                        message_len,
                        buffer_len,
                    }) => assert_eq!((sender, t, message_len, buffer_len), (0, tag, len, 4)),
                    other => panic!("expected a truncation, got {other:?}"),
                }
                assert_eq!(small, [7; 4]);
                // The error is handed out once.
                assert!(matches!(r.test(), Err(Error::RequestFinished)));
            }
        }
    })
    .unwrap();
}

#[test]
fn an_unmatched_receive_and_an_unaccepted_send_cancel() {
    let _watchdog = common::watchdog("an_unmatched_receive_and_an_unaccepted_send_cancel");
    run(2, |world| {
        if world.rank() == 0 {
            // A receive nobody sends to.
            let mut buf = [0u8; 8];
            let r = irecv(&world, 1, 99, &mut buf);
            assert!(r.test().unwrap().is_none());
            assert!(r.cancel());
            assert!(matches!(r.wait(), Err(Error::Cancelled)));
            assert!(!r.cancel(), "already complete");
            // A rendezvous offer that rank 1 has not accepted is withdrawn...
            let big = vec![1u8; 1 << 20];
            let s = isend(&world, 1, 5, &big, SendMode::Standard);
            assert!(s.cancel());
            assert!(matches!(s.test(), Err(Error::Cancelled)));
            // ... and never matches: rank 1's receive gets the next message.
            isend(&world, 1, 5, &[2u8; 8], SendMode::Standard)
                .wait()
                .unwrap();
            // An eager send is complete at once: nothing to cancel.
            let e = isend(&world, 1, 6, &[3u8; 8], SendMode::Standard);
            assert!(!e.cancel());
            assert_eq!(e.wait().unwrap().count, 8);
            world.barrier().unwrap();
        } else {
            world.barrier().unwrap();
            let mut buf = vec![0u8; 1 << 20];
            let status = irecv(&world, 0, 5, &mut buf).wait().unwrap();
            assert_eq!((status.count, buf[0]), (8, 2));
            // A matched receive cannot be cancelled.
            let r = irecv(&world, 0, 6, &mut buf);
            r.wait().unwrap();
            assert!(!r.cancel());
        }
    })
    .unwrap();
}

#[test]
fn a_synchronous_send_completes_only_once_matched() {
    let _watchdog = common::watchdog("a_synchronous_send_completes_only_once_matched");
    let go = AtomicBool::new(false);
    run(2, |world| {
        if world.rank() == 0 {
            let v = [5u8; 8];
            // A standard send of 8 bytes is eager: complete at once.
            let e = isend(&world, 1, 1, &v, SendMode::Standard);
            assert!(e.is_complete());
            let s = isend(&world, 1, 2, &v, SendMode::Synchronous);
            for _ in 0..50 {
                assert!(
                    s.test().unwrap().is_none(),
                    "complete before a receive matched"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            go.store(true, Ordering::SeqCst);
            assert_eq!(s.wait().unwrap().count, 8);
        } else {
            while !go.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let mut buf = [0u8; 8];
            irecv(&world, 0, 2, &mut buf).wait().unwrap();
            irecv(&world, 0, 1, &mut buf).wait().unwrap();
            assert_eq!(buf, [5; 8]);
        }
    })
    .unwrap();
}

#[test]
fn wait_until_waits_for_a_mix_of_operations() {
    let _watchdog = common::watchdog("wait_until_waits_for_a_mix_of_operations");
    run(3, |world| {
        let me = world.rank();
        let big = vec![me as u8; 1 << 20];
        let mut inbox = [vec![0u8; 1 << 20], vec![0u8; 1 << 20]];
        let [a, b] = &mut inbox;
        let (l, r) = ((me + 2) % 3, (me + 1) % 3);
        let reqs = [
            irecv(&world, l, 0, a),
            irecv(&world, r, 0, &mut b[..8]),
            isend(&world, r, 0, &big, SendMode::Standard),
            isend(&world, l, 0, &big[..8], SendMode::Standard),
        ];
        let refs: Vec<&RawRequest> = reqs.iter().collect();
        wait_all(&world, &refs);
        let counts: Vec<usize> = reqs
            .iter()
            .map(|r| r.test().unwrap().unwrap().count)
            .collect();
        assert_eq!(counts, [1 << 20, 8, 1 << 20, 8]);
        assert!(a.iter().all(|&x| x == l as u8));
        assert_eq!(b[..8], [r as u8; 8]);
    })
    .unwrap();
}

#[test]
fn zero_length_messages_with_null_pointers() {
    let _watchdog = common::watchdog("zero_length_messages_with_null_pointers");
    run(2, |world| {
        let peer = 1 - world.rank();
        // SAFETY: zero bytes at null pointers.
        let (r, s) = unsafe {
            (
                raw::immediate_receive(&world, peer, 0, std::ptr::null_mut(), 0).unwrap(),
                raw::immediate_send(&world, peer, 0, std::ptr::null(), 0, SendMode::Synchronous)
                    .unwrap(),
            )
        };
        wait_all(&world, &[&r, &s]);
        assert_eq!(
            r.wait().unwrap(),
            Status {
                source: peer,
                tag: 0,
                count: 0
            }
        );
        assert_eq!(s.wait().unwrap().count, 0);
        // A message into a zero-length buffer is truncated.
        let v = [1u8; 3];
        let s = isend(&world, peer, 1, &v, SendMode::Standard);
        // SAFETY: zero bytes at a null pointer.
        let r = unsafe { raw::immediate_receive(&world, peer, 1, std::ptr::null_mut(), 0) };
        assert!(matches!(
            r.unwrap().wait(),
            Err(Error::Truncated {
                message_len: 3,
                buffer_len: 0,
                ..
            })
        ));
        s.wait().unwrap();
    })
    .unwrap();
}

#[test]
fn sends_to_oneself_then_receives() {
    let _watchdog = common::watchdog("sends_to_oneself_then_receives");
    run(1, |world| {
        for len in [0usize, 8, 1 << 20] {
            let out = vec![9u8; len];
            let s = isend(&world, 0, 4, &out, SendMode::Standard);
            assert!(s.is_complete(), "a send to oneself is buffered");
            let mut inbox = vec![0u8; len];
            let r = irecv(&world, 0, 4, &mut inbox);
            assert_eq!(
                r.wait().unwrap(),
                Status {
                    source: 0,
                    tag: 4,
                    count: len
                }
            );
            assert!(inbox.iter().all(|&b| b == 9));
        }
        // A synchronous send to oneself completes once a receive takes it: posted before...
        let mut inbox = [0u8; 8];
        let r = irecv(&world, 0, 7, &mut inbox);
        let s = isend(&world, 0, 7, &[1u8; 8], SendMode::Synchronous);
        wait_all(&world, &[&r, &s]);
        assert_eq!(inbox, [1; 8]);
        // ... or after, by a blocking or a non-blocking receive, of any size.
        for len in [8usize, 1 << 20] {
            let out = vec![2u8; len];
            let s = isend(&world, 0, 8, &out, SendMode::Synchronous);
            assert!(s.test().unwrap().is_none(), "complete before a receive");
            let mut inbox = vec![0u8; len];
            world
                .this_process()
                .receive_into_with_tag(&mut inbox[..], 8)
                .unwrap();
            assert_eq!(s.wait().unwrap().count, len);
            assert!(inbox.iter().all(|&b| b == 2));
            let s = isend(&world, 0, 9, &out, SendMode::Synchronous);
            let r = irecv(&world, 0, 9, &mut inbox);
            wait_all(&world, &[&r, &s]);
            assert_eq!(r.wait().unwrap().count, len);
        }
        // A synchronous send to oneself that nothing took is withdrawn by a cancel.
        let s = isend(&world, 0, 10, &[3u8; 8], SendMode::Synchronous);
        assert!(s.cancel());
        assert!(matches!(s.wait(), Err(Error::Cancelled)));
        let mut probe = [0u8; 8];
        isend(&world, 0, 10, &[4u8; 8], SendMode::Standard)
            .wait()
            .unwrap();
        irecv(&world, 0, 10, &mut probe).wait().unwrap();
        assert_eq!(probe, [4; 8], "the withdrawn message never matches");
        raw::progress(&world);
    })
    .unwrap();
}
