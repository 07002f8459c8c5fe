//! Probe, send-receive, synchronous send and ownership transfer over thread ranks.

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, send_receive_into_with_tags, send_receive_replace_into, Error, ANY_TAG};
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn probe_reports_without_receiving() {
    let _watchdog = common::watchdog("probe_reports_without_receiving");
    run(3, |world| {
        let me = world.rank();
        if me == 0 {
            for _ in 0..2 {
                // Whatever size (eager or rendezvous), probe first, then receive exactly it.
                let p = world.any_process().probe_with_tag(5).unwrap();
                assert_eq!(p.tag, 5);
                let n = p.count::<u32>().unwrap();
                assert_eq!(n, if p.source == 1 { 3 } else { 100_000 });
                // Probing again sees the same message.
                assert_eq!(world.process_at_rank(p.source).probe().unwrap(), p);
                let mut buf = vec![0u32; n];
                let s = world
                    .process_at_rank(p.source)
                    .receive_into_with_tag(&mut buf[..], 5)
                    .unwrap();
                assert_eq!((s.source, s.count), (p.source, n));
                assert!(buf.iter().all(|&v| v == p.source as u32));
            }
            assert_eq!(world.any_process().immediate_probe().unwrap(), None);
            assert_eq!(
                world
                    .process_at_rank(2)
                    .immediate_probe_with_tag(ANY_TAG)
                    .unwrap(),
                None
            );
            assert!(matches!(
                world.process_at_rank(3).immediate_probe(),
                Err(Error::RankOutOfRange { rank: 3, .. })
            ));
            assert!(matches!(
                world.any_process().probe_with_tag(-5),
                Err(Error::InvalidTag { tag: -5 })
            ));
        } else {
            let len = if me == 1 { 3 } else { 100_000 };
            world
                .process_at_rank(0)
                .send_with_tag(&vec![me as u32; len][..], 5)
                .unwrap();
        }
        world.barrier().unwrap();
    })
    .unwrap();
}

#[test]
fn sendrecv_shifts_a_ring_of_large_messages() {
    let _watchdog = common::watchdog("sendrecv_shifts_a_ring_of_large_messages");
    for n in [1, 2, 3, 5] {
        run(n, |world| {
            let (me, n) = (world.rank(), world.size());
            let (right, left) = ((me + 1) % n, (me + n - 1) % n);
            let (to, from) = (world.process_at_rank(right), world.process_at_rank(left));
            for len in [0usize, 10, 5000, 1 << 20] {
                // Every rank sends before receiving: only the posted receive avoids a deadlock.
                let out = vec![me as u8; len];
                let mut got = vec![0xffu8; len];
                let s =
                    send_receive_into_with_tags(&out[..], &to, 3, &mut got[..], &from, 3).unwrap();
                assert_eq!((s.source, s.tag, s.count), (left, 3, len));
                assert!(got.iter().all(|&b| b == left as u8));
                let mut v = vec![me as u16; len / 2];
                let any = world.any_process();
                let s = send_receive_replace_into(&mut v[..], &to, 4, &any, ANY_TAG).unwrap();
                assert_eq!((s.source, s.tag), (left, 4));
                assert!(v.iter().all(|&x| x == left as u16));
            }
            // Truncation on the receiving side is reported; the send still completed.
            let mut small = [0u8; 2];
            let e = send_receive_into_with_tags(&[1u8, 2, 3][..], &to, 9, &mut small[..], &from, 9)
                .unwrap_err();
            assert!(matches!(
                e,
                Error::Truncated {
                    message_len: 3,
                    buffer_len: 2,
                    ..
                }
            ));
            world.barrier().unwrap();
        })
        .unwrap();
    }
}

#[test]
fn synchronous_send_waits_for_the_match() {
    let _watchdog = common::watchdog("synchronous_send_waits_for_the_match");
    let done = AtomicBool::new(false);
    run(2, |world| {
        if world.rank() == 0 {
            world.process_at_rank(1).synchronous_send(&7u8).unwrap();
            done.store(true, Ordering::SeqCst);
        } else {
            // A small message: a standard send would have returned at once. Give the sender
            // time to (wrongly) finish; the check itself does not depend on timing.
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                !done.load(Ordering::SeqCst),
                "ssend returned before the match"
            );
            assert_eq!(world.process_at_rank(0).receive::<u8>().unwrap().0, 7);
        }
        world.barrier().unwrap();
        assert!(done.load(Ordering::SeqCst));
        // Large ones too, and to oneself only with a posted receive.
        if world.rank() == 1 {
            world
                .process_at_rank(0)
                .synchronous_send_with_tag(&vec![3u64; 50_000][..], 2)
                .unwrap();
        } else {
            let (v, _) = world.process_at_rank(1).receive_vec::<u64>().unwrap();
            assert_eq!(v, vec![3u64; 50_000]);
        }
        let e = world.this_process().synchronous_send(&1u8).unwrap_err();
        assert!(matches!(e, Error::SynchronousSendToSelf { tag: 0 }), "{e}");
        assert!(e.to_string().contains("would never complete"));
    })
    .unwrap();
}

#[test]
fn send_vec_moves_64_mib_without_copying() {
    let _watchdog = common::watchdog("send_vec_moves_64_mib_without_copying");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 0 {
            let v: Vec<u64> = (0..(64 << 20) / 8).collect();
            let addr = v.as_ptr() as usize;
            peer.send_vec_with_tag(v, 11).unwrap();
            peer.send(&addr).unwrap();
        } else {
            let (v, s) = peer.recv_vec_with_tag::<u64>(11).unwrap();
            let (addr, _) = peer.receive::<usize>().unwrap();
            assert_eq!(v.as_ptr() as usize, addr, "the same allocation arrived");
            assert_eq!((s.source, s.tag, s.count), (0, 11, (64 << 20) / 8));
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
            // And back again, freed by its original owner's allocator (the same one).
            peer.send_vec(v).unwrap();
        }
        if world.rank() == 0 {
            let (v, _) = peer.recv_vec::<u64>().unwrap();
            assert_eq!(v.len(), (64 << 20) / 8);
        }
    })
    .unwrap();
}

#[test]
fn owned_messages_match_every_kind_of_receive() {
    let _watchdog = common::watchdog("owned_messages_match_every_kind_of_receive");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 0 {
            peer.send_vec(vec![1u8, 2, 3, 4]).unwrap(); // into a buffer: copied and freed
            peer.send_vec(vec![[5u8, 6], [7, 8]]).unwrap(); // as u8: same allocation
            peer.send_vec(vec![9u32; 3]).unwrap(); // as u64: copied (alignment differs)
            peer.send(&[10u16, 11]).unwrap(); // an ordinary message as recv_vec
            peer.send_vec(Vec::<u8>::new()).unwrap(); // empty
            let e = world.process_at_rank(2).send_vec(vec![1u8]).unwrap_err();
            assert_eq!(e.vec, [1]);
            assert!(matches!(e.error, Error::RankOutOfRange { rank: 2, .. }));
            // To oneself.
            world.this_process().send_vec(vec![42i64; 10]).unwrap();
            let (v, s) = world.this_process().recv_vec::<i64>().unwrap();
            assert_eq!((v, s.count), (vec![42i64; 10], 10));
        } else {
            let mut buf = [0u8; 8];
            let s = peer.receive_into(&mut buf[..]).unwrap();
            assert_eq!((s.count, &buf[..4]), (4, &[1u8, 2, 3, 4][..]));
            let (v, s) = peer.recv_vec::<u8>().unwrap();
            assert_eq!((v, s.count), (vec![5, 6, 7, 8], 4));
            // 12 bytes as 4 elements of [u8; 3]: copied out (the alignment differs).
            let (v, s) = peer.recv_vec::<[u8; 3]>().unwrap();
            assert_eq!(s.count, 4);
            assert_eq!(v.concat(), [9u32; 3].map(u32::to_ne_bytes).concat());
            let (v, _) = peer.recv_vec::<u16>().unwrap();
            assert_eq!(v, [10, 11]);
            let (v, s) = peer.recv_vec::<u8>().unwrap();
            assert_eq!((v.len(), s.count), (0, 0));
        }
    })
    .unwrap();
}
