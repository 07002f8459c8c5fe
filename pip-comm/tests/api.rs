//! The shape of the public API, call by call: results instead of panics, MPI's request
//! semantics (stable `wait_any` indices, a flat `test`), the argument order of the varcount
//! collectives, in-place root variants, and error messages that name what is wrong.

mod common;

use pip_comm::prelude::*;
use pip_comm::request::{scope, wait_any};
use pip_comm::{run, Error, SystemOperation, UserOperation, ANY_SOURCE};

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

#[test]
fn varcount_calls_take_send_then_receive_partitions() {
    let _watchdog = common::watchdog("varcount_calls_take_send_then_receive_partitions");
    let out = run(3, |world| {
        let me = world.rank() as usize;
        let root = world.process_at_rank(0);
        let counts = [1usize, 2, 3];
        let displs = pip_comm::collective::displacements(&counts);
        let all: Vec<u8> = (0..3u8).flat_map(|r| vec![r; r as usize + 1]).collect();
        // Scatter, then gather back: (send, receive), the root's side a partition.
        let mut mine = vec![9u8; counts[me]];
        let mut back = vec![0u8; 6];
        if me == 0 {
            let send = Partition::new(&all[..], &counts[..], &displs[..]);
            root.scatter_varcount_into_root(&send, &mut mine[..])
                .unwrap();
            let mut recv = PartitionMut::new(&mut back[..], &counts[..], &displs[..]);
            root.gather_varcount_into_root(&mine[..], &mut recv)
                .unwrap();
        } else {
            root.scatter_varcount_into(&mut mine[..]).unwrap();
            root.gather_varcount_into(&mine[..]).unwrap();
        }
        // All-to-all: (send partition, receive partition). Rank r sends one element to each
        // rank; so it receives one from each.
        let send = [me as u8; 3];
        let mut recv = [9u8; 3];
        let (ones, at) = ([1usize; 3], [0usize, 1, 2]);
        let send = Partition::new(&send[..], &ones[..], &at[..]);
        let mut into = PartitionMut::new(&mut recv[..], &ones[..], &at[..]);
        world.all_to_all_varcount_into(&send, &mut into).unwrap();
        (mine, back, recv)
    })
    .unwrap();
    for (r, (mine, _, recv)) in out.iter().enumerate() {
        assert_eq!(*mine, vec![r as u8; r + 1]);
        assert_eq!(*recv, [0, 1, 2]);
    }
    assert_eq!(out[0].1, [0, 1, 1, 2, 2, 2]);
}

#[test]
fn in_place_root_variants_on_other_ranks_follow_mpi() {
    let _watchdog = common::watchdog("in_place_root_variants_on_other_ranks_follow_mpi");
    run(3, |world| {
        let me = world.rank();
        let root = world.process_at_rank(0);
        // Gather: on a non-root the buffer is what it sends, all of it (MPI's sendbuf),
        // so every rank can make the same call.
        let mut buf = if me == 0 {
            vec![7u16, 7, 0, 0, 0, 0]
        } else {
            vec![me as u16 * 10; 2]
        };
        root.gather_in_place_root(&mut buf[..]).unwrap();
        if me == 0 {
            assert_eq!(buf, [7, 7, 10, 10, 20, 20]);
        }
        // A non-root buffer of the root's size is a count mismatch, not a silent first piece.
        let mut buf = [me as u16; 6];
        // (The ranks that read the other's count report it: here the non-roots.)
        let r = root.gather_in_place_root(&mut buf[..]);
        if me != 0 {
            assert!(
                matches!(
                    r,
                    Err(Error::CollectiveMismatch {
                        what: "the element count",
                        ours: 6,
                        theirs: 2,
                        ..
                    })
                ),
                "{r:?}"
            );
        }
        // Scatter: only the root works in place; another rank is told what to call (the
        // root's part is done: the other ranks copy from it, the failed ones nothing).
        let r = root.scatter_in_place_root(&[1u8, 2, 3][..]);
        if me != 0 {
            let e = r.unwrap_err();
            assert!(
                matches!(e, Error::InPlaceNotAtRoot { collective: "scatter", root: 0, rank } if rank == me),
                "{e:?}"
            );
            assert!(e.to_string().contains("call scatter_into"), "{e}");
        }
        // The world still works.
        world.barrier().unwrap();
    })
    .unwrap();
}

#[test]
fn all_to_all_names_the_length_it_needs() {
    let _watchdog = common::watchdog("all_to_all_names_the_length_it_needs");
    run(3, |world| {
        let mut recv = [0u8; 12];
        let e = world
            .all_to_all_into(&[0u8; 10][..], &mut recv[..])
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::CollectiveBufferNotMultiple {
                    what: "the send buffer",
                    len: 10,
                    size: 3
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(msg.contains("holds 10 elements"), "{msg}");
        assert!(
            msg.contains("not a multiple of the communicator size 3"),
            "{msg}"
        );
        assert!(!msg.contains("holds 9"), "{msg}");
    })
    .unwrap();
}

#[test]
fn mismatched_collectives_and_operations_are_named() {
    let _watchdog = common::watchdog("mismatched_collectives_and_operations_are_named");
    run(2, |world| {
        let me = world.rank();
        let op = if me == 0 {
            SystemOperation::max()
        } else {
            SystemOperation::sum()
        };
        let mut out = 0u32;
        let e = world.all_reduce_into(&1u32, &mut out, op).unwrap_err();
        let (ours, theirs) = if me == 0 { ("max", "sum") } else { ("sum", "max") };
        assert!(
            matches!(e, Error::CollectiveNameMismatch { what: "the operation", ours: o, theirs: t, .. } if o == ours && t == theirs),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains(&format!("the operation is {ours} on this rank but {theirs}")),
            "{e}"
        );
        // A user operation against a built-in one.
        let user = UserOperation::new(|_: &[u32], _: &mut [u32]| {});
        let r = if me == 0 {
            world.all_reduce_into(&1u32, &mut out, &user)
        } else {
            world.all_reduce_into(&1u32, &mut out, SystemOperation::sum())
        };
        let e = r.unwrap_err();
        assert!(e.to_string().contains("a user operation"), "{e}");
        // Different collectives: rank 1 sees rank 0's in the plan and names both.
        let mut b = [0u8; 1];
        let r = if me == 0 {
            world.process_at_rank(0).broadcast_into(&mut b[..])
        } else {
            world.all_reduce_into(&1u8, &mut b[0], SystemOperation::sum())
        };
        if me == 1 {
            let e = r.unwrap_err();
            assert!(
                e.to_string()
                    .contains("the collective is all_reduce on this rank but broadcast on rank 0"),
                "{e}"
            );
        }
        world.barrier().unwrap();
    })
    .unwrap();
}

#[test]
fn any_source_is_named_where_a_rank_is_needed() {
    let _watchdog = common::watchdog("any_source_is_named_where_a_rank_is_needed");
    run(2, |world| {
        let nowhere = world.process_at_rank(ANY_SOURCE);
        let e = nowhere.send(&1u8).unwrap_err();
        assert!(
            matches!(
                e,
                Error::AnySourceNotAllowed {
                    what: "the destination of a send",
                    size: 2
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("ANY_SOURCE cannot be the destination of a send"),
            "{msg}"
        );
        assert!(!msg.contains("-2"), "{msg}");
        scope(|scope| {
            let e = nowhere.immediate_send(scope, &1u8).unwrap_err();
            assert!(matches!(e, Error::AnySourceNotAllowed { .. }), "{e:?}");
        });
        let mut b = [0u8; 1];
        let e = nowhere.broadcast_into(&mut b[..]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("ANY_SOURCE cannot be the root of a collective"),
            "{e}"
        );
    })
    .unwrap();
}

/// The names before 0.2.0 still work for one release (deprecated): the type alias
/// `pip_comm::Communicator` and the methods `dup`, `split`, `iprobe`, `iprobe_with_tag`,
/// `sendrecv`, `sendrecv_replace`, `isend` and `irecv`.
#[test]
#[allow(deprecated)]
fn the_former_names_still_work() {
    let _watchdog = common::watchdog("the_former_names_still_work");
    fn size_of_world(world: &pip_comm::Communicator) -> i32 {
        world.size()
    }
    run(2, |world| {
        assert_eq!(size_of_world(&world), 2);
        let (me, other) = (world.rank(), 1 - world.rank());
        let dup = world.dup().unwrap();
        let half = world.split(me, 0).unwrap().unwrap();
        assert_eq!((dup.size(), half.size()), (2, 1));
        let mut got = 0u32;
        let s = world
            .sendrecv(&(me as u32), other, 5, &mut got, other, 5)
            .unwrap();
        assert_eq!((got, s.source), (other as u32, other));
        let mut v = [me; 3];
        world
            .sendrecv_replace(&mut v[..], other, 6, other, 6)
            .unwrap();
        assert_eq!(v, [other; 3]);
        let me_p = world.this_process();
        assert_eq!(me_p.iprobe().unwrap(), None);
        me_p.send_with_tag(&1u8, 3).unwrap();
        assert_eq!(me_p.iprobe_with_tag(3).unwrap().map(|p| p.bytes), Some(1));
        let mut b = 0u8;
        scope(|scope| {
            let r = me_p.irecv(scope, &mut b).unwrap();
            let s = me_p.isend(scope, &2u8).unwrap();
            r.wait().unwrap();
            s.wait().unwrap();
        });
        assert_eq!((b, me_p.receive::<u8>().unwrap().0), (1, 2));
    })
    .unwrap();
}

/// A matched probe takes the message out of the queue: a later receive gets the next one,
/// and the message is received through its handle (or dropped, which discards it).
#[test]
fn a_matched_probe_takes_its_message_out_of_the_queue() {
    let _watchdog = common::watchdog("a_matched_probe_takes_its_message_out_of_the_queue");
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 0 {
            for (i, len) in [3usize, 100_000, 5, 7].into_iter().enumerate() {
                peer.send_with_tag(&vec![i as u16; len][..], i as i32)
                    .unwrap();
            }
            return;
        }
        let (first, probed) = peer.matched_probe().unwrap();
        assert_eq!((probed.tag, probed.count::<u16>()), (0, Some(3)));
        // The second message (rendezvous) is next for a plain receive.
        let (second, status) = peer.receive_vec::<u16>().unwrap();
        assert_eq!((second.len(), status.tag), (100_000, 1));
        assert_eq!(first.matched_receive_vec::<u16>().unwrap().0, [0; 3]);
        // Wait for tag 3 so that tag 2 is queued too, then drop tag 2's handle unreceived.
        let (fourth, _) = world.any_process().matched_probe_with_tag(3).unwrap();
        let (third, p) = peer.immediate_matched_probe().unwrap().expect("queued");
        assert_eq!(p.tag, 2);
        drop(third);
        let mut buf = [0u16; 7];
        assert_eq!(fourth.matched_receive_into(&mut buf[..]).unwrap().count, 7);
        assert!(peer.immediate_matched_probe().unwrap().is_none());
    })
    .unwrap();
}
