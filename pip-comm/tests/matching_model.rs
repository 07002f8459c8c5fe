//! Model-based tests of MPI matching: random programs of sends and receives (random tags,
//! sizes and wildcards, 2 to 8 ranks, blocking and non-blocking) checked against a reference
//! model.
//!
//! Ranks 1.. each send a random list of messages to rank 0, some with blocking sends, some
//! with immediate sends waited for at random points; sizes go from 0 bytes to 64 KiB, so
//! both below the eager limit and above it (rendezvous: the sender waits for the receiver).
//! Rank 0 receives them all with random filters, by blocking receives and by immediate ones
//! that it completes together (`wait_all`) at random points.
//!
//! The model holds, per sender, the messages no receive has taken, and checks only what MPI
//! guarantees. Once the receives posted so far are complete, it takes them in the order they
//! were posted: each gets, from the source its status names (the one it named, unless it
//! received from any source), the earliest message of that source that its tag filter
//! accepts among those no earlier receive took. Source, tag, count and payload are checked.
//!
//! Random MPI programs easily deadlock or leave a receive without a message; the filters are
//! chosen so that these cannot happen:
//! - A filter is built from an untaken message that is started (its sender is not stuck
//!   before it, at a rendezvous send or a wait for one that no receive has taken), its source
//!   and/or tag replaced by a wildcard at random. Which messages are started is recomputed
//!   whenever every posted receive is complete.
//! - A receive is posted only if the started untaken messages its filter accepts outnumber
//!   the incomplete receives posted before it that could take one of them: each of those
//!   takes at most one, and a receive posted later never takes a message an earlier one
//!   accepts while that one still waits. Otherwise rank 0 first completes what it has posted.

mod common;

use pip_comm::request::{scope, wait_all, Request};
use pip_comm::traits::*;
use pip_comm::{run, Status, ANY_SOURCE, ANY_TAG};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Msg {
    tag: i32,
    len: usize,
}

/// The payload of message `seq` from `src`: identifies it, and a block of it moved by a
/// multiple of 256 bytes would not look the same.
fn payload(src: i32, seq: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (src as usize * 131 + seq * 31 + i * 7 + (i >> 8) * 13) as u8)
        .collect()
}

/// A message size: mostly eager (at most 512 bytes, the default limit), some above the limit
/// up to 64 KiB.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..=48, 3 => 0usize..=512, 2 => 513usize..=4096, 1 => 513usize..=65536]
}

/// One message of a sender's program and how it is sent.
#[derive(Debug, Clone)]
struct Send {
    msg: Msg,
    /// An immediate send (else a blocking one).
    immediate: bool,
    /// After this message, wait for every immediate send not yet waited for.
    wait: bool,
}

/// A receive of rank 0: which started, untaken message to build the filter from (an index
/// into them, taken modulo their number), whether to make source and tag wildcards, whether
/// to receive at once, and whether to complete every posted receive afterwards.
#[derive(Debug, Clone)]
struct Recv {
    pick: usize,
    any_source: bool,
    any_tag: bool,
    blocking: bool,
    wait: bool,
}

fn program() -> impl Strategy<Value = (Vec<Vec<Send>>, Vec<Recv>)> {
    let send = (0i32..4, size(), any::<bool>(), prop::bool::weighted(0.2)).prop_map(
        |(tag, len, immediate, wait)| Send {
            msg: Msg { tag, len },
            immediate,
            wait,
        },
    );
    let senders = prop::collection::vec(prop::collection::vec(send, 0..20), 1..8);
    senders.prop_flat_map(|senders| {
        let total: usize = senders.iter().map(Vec::len).sum();
        let recv = (
            any::<usize>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(pick, any_source, any_tag, blocking, wait)| Recv {
                pick,
                any_source,
                any_tag,
                blocking,
                wait,
            });
        (Just(senders), prop::collection::vec(recv, total))
    })
}

/// The model: per source, the messages no receive has taken, with their sequence numbers.
type Model = Vec<Vec<(usize, Msg)>>;

/// Removes and returns the earliest pending message from `source` (a rank) that `tag`
/// accepts: what MPI says a receive from that source gets.
fn take_earliest(model: &mut Model, source: i32, tag: i32) -> (usize, Msg) {
    assert!(
        (1..=model.len() as i32).contains(&source),
        "a message from rank {source}, which sends none"
    );
    let list = &mut model[source as usize - 1];
    let k = list
        .iter()
        .position(|(_, m)| tag == ANY_TAG || m.tag == tag)
        .unwrap_or_else(|| panic!("no pending message from {source} with tag {tag}"));
    list.remove(k)
}

/// How many of `program`'s messages its sender has started (sent, or is sending) at most,
/// when the receiver has taken exactly the messages not in `pending`: a sender gets past a
/// blocking send above the eager limit, or a wait for immediate sends that include one, only
/// once the receiver has taken them. Eager sends never wait for the receiver.
fn started(program: &[Send], pending: &[(usize, Msg)], eager: usize) -> usize {
    let taken = |seq: usize| !pending.iter().any(|&(s, _)| s == seq);
    // Immediate rendezvous sends not yet waited for.
    let mut in_flight = Vec::new();
    for (seq, s) in program.iter().enumerate() {
        let rendezvous = s.msg.len > eager;
        if rendezvous && !s.immediate && !taken(seq) {
            return seq + 1;
        }
        if rendezvous && s.immediate {
            in_flight.push(seq);
        }
        if s.wait {
            if !in_flight.iter().all(|&k| taken(k)) {
                return seq + 1;
            }
            in_flight.clear();
        }
    }
    program.len()
}

/// Whether the filter (`source`, `tag`) accepts a message from `from` with tag `t`.
fn accepts((source, tag): (i32, i32), from: i32, t: i32) -> bool {
    (source == ANY_SOURCE || source == from) && (tag == ANY_TAG || tag == t)
}

/// A receive posted since rank 0 last completed everything.
struct Posted {
    /// Its filter: the source it named (or ANY_SOURCE) and its tag (or ANY_TAG).
    filter: (i32, i32),
    got: Got,
}

/// What a receive got.
enum Got {
    /// An immediate receive: the buffer it receives into (its status comes from its request).
    Buffer(usize),
    /// A blocking receive: its status and data.
    Data(Status, Vec<u8>),
}

/// Completes every posted immediate receive, then takes the receives of `posted` in the
/// order they were posted and checks each against the model. Payloads in buffers still lent
/// to the scope are checked later: `later` gets (buffer, source, sequence number, length).
fn complete(
    model: &mut Model,
    requests: &mut Vec<Request<'_>>,
    posted: &mut Vec<Posted>,
    later: &mut Vec<(usize, i32, usize, usize)>,
) {
    let mut statuses = wait_all(std::mem::take(requests)).unwrap().into_iter();
    for p in posted.drain(..) {
        let (status, data) = match p.got {
            Got::Buffer(buf) => (statuses.next().unwrap(), Err(buf)),
            Got::Data(status, v) => (status, Ok(v)),
        };
        let (source, tag) = p.filter;
        if source != ANY_SOURCE {
            assert_eq!(
                status.source, source,
                "a receive from {source} got {status:?}"
            );
        }
        let (seq, m) = take_earliest(model, status.source, tag);
        assert_eq!(
            (status.tag, status.count),
            (m.tag, m.len),
            "message {seq} from {}",
            status.source
        );
        match data {
            Ok(v) => assert!(
                v == payload(status.source, seq, m.len),
                "wrong payload for message {seq} from {}",
                status.source
            ),
            Err(buf) => later.push((buf, status.source, seq, m.len)),
        }
    }
    assert!(statuses.next().is_none());
}

/// The filter of receive `r` if it may be posted now: built from the message `r` picks among
/// the started untaken ones (`avail` per source), or if that filter could be left without a
/// message, from the next one whose filter cannot.
fn choose_filter(
    r: &Recv,
    model: &Model,
    avail: &[usize],
    posted: &[Posted],
) -> Option<(i32, i32)> {
    // (source rank, tag) of every started untaken message.
    let started: Vec<(i32, i32)> = model
        .iter()
        .zip(avail)
        .enumerate()
        .flat_map(|(s, (list, &a))| {
            list.iter()
                .filter(move |(seq, _)| *seq < a)
                .map(move |(_, m)| (s as i32 + 1, m.tag))
        })
        .collect();
    (0..started.len()).find_map(|k| {
        let (from, t) = started[(r.pick + k) % started.len()];
        let filter = (
            if r.any_source { ANY_SOURCE } else { from },
            if r.any_tag { ANY_TAG } else { t },
        );
        let mine: Vec<_> = started
            .iter()
            .filter(|&&(f, t)| accepts(filter, f, t))
            .collect();
        let rivals = posted
            .iter()
            .filter(|p| mine.iter().any(|&&(f, t)| accepts(p.filter, f, t)))
            .count();
        (mine.len() > rivals).then_some(filter)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Blocking and immediate sends of all sizes against blocking and immediate receives
    /// with wildcards (see the module documentation).
    #[test]
    fn matching_follows_the_mpi_rules((senders, receives) in program()) {
        let _watchdog = common::watchdog("matching_follows_the_mpi_rules");
        let n = senders.len() + 1;
        let longest = senders.iter().flatten().map(|s| s.msg.len).max().unwrap_or(0);
        run(n, |world| {
            let me = world.rank();
            let eager = world.eager_limit();
            if me > 0 {
                let program = &senders[me as usize - 1];
                let payloads: Vec<Vec<u8>> = program
                    .iter()
                    .enumerate()
                    .map(|(seq, s)| payload(me, seq, s.msg.len))
                    .collect();
                let to = world.process_at_rank(0);
                scope(|scope| {
                    let mut requests = Vec::new();
                    let mut sent = Vec::new();
                    let check = |requests: &mut Vec<_>, sent: &mut Vec<&Msg>| {
                        let statuses = wait_all(std::mem::take(requests)).unwrap();
                        for (status, m) in statuses.into_iter().zip(sent.drain(..)) {
                            let got = (status.source, status.tag, status.count);
                            assert_eq!(got, (me, m.tag, m.len));
                        }
                    };
                    for (s, data) in program.iter().zip(&payloads) {
                        if s.immediate {
                            let r = to.immediate_send_with_tag(scope, &data[..], s.msg.tag);
                            requests.push(r.unwrap());
                            sent.push(&s.msg);
                        } else {
                            to.send_with_tag(&data[..], s.msg.tag).unwrap();
                        }
                        if s.wait {
                            check(&mut requests, &mut sent);
                        }
                    }
                    check(&mut requests, &mut sent);
                });
                return;
            }
            let mut model: Model = senders
                .iter()
                .map(|program| program.iter().map(|s| s.msg.clone()).enumerate().collect())
                .collect();
            let started_now = |model: &Model| -> Vec<usize> {
                senders
                    .iter()
                    .zip(model)
                    .map(|(program, pending)| started(program, pending, eager))
                    .collect()
            };
            let mut bufs: Vec<Vec<u8>> = (0..receives.len()).map(|_| vec![0u8; longest]).collect();
            let mut scratch = vec![0u8; longest];
            let mut later = Vec::new();
            scope(|scope| {
                let mut free = bufs.iter_mut().enumerate();
                let mut requests = Vec::new();
                let mut posted: Vec<Posted> = Vec::new();
                // How many messages of each sender are started, as of the last completion.
                let mut avail = started_now(&model);
                for r in &receives {
                    let filter = match choose_filter(r, &model, &avail, &posted) {
                        Some(f) => f,
                        None => {
                            complete(&mut model, &mut requests, &mut posted, &mut later);
                            avail = started_now(&model);
                            choose_filter(r, &model, &avail, &posted).unwrap()
                        }
                    };
                    let (source, tag) = filter;
                    let from = world.process_at_rank(source);
                    let got = if r.blocking {
                        // Into a new Vec or into a buffer, at random.
                        let (v, status) = if r.pick % 2 == 0 {
                            from.receive_vec_with_tag::<u8>(tag).unwrap()
                        } else {
                            let status = from.receive_into_with_tag(&mut scratch[..], tag).unwrap();
                            (scratch[..status.count].to_vec(), status)
                        };
                        Got::Data(status, v)
                    } else {
                        let (k, buf) = free.next().unwrap();
                        let req = from.immediate_receive_into_with_tag(scope, &mut buf[..], tag);
                        requests.push(req.unwrap());
                        Got::Buffer(k)
                    };
                    posted.push(Posted { filter, got });
                    if r.wait {
                        complete(&mut model, &mut requests, &mut posted, &mut later);
                        avail = started_now(&model);
                    }
                }
                complete(&mut model, &mut requests, &mut posted, &mut later);
            });
            for (k, source, seq, len) in later {
                let ok = bufs[k][..len] == payload(source, seq, len);
                assert!(ok, "wrong payload for message {seq} from {source}");
            }
            assert!(model.iter().all(Vec::is_empty));
        })
        .unwrap();
    }
}

/// A filter of the mixed program: which pending message to build it from (an index into all
/// pending messages, taken modulo their number), and whether to make source and tag wildcards.
#[derive(Debug, Clone)]
struct Filter {
    pick: usize,
    any_source: bool,
    any_tag: bool,
}

/// One operation of rank 0 in the mixed program. Each consumes one message.
#[derive(Debug, Clone)]
enum Op {
    /// A blocking receive.
    Blocking(Filter),
    /// A non-blocking receive from a named source (any tag or the message's), completed later.
    Immediate { pick: usize, any_tag: bool },
    /// A blocking probe, then a receive of exactly the probed message by its source and tag.
    Probe(Filter),
}

fn mixed_program() -> impl Strategy<Value = (Vec<Vec<Msg>>, Vec<(Op, bool)>)> {
    let msg =
        (0i32..4, prop_oneof![0usize..=48, 0usize..=512]).prop_map(|(tag, len)| Msg { tag, len });
    let senders = prop::collection::vec(prop::collection::vec(msg, 0..25), 1..8);
    senders.prop_flat_map(|senders| {
        let total: usize = senders.iter().map(Vec::len).sum();
        let recv = (any::<usize>(), any::<bool>(), any::<bool>()).prop_map(
            |(pick, any_source, any_tag)| Filter {
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    /// Blocking receives, immediate receives and probes interleaved (2 to 8 ranks, blocking
    /// sends of at most 512 bytes): receives match in the order they were issued, whatever
    /// mix of kinds, and probes name the message the next matching receive gets.
    #[test]
    fn matching_holds_across_immediate_receives_and_probes((senders, ops) in mixed_program()) {
        let _watchdog = common::watchdog("matching_holds_across_immediate_receives_and_probes");
        let n = senders.len() + 1;
        run(n, |world| {
            // Blocking sends that never wait for the receiver: some orders of this program
            // would deadlock with rendezvous messages, as in MPI.
            assert!(world.eager_limit() >= 512, "the test needs an eager limit of at least 512");
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
