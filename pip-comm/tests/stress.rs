//! Many messages of mixed sizes (every protocol), with their contents checked: nothing lost,
//! nothing duplicated, nothing reordered.

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, SimpleCommunicator};

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A message size: mostly small, some around the eager limit, a few large enough for the
/// shared chunked copy.
fn size(rng: &mut Rng, eager: usize) -> usize {
    match rng.below(100) {
        0..=49 => rng.below(64) as usize,
        50..=69 => rng.below(eager as u64 + 1) as usize,
        70..=84 => eager + rng.below(16 * 1024) as usize,
        85..=96 => rng.below(200_000) as usize,
        _ => 256 * 1024 + rng.below(400_000) as usize,
    }
}

/// The contents of message `seq` from `src` to `dst`.
fn contents(src: i32, dst: i32, seq: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((src as u64) << 48) ^ ((dst as u64) << 32) ^ seq);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// The lengths of the messages `src` sends to `dst`, from a generator both can replay.
fn lengths(src: i32, dst: i32, count: u64, eager: usize) -> Vec<usize> {
    let mut rng = Rng(0x1234_5678 ^ ((src as u64) << 20) ^ dst as u64);
    (0..count).map(|_| size(&mut rng, eager)).collect()
}

fn send_batch(world: &SimpleCommunicator, to: i32, count: u64) {
    let me = world.rank();
    for (seq, len) in lengths(me, to, count, world.eager_limit())
        .into_iter()
        .enumerate()
    {
        let seq = seq as u64;
        world
            .process_at_rank(to)
            .send_with_tag(&contents(me, to, seq, len), (seq % 7) as i32)
            .unwrap();
    }
}

fn receive_batch(world: &SimpleCommunicator, from: i32, count: u64) {
    let me = world.rank();
    for (seq, len) in lengths(from, me, count, world.eager_limit())
        .into_iter()
        .enumerate()
    {
        let seq = seq as u64;
        let (v, s) = world.process_at_rank(from).receive_vec::<u8>().unwrap();
        assert_eq!(
            (s.source, s.tag, s.count),
            (from, (seq % 7) as i32, len),
            "message {seq} {from}->{me}"
        );
        assert!(
            v == contents(from, me, seq, len),
            "message {seq} {from}->{me}: contents differ"
        );
    }
}

#[test]
fn pairwise_exchanges_of_mixed_sizes() {
    let _watchdog = common::watchdog("pairwise_exchanges_of_mixed_sizes");
    const N: usize = 8;
    const PER_ROUND: u64 = 40;
    run(N, |world| {
        let me = world.rank();
        // Round r pairs rank i with i ^ r; the lower rank sends first.
        for round in 1..N as i32 {
            let partner = me ^ round;
            if me < partner {
                send_batch(&world, partner, PER_ROUND);
                receive_batch(&world, partner, PER_ROUND);
            } else {
                receive_batch(&world, partner, PER_ROUND);
                send_batch(&world, partner, PER_ROUND);
            }
        }
        world.barrier().unwrap();
    })
    .unwrap();
}

#[test]
fn floods_of_small_messages_never_block_for_good() {
    let _watchdog = common::watchdog("floods_of_small_messages_never_block_for_good");
    const N: usize = 6;
    const FLOOD: u64 = 1500;
    run(N, |world| {
        let (me, n) = (world.rank(), world.size());
        if me == 0 {
            // Rank 0 is in a barrier while the others fill its rings many times over: it must
            // keep draining them for the others to reach the barrier.
            world.barrier().unwrap();
            let mut next = vec![0u64; n as usize];
            for _ in 0..FLOOD * (n as u64 - 1) {
                let (v, s) = world.any_process().receive::<u64>().unwrap();
                assert_eq!(v, next[s.source as usize]);
                next[s.source as usize] += 1;
            }
        } else {
            for i in 0..FLOOD {
                world.process_at_rank(0).send(&i).unwrap();
            }
            world.barrier().unwrap();
        }
        // Two ranks that both send many eager messages before receiving.
        if me == 1 || me == 2 {
            let peer = world.process_at_rank(3 - me);
            for i in 0..FLOOD {
                peer.send(&[i as u32; 16]).unwrap();
            }
            for i in 0..FLOOD {
                assert_eq!(peer.receive_vec::<u32>().unwrap().0, vec![i as u32; 16]);
            }
        }
        world.barrier().unwrap();
    })
    .unwrap();
}

/// The header of a message in [`a_million_messages`]: its id, then the checksum of the rest.
const HEADER: usize = 16;

/// Identifies message `seq` from `src` to `dst`.
fn message_id(src: i32, dst: i32, seq: u64) -> u64 {
    (src as u64) << 56 | (dst as u64) << 48 | seq
}

/// splitmix64's finaliser: a well-mixed 64-bit value from an id.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The size of message `id`, which both ends compute: half of them 0 to 64 bytes, 30% up to
/// the eager limit, 20% above it (rendezvous), up to 8 KiB past the limit.
fn million_size(id: u64, eager: usize) -> usize {
    let r = mix(id);
    let below = |n: usize| ((r >> 8) % n as u64) as usize;
    match r % 100 {
        0..=49 => below(65),
        50..=79 => below(eager + 1),
        80..=94 => eager + 1 + below(2 * 1024),
        _ => eager + 1 + below(8 * 1024),
    }
}

/// A checksum of `body`, word by word (cheap enough unoptimised).
fn checksum(body: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = 0xcbf2_9ce4_8422_2325 ^ body.len() as u64;
    let mut words = body.chunks_exact(8);
    for w in &mut words {
        h = (h ^ u64::from_le_bytes(w.try_into().unwrap()))
            .wrapping_mul(PRIME)
            .rotate_left(29);
    }
    for &b in words.remainder() {
        h = (h ^ b as u64).wrapping_mul(PRIME);
    }
    h
}

/// The header of message `id` whose body has checksum `sum`.
fn header(id: u64, sum: u64) -> [u8; HEADER] {
    let mut h = [0; HEADER];
    h[..8].copy_from_slice(&id.to_le_bytes());
    h[8..].copy_from_slice(&sum.to_le_bytes());
    h
}

/// Writes message `id` into `buf` (its whole length) and returns its checksum: the header,
/// then bytes from a generator seeded with the id. A message shorter than the header holds the
/// header's first bytes (its checksum is that of an empty body).
fn fill(buf: &mut [u8], id: u64) -> u64 {
    let n = buf.len().min(HEADER);
    let body = &mut buf[n..];
    let mut rng = Rng(mix(id) | 1);
    for chunk in body.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes()[..chunk.len()]);
    }
    let sum = checksum(body);
    buf[..n].copy_from_slice(&header(id, sum)[..n]);
    sum
}

/// Checks that `msg` is message `id` with its contents intact, and returns its checksum.
fn verify(msg: &[u8], id: u64) -> u64 {
    let n = msg.len().min(HEADER);
    let sum = checksum(&msg[n..]);
    assert!(
        msg[..n] == header(id, sum)[..n],
        "message {id:#x} of {} bytes: wrong id or checksum",
        msg.len()
    );
    sum
}

/// What a rank sent and received in [`a_million_messages`]: counts and sums of checksums.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Tally {
    sent: u64,
    received: u64,
    sent_sum: u64,
    received_sum: u64,
}

/// At least a million messages of mixed sizes (0 bytes to 8 KiB past the eager limit, so
/// both protocols), every rank sending to every other at once. Each message carries its id
/// and a checksum of its contents, which the receiver verifies; its tag is its sequence
/// number from that sender, so the receiver sees every message once and in order; at the
/// end, no rank has a message left over and the sums of checksums sent and received agree.
#[test]
fn a_million_messages() {
    let _watchdog = common::watchdog("a_million_messages");
    const N: usize = 4;
    const PER_PEER: u64 = 1_000_000 / (N as u64 * (N as u64 - 1)) + 1;
    // Messages to each peer in flight at once.
    const WINDOW: u64 = 32;
    let tallies = run(N, |world| {
        let (me, n) = (world.rank(), world.size());
        let eager = world.eager_limit();
        let peers: Vec<i32> = (1..n).map(|k| (me + k) % n).collect();
        let mut out = vec![Vec::<u8>::new(); peers.len() * WINDOW as usize];
        let mut inbox = vec![0u8; eager + 1 + 8 * 1024];
        let mut next = vec![0u64; n as usize];
        let mut tally = Tally::default();
        for start in (0..PER_PEER).step_by(WINDOW as usize) {
            let seqs = start..(start + WINDOW).min(PER_PEER);
            for (p, &peer) in peers.iter().enumerate() {
                for seq in seqs.clone() {
                    let id = message_id(me, peer, seq);
                    let buf = &mut out[p * WINDOW as usize + (seq - start) as usize];
                    buf.resize(million_size(id, eager), 0);
                    tally.sent_sum = tally.sent_sum.wrapping_add(fill(buf, id));
                }
            }
            pip_comm::request::scope(|scope| {
                // Every send of the window is posted before any receive: no rank waits for
                // a rendezvous send while its peer waits for it in turn.
                let mut sends = Vec::new();
                for (p, &peer) in peers.iter().enumerate() {
                    for seq in seqs.clone() {
                        let buf = &out[p * WINDOW as usize + (seq - start) as usize];
                        sends.push(
                            world
                                .process_at_rank(peer)
                                .immediate_send_with_tag(scope, &buf[..], seq as i32)
                                .unwrap(),
                        );
                    }
                }
                for seq in seqs.clone() {
                    for &peer in &peers {
                        let s = world
                            .process_at_rank(peer)
                            .receive_into(&mut inbox[..])
                            .unwrap();
                        let id = message_id(peer, me, seq);
                        assert_eq!(
                            (s.source, s.tag, s.count),
                            (peer, next[peer as usize] as i32, million_size(id, eager)),
                            "message {seq} {peer}->{me}: lost, duplicated or out of order"
                        );
                        next[peer as usize] += 1;
                        tally.received_sum = tally
                            .received_sum
                            .wrapping_add(verify(&inbox[..s.count], id));
                        tally.received += 1;
                    }
                }
                for s in pip_comm::request::wait_all(sends).unwrap() {
                    assert_eq!(s.source, me);
                    tally.sent += 1;
                }
            });
        }
        for &peer in &peers {
            assert_eq!(next[peer as usize], PER_PEER, "messages from {peer}");
        }
        // Every send has been received; nothing else may have arrived.
        world.barrier().unwrap();
        assert!(
            world.any_process().immediate_probe().unwrap().is_none(),
            "a message too many"
        );
        tally
    })
    .unwrap();
    let total = tallies.iter().fold(Tally::default(), |a, t| Tally {
        sent: a.sent + t.sent,
        received: a.received + t.received,
        sent_sum: a.sent_sum.wrapping_add(t.sent_sum),
        received_sum: a.received_sum.wrapping_add(t.received_sum),
    });
    assert!(total.sent >= 1_000_000, "only {} messages", total.sent);
    assert_eq!(total.received, total.sent);
    assert_eq!(total.received_sum, total.sent_sum);
}
