//! Point-to-point over thread ranks: sizes across every protocol, tags, wildcards, ordering,
//! errors.

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, Error, SimpleCommunicator, Status, ANY_SOURCE, ANY_TAG, MAX_TAG};

/// Message sizes (bytes) that cover inline, eager, the eager limit, rendezvous and the shared
/// chunked copy.
fn sizes(world: &SimpleCommunicator) -> Vec<usize> {
    let e = world.eager_limit();
    vec![
        0,
        1,
        7,
        48,
        49,
        1000,
        4096,
        e,
        e + 1,
        3 * e + 5,
        300_000,
        1_000_003,
    ]
}

fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ seed.wrapping_mul(7)) as u8)
        .collect()
}

#[test]
fn ring_exchange_on_2_to_8_ranks() {
    let _watchdog = common::watchdog("ring_exchange_on_2_to_8_ranks");
    for n in 2..=8 {
        run(n, |world| {
            let (me, n) = (world.rank(), world.size());
            let right = world.process_at_rank((me + 1) % n);
            let left = world.process_at_rank((me + n - 1) % n);
            for (i, len) in sizes(&world).into_iter().enumerate() {
                // Even ranks send first, odd ranks receive first: no cycle of blocked
                // rendezvous sends, whatever n is (rank n-1 and 0 may both be even).
                let data = pattern(len, me as usize * 100 + i);
                let expect = pattern(len, ((me + n - 1) % n) as usize * 100 + i);
                let tag = i as i32;
                let mut got = vec![0u8; len];
                let recv = |got: &mut Vec<u8>| {
                    let s = left.receive_into_with_tag(&mut got[..], tag).unwrap();
                    assert_eq!(
                        s,
                        Status {
                            source: (me + n - 1) % n,
                            tag,
                            count: len
                        }
                    );
                };
                if me % 2 == 0 && me != n - 1 {
                    right.send_with_tag(&data[..], tag).unwrap();
                    recv(&mut got);
                } else {
                    recv(&mut got);
                    right.send_with_tag(&data[..], tag).unwrap();
                }
                assert_eq!(got, expect, "rank {me}, size {len}");
            }
            world.barrier().unwrap();
        })
        .unwrap();
    }
}

#[test]
fn receive_vec_gets_the_exact_length() {
    let _watchdog = common::watchdog("receive_vec_gets_the_exact_length");
    run(2, |world| {
        let sizes = sizes(&world);
        if world.rank() == 0 {
            for &len in &sizes {
                let v: Vec<u32> = (0..len as u32).collect();
                world.process_at_rank(1).send(&v).unwrap();
            }
        } else {
            for &len in &sizes {
                let (v, s) = world.process_at_rank(0).receive_vec::<u32>().unwrap();
                assert_eq!(s.count, len);
                assert!(v.iter().copied().eq(0..len as u32));
            }
        }
    })
    .unwrap();
}

#[test]
fn tags_pick_messages_and_keep_order_per_tag() {
    let _watchdog = common::watchdog("tags_pick_messages_and_keep_order_per_tag");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 0 {
            for (i, tag) in [1, 2, 3, 1, 2, 3, 1].into_iter().enumerate() {
                peer.send_with_tag(&(i as u64), tag).unwrap();
            }
            // A rendezvous message behind eager ones with another tag.
            peer.send_with_tag(&vec![9u8; 200_000], 4).unwrap();
        } else {
            let got = |tag| {
                let (v, s) = peer.receive_vec_with_tag::<u64>(tag).unwrap();
                (v[0], s.tag)
            };
            assert_eq!(got(3), (2, 3));
            assert_eq!(got(1), (0, 1));
            assert_eq!(got(1), (3, 1));
            assert_eq!(got(ANY_TAG), (1, 2));
            assert_eq!(got(3), (5, 3));
            let (big, s) = peer.receive_vec_with_tag::<u8>(4).unwrap();
            assert_eq!((big.len(), s.tag), (200_000, 4));
            assert_eq!(got(ANY_TAG), (4, 2));
            assert_eq!(got(ANY_TAG), (6, 1));
        }
    })
    .unwrap();
}

#[test]
fn any_source_sees_every_sender_in_order() {
    let _watchdog = common::watchdog("any_source_sees_every_sender_in_order");
    const PER_SENDER: u64 = 300;
    run(5, |world| {
        let n = world.size();
        if world.rank() == 0 {
            let mut next = vec![0u64; n as usize];
            for _ in 0..PER_SENDER * (n as u64 - 1) {
                let mut v = 0u64;
                let s = world
                    .any_process()
                    .receive_into_with_tag(&mut v, 0)
                    .unwrap();
                assert_eq!(v, next[s.source as usize], "from {}", s.source);
                next[s.source as usize] += 1;
            }
            assert!(next[1..].iter().all(|&c| c == PER_SENDER));
            // Wildcard source with a specific tag.
            for _ in 1..n {
                let (_, s) = world
                    .process_at_rank(ANY_SOURCE)
                    .receive_vec_with_tag::<u8>(77)
                    .unwrap();
                assert_eq!(s.tag, 77);
            }
        } else {
            for i in 0..PER_SENDER {
                world.process_at_rank(0).send(&i).unwrap();
            }
            world
                .process_at_rank(0)
                .send_with_tag(&[1u8, 2], 77)
                .unwrap();
        }
    })
    .unwrap();
}

#[test]
fn truncation_reports_both_sizes_and_loses_nothing_else() {
    let _watchdog = common::watchdog("truncation_reports_both_sizes_and_loses_nothing_else");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        let big = world.eager_limit() + 1000;
        if world.rank() == 0 {
            peer.send(&[1u32, 2, 3, 4, 5, 6, 7, 8, 9, 10]).unwrap();
            peer.send(&[11u32, 12]).unwrap();
            peer.send(&vec![5u8; big]).unwrap();
            peer.send(&[13u32]).unwrap();
        } else {
            let mut small = [0u32; 4];
            match peer.receive_into(&mut small[..]) {
                Err(Error::Truncated {
                    sender: 0,
                    tag: 0,
                    message_len: 10,
                    buffer_len: 4,
                }) => {}
                other => panic!("expected truncation, got {other:?}"),
            }
            assert_eq!(small, [1, 2, 3, 4]);
            let (v, _) = peer.receive_vec::<u32>().unwrap();
            assert_eq!(v, [11, 12]);
            let mut part = vec![0u8; 100];
            assert!(matches!(
                peer.receive_into(&mut part[..]),
                Err(Error::Truncated { message_len, buffer_len: 100, .. }) if message_len == big
            ));
            assert_eq!(part, vec![5u8; 100]);
            assert_eq!(peer.receive::<u32>().unwrap().0, 13);
        }
    })
    .unwrap();
}

#[test]
fn element_size_mismatch_is_reported() {
    let _watchdog = common::watchdog("element_size_mismatch_is_reported");
    run(2, |world| {
        if world.rank() == 0 {
            world.process_at_rank(1).send(&[1u8, 2, 3]).unwrap();
            world.process_at_rank(1).send(&[1u8, 2, 3, 4]).unwrap();
        } else {
            let e = world.process_at_rank(0).receive_vec::<u32>().unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::PartialElement {
                        message_bytes: 3,
                        element_size: 4,
                        ..
                    }
                ),
                "{e}"
            );
            let (v, s) = world.process_at_rank(0).receive_vec::<u32>().unwrap();
            assert_eq!((v, s.count), (vec![u32::from_ne_bytes([1, 2, 3, 4])], 1));
        }
    })
    .unwrap();
}

#[test]
fn bad_ranks_and_tags_are_errors() {
    let _watchdog = common::watchdog("bad_ranks_and_tags_are_errors");
    run(3, |world| {
        let mut buf = [0u8; 4];
        let out_of_range = |e: Error, rank| matches!(e, Error::RankOutOfRange { rank: r, size: 3 } if r == rank);
        assert!(out_of_range(world.process_at_rank(3).send(&1u8).unwrap_err(), 3));
        assert!(out_of_range(world.process_at_rank(-1).send(&1u8).unwrap_err(), -1));
        assert!(matches!(
            world.process_at_rank(ANY_SOURCE).send(&1u8).unwrap_err(),
            Error::AnySourceNotAllowed { what: "the destination of a send", size: 3 }
        ));
        assert!(out_of_range(world.process_at_rank(7).receive_into(&mut buf[..]).unwrap_err(), 7));
        let peer = world.process_at_rank((world.rank() + 1) % 3);
        for tag in [-5, ANY_TAG, MAX_TAG + 1, i32::MAX] {
            assert!(matches!(peer.send_with_tag(&1u8, tag), Err(Error::InvalidTag { tag: t }) if t == tag));
        }
        assert!(matches!(peer.receive_into_with_tag(&mut buf[..], -3), Err(Error::InvalidTag { tag: -3 })));
        // The largest user tag works.
        peer.send_with_tag(&5u8, MAX_TAG).unwrap();
        let (v, s) = world.any_process().receive::<u8>().unwrap();
        assert_eq!((v, s.tag), (5, MAX_TAG));
        let msg = Error::RankOutOfRange { rank: 3, size: 3 }.to_string();
        assert!(msg.contains("rank 3") && msg.contains("3 ranks"), "{msg}");
    })
    .unwrap();
}

#[test]
fn sends_to_self_are_buffered() {
    let _watchdog = common::watchdog("sends_to_self_are_buffered");
    run(1, |world| {
        let me = world.this_process();
        me.send_with_tag(&vec![3u16; 500_000], 1).unwrap();
        me.send_with_tag(&7u16, 2).unwrap();
        assert_eq!(me.receive_vec_with_tag::<u16>(2).unwrap().0, vec![7]);
        let (v, s) = world.any_process().receive_vec::<u16>().unwrap();
        assert_eq!((v.len(), s.source, s.tag), (500_000, 0, 1));
        world.barrier().unwrap();
    })
    .unwrap();
}

#[test]
fn floats_and_arrays_travel() {
    let _watchdog = common::watchdog("floats_and_arrays_travel");
    run(2, |world| {
        if world.rank() == 0 {
            world.process_at_rank(1).send(&[[1.5f64, -2.0]; 3]).unwrap();
            world.process_at_rank(1).send(&f32::NAN).unwrap();
        } else {
            let (v, s) = world.process_at_rank(0).receive_vec::<[f64; 2]>().unwrap();
            assert_eq!((v, s.count), (vec![[1.5, -2.0]; 3], 3));
            assert!(world
                .process_at_rank(0)
                .receive::<f32>()
                .unwrap()
                .0
                .is_nan());
        }
    })
    .unwrap();
}
