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
