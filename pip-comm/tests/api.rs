//! The shape of the public API, call by call: results instead of panics, MPI's request
//! semantics (stable `wait_any` indices, a flat `test`), the argument order of the varcount
//! collectives, in-place root variants, and error messages that name what is wrong.

mod common;

use pip_comm::request::{scope, wait_any};
use pip_comm::{run, Error};

#[test]
fn wait_any_returns_indices_into_the_unchanged_slice() {
    let _watchdog = common::watchdog("wait_any_returns_indices_into_the_unchanged_slice");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 1 {
            // In slot order: slot 0 finishes first, so a wait_any that closed the gap would
            // report slot 1 as index 0 next.
            for tag in 0..4 {
                peer.send_with_tag(&(tag as u32 * 100), tag).unwrap();
            }
            return;
        }
        let mut bufs = [0u32; 4];
        scope(|scope| {
            let mut reqs: Vec<_> = bufs
                .iter_mut()
                .zip(0..)
                .map(|(b, tag)| Some(peer.immediate_receive_into_with_tag(scope, b, tag).unwrap()))
                .collect();
            let mut seen = Vec::new();
            while let Some((i, status)) = wait_any(&mut reqs) {
                // Slot i is the receive for tag i, however many finished before it.
                assert_eq!(status.unwrap().tag, i as i32);
                assert!(reqs[i].is_none(), "the finished request leaves its slot");
                seen.push(i);
            }
            seen.sort();
            assert_eq!(seen, [0, 1, 2, 3]);
            assert!(wait_any(&mut reqs).is_none());
            assert!(wait_any(&mut []).is_none());
        });
        assert_eq!(bufs, [0, 100, 200, 300]);
    })
    .unwrap();
}

#[test]
fn test_reports_none_then_the_status_and_keeps_it() {
    let _watchdog = common::watchdog("test_reports_none_then_the_status_and_keeps_it");
    run(1, |world| {
        let me = world.this_process();
        let (mut v, mut small) = (0u8, [0u8; 1]);
        scope(|scope| {
            let mut r = me
                .immediate_receive_into_with_tag(scope, &mut v, 1)
                .unwrap();
            assert_eq!(r.test().unwrap(), None);
            me.send_with_tag(&7u8, 1).unwrap();
            let st = r
                .test()
                .unwrap()
                .expect("complete once the message is there");
            assert_eq!((st.source, st.tag, st.count), (0, 1, 1));
            // Complete stays complete: the same status again, from test and from wait.
            assert_eq!(r.test().unwrap(), Some(st));
            assert_eq!(r.wait().unwrap(), st);
            // An error is reported once.
            let mut r = me
                .immediate_receive_into_with_tag(scope, &mut small[..], 2)
                .unwrap();
            me.send_with_tag(&[1u8, 2][..], 2).unwrap();
            assert!(matches!(r.test(), Err(Error::Truncated { .. })));
            assert!(matches!(r.test(), Err(Error::RequestFinished)));
        });
        assert_eq!((v, small), (7, [1]));
    })
    .unwrap();
}

#[test]
fn immediate_synchronous_send_completes_only_when_matched() {
    let _watchdog = common::watchdog("immediate_synchronous_send_completes_only_when_matched");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 1 {
            // Matches the synchronous send only after rank 0's go-ahead.
            let mut x = 0u8;
            peer.receive_into_with_tag(&mut x, 9).unwrap();
            peer.receive_into_with_tag(&mut x, 0).unwrap();
            assert_eq!(x, 5);
            return;
        }
        scope(|scope| {
            let mut r = peer.immediate_synchronous_send(scope, &5u8).unwrap();
            assert_eq!(r.test().unwrap(), None, "rank 1 cannot have matched it yet");
            peer.send_with_tag(&0u8, 9).unwrap();
            let st = r.wait().unwrap();
            assert_eq!((st.tag, st.count), (0, 1));
        });
    })
    .unwrap();
}
