//! dup and split: ranks, keys, UNDEFINED, isolated matching spaces, barriers, errors.

mod common;

use pip_comm::prelude::*;
use pip_comm::request::scope;
use pip_comm::{run, Error, SystemOperation, ANY_SOURCE, ANY_TAG, UNDEFINED};

#[test]
fn dup_has_its_own_matching_space() {
    let _watchdog = common::watchdog("dup_has_its_own_matching_space");
    run(3, |world| {
        let a = world.duplicate().unwrap();
        let b = a.duplicate().unwrap();
        assert_eq!((b.rank(), b.size()), (world.rank(), 3));
        if world.rank() == 0 {
            // Same destination and tag on three communicators, in an order the receiver does
            // not receive them in.
            for (c, v) in [(&b, 3u32), (&world, 1), (&a, 2)] {
                c.process_at_rank(1).send_with_tag(&v, 0).unwrap();
            }
            a.process_at_rank(1).send(&vec![22u8; 300_000][..]).unwrap();
        } else if world.rank() == 1 {
            // Wildcards never cross communicators either.
            assert_eq!(a.any_process().receive::<u32>().unwrap().0, 2);
            assert_eq!(world.any_process().receive::<u32>().unwrap().0, 1);
            assert!(b.any_process().immediate_probe().unwrap().is_some());
            assert!(world.any_process().immediate_probe().unwrap().is_none());
            assert_eq!(b.process_at_rank(0).receive::<u32>().unwrap().0, 3);
            let (v, _) = a.process_at_rank(ANY_SOURCE).receive_vec::<u8>().unwrap();
            assert_eq!(v, vec![22u8; 300_000]);
        }
        a.barrier().unwrap();
        b.barrier().unwrap();
        world.barrier().unwrap();
    })
    .unwrap();
}

#[test]
fn split_orders_by_key_and_leaves_out_undefined() {
    let _watchdog = common::watchdog("split_orders_by_key_and_leaves_out_undefined");
    for n in [1, 2, 5, 7] {
        let out = run(n, |world| {
            let me = world.rank();
            // Rank 0 opts out; the others split in three colors, reversed by key.
            let color = if me == 0 { UNDEFINED } else { me % 3 };
            let sub = world
                .split_by_color_with_key(Color::with_value(color), 100 - me)
                .unwrap();
            let Some(sub) = sub else {
                assert_eq!(me, 0);
                world.barrier().unwrap();
                return None;
            };
            let members: Vec<i32> = (1..world.size()).filter(|r| r % 3 == color).rev().collect();
            assert_eq!(sub.size() as usize, members.len());
            assert_eq!(members[sub.rank() as usize], me);
            // Ranks in a split communicator are its own: a ring in it, any-source receive.
            let (r, s) = (sub.rank(), sub.size());
            sub.process_at_rank((r + 1) % s).send(&me).unwrap();
            let (from, st) = sub.any_process().receive::<i32>().unwrap();
            assert_eq!(st.source, (r + s - 1) % s);
            assert_eq!(from, members[st.source as usize]);
            // A nested split, non-blocking traffic and barriers in it.
            let pair = sub
                .split_by_color_with_key(Color::with_value(r / 2), 0)
                .unwrap()
                .unwrap();
            let mut got = -1i32;
            scope(|scope| {
                let peer = pair.process_at_rank(1 - pair.rank());
                if pair.size() == 2 {
                    let rr = peer.immediate_receive_into(scope, &mut got).unwrap();
                    let ss = peer.immediate_send(scope, &me).unwrap();
                    pip_comm::request::wait_all(vec![rr, ss]).unwrap();
                }
            });
            pair.barrier().unwrap();
            sub.barrier().unwrap();
            world.barrier().unwrap();
            Some((sub.rank(), sub.size(), got))
        })
        .unwrap();
        assert_eq!(out[0], None);
    }
}

#[test]
fn split_errors_are_typed() {
    let _watchdog = common::watchdog("split_errors_are_typed");
    run(3, |world| {
        // An invalid color is reported to its rank, which still takes part (as UNDEFINED).
        let r = world.split_by_color(Color::with_value(if world.rank() == 1 { -7 } else { 0 }));
        if world.rank() == 1 {
            let e = r.unwrap_err();
            assert!(matches!(e, Error::InvalidColor { color: -7 }), "{e}");
        } else {
            assert_eq!(r.unwrap().unwrap().size(), 2);
        }
        // Sub-communicator ranks are checked against the sub-communicator's size.
        let sub = world
            .split_by_color_with_key(Color::with_value(0), 0)
            .unwrap()
            .unwrap();
        let tiny = sub
            .split_by_color_with_key(Color::with_value(sub.rank()), 0)
            .unwrap()
            .unwrap();
        assert_eq!(tiny.size(), 1);
        assert!(matches!(
            tiny.process_at_rank(1).send(&1u8),
            Err(Error::RankOutOfRange { rank: 1, size: 1 })
        ));
        tiny.this_process().send_with_tag(&9u8, 3).unwrap();
        let (v, s) = tiny.any_process().receive::<u8>().unwrap();
        assert_eq!((v, s.source, s.tag), (9, 0, 3));
        assert!(world
            .any_process()
            .immediate_probe_with_tag(ANY_TAG)
            .unwrap()
            .is_none());
    })
    .unwrap();
}

#[test]
fn create_from_members_involves_the_members_only() {
    let _watchdog = common::watchdog("create_from_members_involves_the_members_only");
    run(5, |world| {
        let me = world.rank();
        // Ranks 4, 2, 0 make one communicator and ranks 1, 3 another, at the same time and
        // with the same tag (their leaders differ); nobody else calls either creation.
        let group: &[i32] = if me % 2 == 0 { &[4, 2, 0] } else { &[1, 3] };
        let c = world.create_from_members(group, 5).unwrap().unwrap();
        let expected_rank = group.iter().position(|&r| r == me).unwrap() as i32;
        assert_eq!((c.rank(), c.size()), (expected_rank, group.len() as i32));
        // Every member sends its world rank to the next one: the ring is the group's order.
        let n = c.size();
        let next = c.process_at_rank((c.rank() + 1) % n);
        let prev = c.process_at_rank((c.rank() + n - 1) % n);
        scope(|s| {
            let _send = next.immediate_send(s, &me);
            let (got, status) = prev.receive::<i32>().unwrap();
            let before = group[((expected_rank + n - 1) % n) as usize];
            assert_eq!((got, status.source), (before, (c.rank() + n - 1) % n));
        });
        c.barrier().unwrap();
        let mut sum = 0i32;
        c.all_reduce_into(&me, &mut sum, SystemOperation::sum())
            .unwrap();
        assert_eq!(sum, group.iter().sum::<i32>());

        // Overlapping members with different tags: ranks 0-2 and ranks 1-3, the shared ranks
        // calling in opposite orders.
        let (low, high) = ([0, 1, 2], [3, 2, 1]);
        let mut made: Vec<_> = match me {
            0 => vec![(1, world.create_from_members(&low, 1))],
            3 => vec![(2, world.create_from_members(&high, 2))],
            1 => vec![
                (1, world.create_from_members(&low, 1)),
                (2, world.create_from_members(&high, 2)),
            ],
            2 => vec![
                (2, world.create_from_members(&high, 2)),
                (1, world.create_from_members(&low, 1)),
            ],
            _ => {
                assert!(world.create_from_members(&low, 1).unwrap().is_none());
                vec![]
            }
        };
        // Their barriers in one order (low, then high), as collectives need.
        made.sort_by_key(|(tag, _)| *tag);
        for (_, m) in made {
            let c = m.unwrap().unwrap();
            assert_eq!(c.size(), 3);
            c.barrier().unwrap();
        }
        world.barrier().unwrap();
    })
    .unwrap();
}

#[test]
fn create_from_members_checks_its_arguments_before_sending() {
    run(2, |world| {
        for (members, tag) in [(&[0, 2][..], 0), (&[-1][..], 0)] {
            assert!(matches!(
                world.create_from_members(members, tag),
                Err(Error::RankOutOfRange { size: 2, .. })
            ));
        }
        assert!(matches!(
            world.create_from_members(&[1, 0, 1], 0),
            Err(Error::DuplicateMember { rank: 1 })
        ));
        assert!(matches!(
            world.create_from_members(&[0, 1], -3),
            Err(Error::InvalidTag { tag: -3 })
        ));
        // The world still works: nothing was sent.
        world.barrier().unwrap();
        let c = world
            .create_from_members(&[1, 0], pip_comm::MAX_TAG)
            .unwrap()
            .unwrap();
        assert_eq!(c.rank(), 1 - world.rank());
    })
    .unwrap();
}
