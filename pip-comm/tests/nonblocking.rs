//! Non-blocking operations over thread ranks: requests, scopes, matching order with blocking
//! operations, cancellation when a scope panics.

mod common;

use pip_comm::prelude::*;
use pip_comm::request::{scope, test_all, wait_all, wait_any};
use pip_comm::{run, Error, Status, ANY_TAG};

#[test]
fn exchanges_of_every_size_in_both_directions() {
    let _watchdog = common::watchdog("exchanges_of_every_size_in_both_directions");
    for n in [2, 3, 4] {
        run(n, |world| {
            let (me, n) = (world.rank(), world.size());
            let sizes = [0usize, 1, 100, 600, 70_000, 1 << 20];
            let outs: Vec<Vec<u8>> = sizes.iter().map(|&l| vec![me as u8; l]).collect();
            let mut ins: Vec<Vec<u8>> = sizes.iter().map(|&l| vec![0xff; l]).collect();
            let (right, left) = ((me + 1) % n, (me + n - 1) % n);
            scope(|scope| {
                let mut reqs = Vec::new();
                for (i, buf) in ins.iter_mut().enumerate() {
                    reqs.push(
                        world
                            .process_at_rank(left)
                            .immediate_receive_into_with_tag(scope, &mut buf[..], i as i32)
                            .unwrap(),
                    );
                }
                // Sends in reverse order: the receives match by tag.
                for (i, out) in outs.iter().enumerate().rev() {
                    reqs.push(
                        world
                            .process_at_rank(right)
                            .immediate_send_with_tag(scope, &out[..], i as i32)
                            .unwrap(),
                    );
                }
                let statuses = wait_all(reqs).unwrap();
                for (i, s) in statuses[..sizes.len()].iter().enumerate() {
                    assert_eq!(
                        *s,
                        Status {
                            source: left,
                            tag: i as i32,
                            count: sizes[i]
                        }
                    );
                }
            });
            for buf in &ins {
                assert!(buf.iter().all(|&b| b == left as u8));
            }
            world.barrier().unwrap();
        })
        .unwrap();
    }
}

#[test]
fn many_large_sends_out_at_once() {
    let _watchdog = common::watchdog("many_large_sends_out_at_once");
    run(2, |world| {
        const K: usize = 40; // more than a block of rendezvous controls
        if world.rank() == 0 {
            let outs: Vec<Vec<u32>> = (0..K).map(|i| vec![i as u32; 3000 + i]).collect();
            scope(|scope| {
                let reqs: Vec<_> = outs
                    .iter()
                    .map(|o| {
                        world
                            .process_at_rank(1)
                            .immediate_send(scope, &o[..])
                            .unwrap()
                    })
                    .collect();
                // Let the receiver take them in its own order, then make sure all are done.
                let mut reqs = reqs;
                while test_all(&mut reqs).is_none() {
                    std::thread::yield_now();
                }
                assert!(reqs.is_empty());
            });
        } else {
            let mut got = 0;
            while got < K {
                let (v, s) = world.process_at_rank(0).receive_vec::<u32>().unwrap();
                assert_eq!(v.len(), 3000 + got);
                assert!(v.iter().all(|&x| x == got as u32), "{s:?}");
                got += 1;
            }
        }
    })
    .unwrap();
}

#[test]
fn receives_match_in_issue_order_across_blocking_and_immediate() {
    let _watchdog = common::watchdog("receives_match_in_issue_order_across_blocking_and_immediate");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 1 {
            for (k, tag) in [(1u32, 5), (2, 5), (3, 6), (4, 5)] {
                peer.send_with_tag(&k, tag).unwrap();
            }
            peer.send_with_tag(&vec![9u8; 200_000][..], 7).unwrap();
            return;
        }
        let (mut a, mut b, mut big) = (0u32, 0u32, vec![0u8; 200_000]);
        scope(|scope| {
            // Posted first: takes the first tag-5 message, though a blocking receive for tag 5
            // comes before it is waited for.
            let ra = peer
                .immediate_receive_into_with_tag(scope, &mut a, 5)
                .unwrap();
            let rb = peer
                .immediate_receive_into_with_tag(scope, &mut b, ANY_TAG)
                .unwrap();
            let (c, s) = {
                let mut c = 0u32;
                let s = peer.receive_into_with_tag(&mut c, 5).unwrap();
                (c, s)
            };
            // ra: 1 (tag 5); rb: 2 (any tag, the next); blocking: 4 (the next tag 5).
            assert_eq!((c, s.tag), (4, 5));
            let rbig = peer
                .immediate_receive_into_with_tag(scope, &mut big[..], 7)
                .unwrap();
            let mut rest = [Some(ra), Some(rb), Some(rbig)];
            let mut seen = Vec::new();
            while let Some((_, st)) = wait_any(&mut rest) {
                seen.push(st.unwrap().tag);
            }
            seen.sort();
            assert_eq!(seen, [5, 5, 7]);
            // The tag-6 message is still there.
            assert_eq!(peer.receive::<u32>().unwrap().0, 3);
        });
        assert_eq!((a, b), (1, 2));
        assert!(big.iter().all(|&x| x == 9));
    })
    .unwrap();
}

#[test]
fn the_scope_completes_requests_left_unwaited() {
    let _watchdog = common::watchdog("the_scope_completes_requests_left_unwaited");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        let out = vec![world.rank() as u64; 100_000];
        let mut got = vec![0u64; 100_000];
        scope(|scope| {
            let r = peer.immediate_receive_into(scope, &mut got[..]).unwrap();
            std::mem::forget(r); // even a leaked request is completed by its scope
            drop(peer.immediate_send(scope, &out[..]).unwrap());
        });
        assert!(got.iter().all(|&v| v == (1 - world.rank()) as u64));
        // test() on a receive that has nothing yet says so and keeps the request.
        let mut x = 0u8;
        scope(|scope| {
            let mut r = world
                .this_process()
                .immediate_receive_into(scope, &mut x)
                .unwrap();
            assert!(r.test().unwrap().is_none());
            assert!(!r.is_complete());
            world.this_process().send(&3u8).unwrap();
            assert_eq!(r.wait().unwrap().count, 1);
        });
        assert_eq!(x, 3);
    })
    .unwrap();
}

#[test]
fn errors_come_from_the_request() {
    let _watchdog = common::watchdog("errors_come_from_the_request");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        let mut small = [0u16; 2];
        let (mut b, mut unused) = (0u8, 0u8);
        scope(|scope| {
            assert!(matches!(
                world.process_at_rank(9).immediate_send(scope, &1u8),
                Err(Error::RankOutOfRange { rank: 9, .. })
            ));
            assert!(matches!(
                peer.immediate_receive_into_with_tag(scope, &mut unused, -4),
                Err(Error::InvalidTag { tag: -4 })
            ));
            let r = peer.immediate_receive_into(scope, &mut small[..]).unwrap();
            peer.send(&[1u16, 2, 3][..]).unwrap();
            let e = r.wait().unwrap_err();
            assert!(matches!(
                e,
                Error::Truncated {
                    message_len: 3,
                    buffer_len: 2,
                    ..
                }
            ));
            // A synchronous send to oneself works when a receive is posted.
            let r = world
                .this_process()
                .immediate_receive_into(scope, &mut b)
                .unwrap();
            let s = world
                .this_process()
                .immediate_synchronous_send_with_tag(scope, &4u8, 1)
                .unwrap();
            assert_eq!(wait_all(vec![r, s]).unwrap()[0].count, 1);
        });
        assert_eq!(small, [1, 2]);
        assert_eq!(b, 4);
    })
    .unwrap();
}

#[test]
fn a_panicking_scope_cancels_its_requests() {
    let _watchdog = common::watchdog("a_panicking_scope_cancels_its_requests");
    let r = run(2, |world| {
        let mut never = [0u8; 4];
        let big = vec![1u8; 1 << 20];
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scope(|scope| {
                // Nobody will match these: the scope must cancel them, not hang.
                let _r = world
                    .process_at_rank(1 - world.rank())
                    .immediate_receive_into_with_tag(scope, &mut never[..], 77)
                    .unwrap();
                let _s = world
                    .process_at_rank(1 - world.rank())
                    .immediate_send_with_tag(scope, &big[..], 78)
                    .unwrap();
                panic!("inside the scope");
            })
        }));
        assert!(caught.is_err());
        world.barrier().unwrap();
        // The cancelled send left a withdrawn offer behind: the peer drops its envelope, so
        // neither probe nor receive ever sees it (nor reads `big`, freed here).
        drop(big);
        let peer = world.process_at_rank(1 - world.rank());
        assert_eq!(peer.immediate_probe().unwrap(), None);
        world.barrier().unwrap();
        peer.send_with_tag(&5u8, 78).unwrap();
        let mut v = 0u8;
        peer.receive_into_with_tag(&mut v, 78).unwrap();
        assert_eq!(v, 5);
        never
    })
    .unwrap();
    assert_eq!(r, [[0u8; 4], [0u8; 4]]);
}
