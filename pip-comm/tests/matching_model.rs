//! Model-based test of MPI matching: random programs of sends and receives (random tags,
//! sizes and wildcards, 2 to 5 ranks) checked against a reference model.
//!
//! Ranks 1.. each send a random list of messages to rank 0, which receives them all with
//! random filters. Each filter is built from a message the model still holds (so some
//! message always matches), with its source and/or tag replaced by a wildcard at random. The
//! model says what MPI allows: a receive naming a source gets the earliest pending message
//! from that source that matches; a receive from any source gets, from whichever source it
//! picks, the earliest pending message of that source that matches. Payload, tag, source and
//! count are all checked. Messages stay within the eager limit, so a sender never waits for a
//! receive (larger messages would make some random orders deadlock, as in MPI).

mod common;

use pip_comm::{run, ANY_SOURCE, ANY_TAG};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Msg {
    tag: i32,
    len: usize,
}

/// The payload of message `seq` from `src`: identifies it.
fn payload(src: i32, seq: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (src as usize * 131 + seq * 31 + i * 7) as u8)
        .collect()
}

/// A receive: which pending message to build the filter from (an index into all pending
/// messages, taken modulo their number), and whether to make source and tag wildcards.
#[derive(Debug, Clone)]
struct Recv {
    pick: usize,
    any_source: bool,
    any_tag: bool,
}

fn program() -> impl Strategy<Value = (Vec<Vec<Msg>>, Vec<Recv>)> {
    let msg =
        (0i32..4, prop_oneof![0usize..=48, 0usize..=512]).prop_map(|(tag, len)| Msg { tag, len });
    let senders = prop::collection::vec(prop::collection::vec(msg, 0..30), 1..5);
    senders.prop_flat_map(|senders| {
        let total: usize = senders.iter().map(Vec::len).sum();
        let recv = (any::<usize>(), any::<bool>(), any::<bool>()).prop_map(
            |(pick, any_source, any_tag)| Recv {
                pick,
                any_source,
                any_tag,
            },
        );
        (Just(senders), prop::collection::vec(recv, total))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn matching_follows_the_mpi_rules((senders, receives) in program()) {
        let _watchdog = common::watchdog("matching_follows_the_mpi_rules");
        let n = senders.len() + 1;
        let eager = 512;
        run(n, |world| {
            assert!(world.eager_limit() >= eager, "the test needs an eager limit of at least {eager}");
            let me = world.rank();
            if me > 0 {
                for (seq, m) in senders[me as usize - 1].iter().enumerate() {
                    world.process_at_rank(0).send_with_tag(&payload(me, seq, m.len), m.tag).unwrap();
                }
                return;
            }
            // The model: per source, the messages not yet received, with their sequence numbers.
            let mut pending: Vec<Vec<(usize, Msg)>> =
                senders.iter().map(|list| list.iter().cloned().enumerate().collect()).collect();
            for r in &receives {
                let all: Vec<(usize, usize)> = pending
                    .iter()
                    .enumerate()
                    .flat_map(|(s, list)| (0..list.len()).map(move |i| (s, i)))
                    .collect();
                let (s, i) = all[r.pick % all.len()];
                let source = if r.any_source { ANY_SOURCE } else { s as i32 + 1 };
                let tag = if r.any_tag { ANY_TAG } else { pending[s][i].1.tag };
                let (v, status) = world.process_at_rank(source).receive_vec_with_tag::<u8>(tag).unwrap();
                let from = status.source as usize - 1;
                if source != ANY_SOURCE {
                    assert_eq!(status.source, source);
                }
                // The earliest pending message from that source that the filter accepts.
                let k = pending[from]
                    .iter()
                    .position(|(_, m)| tag == ANY_TAG || m.tag == tag)
                    .unwrap_or_else(|| panic!("received {status:?}, which the model has no match for"));
                let (seq, m) = pending[from].remove(k);
                assert_eq!((status.tag, status.count), (m.tag, m.len), "message {seq} from {}", from + 1);
                assert!(v == payload(status.source, seq, m.len), "wrong payload for message {seq} from {}", from + 1);
            }
            assert!(pending.iter().all(Vec::is_empty));
        })
        .unwrap();
    }
}

/// One operation of rank 0 in the mixed program. Each consumes one message.
#[derive(Debug, Clone)]
enum Op {
    /// A blocking receive (as in the first test).
    Blocking(Recv),
    /// A non-blocking receive from a named source (any tag or the message's), completed later.
    Immediate { pick: usize, any_tag: bool },
    /// A blocking probe, then a receive of exactly the probed message by its source and tag.
    Probe(Recv),
}

fn mixed_program() -> impl Strategy<Value = (Vec<Vec<Msg>>, Vec<(Op, bool)>)> {
    let msg =
        (0i32..4, prop_oneof![0usize..=48, 0usize..=512]).prop_map(|(tag, len)| Msg { tag, len });
    let senders = prop::collection::vec(prop::collection::vec(msg, 0..25), 1..5);
    senders.prop_flat_map(|senders| {
        let total: usize = senders.iter().map(Vec::len).sum();
        let recv = (any::<usize>(), any::<bool>(), any::<bool>()).prop_map(
            |(pick, any_source, any_tag)| Recv {
                pick,
                any_source,
                any_tag,
            },
        );
        let op = prop_oneof![
            recv.clone().prop_map(Op::Blocking),
            (any::<usize>(), any::<bool>())
                .prop_map(|(pick, any_tag)| Op::Immediate { pick, any_tag }),
            recv.prop_map(Op::Probe),
        ];
        // The flag: wait for every outstanding immediate receive after this operation.
        (
            Just(senders),
            prop::collection::vec((op, prop::bool::weighted(0.2)), total),
        )
    })
}

/// The model: per source, the messages no receive has taken, with their sequence numbers.
type Model = Vec<Vec<(usize, Msg)>>;

/// Builds a filter from a pending message: (source rank or ANY_SOURCE, tag or ANY_TAG).
fn filter_from(model: &Model, pick: usize, any_source: bool, any_tag: bool) -> (i32, i32) {
    let all: Vec<(usize, usize)> = model
        .iter()
        .enumerate()
        .flat_map(|(s, list)| (0..list.len()).map(move |i| (s, i)))
        .collect();
    let (s, i) = all[pick % all.len()];
    let source = if any_source { ANY_SOURCE } else { s as i32 + 1 };
    let tag = if any_tag { ANY_TAG } else { model[s][i].1.tag };
    (source, tag)
}

/// Removes and returns the earliest pending message from `source` (a rank) that `tag`
/// accepts: what MPI says a receive from that source gets.
fn take_earliest(model: &mut Model, source: i32, tag: i32) -> (usize, Msg) {
    let list = &mut model[source as usize - 1];
    let k = list
        .iter()
        .position(|(_, m)| tag == ANY_TAG || m.tag == tag)
        .unwrap_or_else(|| panic!("no pending message from {source} with tag {tag}"));
    list.remove(k)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    /// Blocking receives, immediate receives and probes interleaved: receives match in the
    /// order they were issued, whatever mix of kinds, and probes name the message the next
    /// matching receive gets.
    #[test]
    fn matching_holds_across_immediate_receives_and_probes((senders, ops) in mixed_program()) {
        let _watchdog = common::watchdog("matching_holds_across_immediate_receives_and_probes");
        let n = senders.len() + 1;
        run(n, |world| {
            let me = world.rank();
            if me > 0 {
                for (seq, m) in senders[me as usize - 1].iter().enumerate() {
                    world.process_at_rank(0).send_with_tag(&payload(me, seq, m.len), m.tag).unwrap();
                }
                return;
            }
            let mut model: Model =
                senders.iter().map(|list| list.iter().cloned().enumerate().collect()).collect();
            let mut bufs = vec![vec![0u8; 512]; ops.len()];
            let mut free = bufs.iter_mut().enumerate();
            // What each immediate receive must get: (buffer, source, sequence number, message).
            let mut expected = Vec::new();
            pip_comm::request::scope(|scope| {
                // Outstanding immediate receives, with the message the model says they get.
                let mut outstanding = Vec::new();
                let check = |outstanding: &mut Vec<(pip_comm::request::Request<'_>, i32, Msg)>| {
                    for (r, source, m) in outstanding.drain(..) {
                        let status = r.wait().unwrap();
                        assert_eq!((status.source, status.tag, status.count), (source, m.tag, m.len));
                    }
                };
                for (op, flush) in &ops {
                    match op {
                        Op::Blocking(r) => {
                            let (source, tag) = filter_from(&model, r.pick, r.any_source, r.any_tag);
                            let (v, status) = world.process_at_rank(source).receive_vec_with_tag::<u8>(tag).unwrap();
                            let (seq, m) = take_earliest(&mut model, status.source, tag);
                            assert_eq!((status.tag, status.count), (m.tag, m.len));
                            assert!(v == payload(status.source, seq, m.len), "blocking receive got the wrong message");
                        }
                        Op::Immediate { pick, any_tag } => {
                            let (source, tag) = filter_from(&model, *pick, false, *any_tag);
                            let (seq, m) = take_earliest(&mut model, source, tag);
                            let (i, buf) = free.next().unwrap();
                            let r = world
                                .process_at_rank(source)
                                .immediate_receive_into_with_tag(scope, &mut buf[..], tag)
                                .unwrap();
                            expected.push((i, source, seq, m.clone()));
                            outstanding.push((r, source, m));
                        }
                        Op::Probe(r) => {
                            let (source, tag) = filter_from(&model, r.pick, r.any_source, r.any_tag);
                            let p = world.process_at_rank(source).probe_with_tag(tag).unwrap();
                            let (seq, m) = take_earliest(&mut model, p.source, tag);
                            assert_eq!((p.tag, p.bytes), (m.tag, m.len));
                            let (v, status) = world.process_at_rank(p.source).receive_vec_with_tag::<u8>(p.tag).unwrap();
                            assert_eq!((status.source, status.count), (p.source, m.len));
                            assert!(v == payload(p.source, seq, m.len), "the probed message was not received next");
                        }
                    }
                    if *flush {
                        check(&mut outstanding);
                    }
                }
                check(&mut outstanding);
            });
            for (i, source, seq, m) in expected {
                assert!(bufs[i][..m.len] == payload(source, seq, m.len), "immediate receive got the wrong message");
            }
            assert!(model.iter().all(Vec::is_empty));
        })
        .unwrap();
    }
}
